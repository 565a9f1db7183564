import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { baselineKey, baselinePeaks, compareWithBaseline, parseBaseline, parseMaxGrowth } from '../core/bench-baseline.js';
import { JOURNAL_FILE, formatJournalLine, parseJournal, runKey } from '../core/bench-journal.js';
import { planBench, resolveCompiler, compilerFromOverride, sourceBytes, type BenchTarget } from '../core/bench-plan.js';
import { brokenPackages, buildReport, missingRuns, type MeasuredTarget } from '../core/bench-report.js';
import { deltaText, renderMarkdownReport } from '../core/bench-report-md.js';
import { renderSvgReport } from '../core/bench-report-svg.js';
import { estimatePeakRss } from '../core/bench-schedule.js';
import { checkTask, scriptTask, solutionTask, type BenchTask } from '../core/bench-task.js';
import type { BenchEnvironment, BenchReport, CompilerInfo, JournalEntry, RunFigures } from '../core/bench-types.js';
import { UsageError, quote } from '../core/errors.js';
import { detectMemoryLimit } from '../core/memory-limit.js';
import { formatBytes, parseByteSize } from '../core/size.js';
import { runJobs, type BenchJob } from '../effects/bench-run.js';
import { buildProject, isBuilt, readProjectConfig, type ProjectConfig } from '../effects/compiler-project.js';
import { writeFileAtomic } from '../effects/write-file-atomic.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  filter: { type: 'string', multiple: true },
  compiler: { type: 'string' },
  runs: { type: 'string' },
  concurrency: { type: 'string' },
  budget: { type: 'string' },
  timeout: { type: 'string' },
  warm: { type: 'boolean' },
  script: { type: 'string' },
  solution: { type: 'boolean' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  json: { type: 'boolean' },
  baseline: { type: 'string' },
  'max-growth': { type: 'string' },
} as const;

const USAGE = [
  'Usage: memtune bench [options]',
  '',
  "Measures each workspace package's type-check with the compiler it resolves: peak RSS of the process tree,",
  'peak used and retained V8 heap (JS compilers), Go heap (native), wall and CPU time, the compiler diagnostics.',
  'Run at a workspace root to measure every package with a tsconfig.json, inside a package to measure it alone.',
  '',
  'Options:',
  '  --filter=GLOB       only packages whose name or directory matches (repeatable; * and ** are globs)',
  '  --compiler=PATH     use this typescript package (or its bin/tsc) for every package',
  '  --runs=N            measure each package N times; the report gives median, min and max (default 1)',
  '  --concurrency=N     measure up to N packages at once (default: the core count); timings taken in parallel are marked',
  '  --budget=SIZE|N%    start a package only while the expected peak RSS of all running ones fits (default 80%)',
  '  --timeout=SECONDS   stop a run after this long and report it as timeout (default 600)',
  '  --warm              measure the incremental re-check beside the package\'s own .tsbuildinfo (writes it)',
  '  --script=NAME       measure the package\'s npm script NAME instead of a type-check (e.g. build, test)',
  '  --solution          also measure `tsc -b --force` at the root as one process',
  '  --out=DIR           where the journal and reports go (default: .memtune at the workspace root)',
  '  --resume            continue an interrupted bench from its journal, measuring only what is missing',
  '  --json              print the report JSON on stdout instead of the table',
  '  --baseline=FILE     compare with an earlier memtune-report.json; exit 1 when a memory figure regressed',
  '  --max-growth=N%     how much a figure may grow over the baseline (default 10%; growth under 8 MiB never counts)',
  '',
  'Writes memtune-report.json, .md and .svg into --out; each finished run is appended to memtune-journal.jsonl.',
  'Exits 1 when a run ran out of memory, timed out, was killed or crashed, or a figure regressed against --baseline;',
  'type errors do not fail the bench.',
  'See docs/bench.md.',
].join('\n');

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`memtune: --${name} ${quote(text)} is not a positive whole number.\nWrite e.g. --${name}=2`);
  }
  return value;
}

function parseBudget(text: string | undefined, limit: number): number {
  if (text === undefined) return Math.floor(limit * 0.8);
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const bytes = percent ? (Number(percent[1]) / 100) * limit : parseByteSize(text);
  if (bytes === undefined || !(bytes > 0) || (percent && Number(percent[1]) > 100)) {
    throw new UsageError(
      `memtune: --budget ${quote(text)} is not a memory size.\nWrite a share of the memory limit (--budget=70%) or a size with a binary unit (--budget=6GiB).`,
    );
  }
  return Math.floor(bytes);
}

/** Fails before anything runs when --out cannot take our files. */
function ensureWritable(out: string, given: string): void {
  try {
    mkdirSync(out, { recursive: true });
    const probe = join(out, `.memtune-write-check-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    throw new UsageError(
      `memtune: --out ${quote(given)} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).\n` +
        'Pass a directory you can write to, e.g. --out .memtune',
    );
  }
}

function readBaseline(given: string, cwd: string): BenchReport {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, given), 'utf8');
  } catch (error) {
    throw new UsageError(
      `memtune: --baseline ${quote(given)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).\n` +
        "Pass the memtune-report.json of an earlier run, e.g. your main branch's CI artifact.",
    );
  }
  return parseBaseline(text, given);
}

function gitCommit(root: string): string | null {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

function environmentOf(root: string, compilers: CompilerInfo[]): BenchEnvironment {
  const limit = detectMemoryLimit();
  const versions = new Map(compilers.map((compiler) => [compiler.version, compiler.native]));
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: { model: cpus()[0]?.model ?? 'unknown', count: availableParallelism() },
    memoryLimit: { bytes: limit.bytes, source: limit.source, detail: limit.detail },
    gitCommit: gitCommit(root),
    compilers: [...versions].map(([version, native]) => ({ version, native })).sort((a, b) => a.version.localeCompare(b.version)),
  };
}

function describeRun(figures: RunFigures): string {
  const parts: string[] = [figures.status === 'failed' ? `failed (exit ${figures.exitCode})` : figures.status];
  if (figures.peakRssBytes !== null) parts.push(`${formatBytes(figures.peakRssBytes)} peak RSS`);
  if (figures.peakHeapUsedBytes !== null) parts.push(`${formatBytes(figures.peakHeapUsedBytes)} peak heap`);
  if (figures.goHeapPeakBytes !== null) parts.push(`${formatBytes(figures.goHeapPeakBytes)} Go heap`);
  parts.push(`${(figures.wallMs / 1000).toFixed(2)} s`);
  return parts.join(', ');
}

/** Live progress: one rewritten line on a terminal, plain lines otherwise (CI logs). */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly running = new Map<BenchJob, number>();
  private done = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly total: number) {
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  started(job: BenchJob): void {
    this.running.set(job, performance.now());
    if (!this.tty) this.line(`${job.label} started`);
    else this.draw();
  }

  ended(job: BenchJob, figures: RunFigures): void {
    this.running.delete(job);
    this.done++;
    this.line(`[${this.done}/${this.total}] ${job.label}: ${describeRun(figures)}`);
  }

  line(text: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`${text}\n`);
    if (this.tty) this.draw();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty) process.stderr.write('\r\x1b[K');
  }

  private draw(): void {
    const now = performance.now();
    const names = [...this.running].map(([job, since]) => `${job.label} ${((now - since) / 1000).toFixed(1)}s`);
    const text = `[${this.done}/${this.total}] ${names.join(', ') || 'waiting'}`;
    process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns || 80) - 1)}`);
  }
}

/** A target as this bench will measure it. */
type Planned = MeasuredTarget & { estimate: number; spec: BenchTask };

/**
 * Each project as its compiler resolves it, read side by side: one `tsc --showConfig` per project is
 * the bench's fixed cost before anything is measured.
 */
async function readConfigs(requests: Array<{ compiler: CompilerInfo; tsconfig: string }>, known: Map<string, ProjectConfig>): Promise<void> {
  const missing = [...new Map(requests.map((request) => [request.tsconfig, request])).values()].filter((request) => !known.has(request.tsconfig));
  const configs = await Promise.all(missing.map((request) => readProjectConfig(request.compiler, request.tsconfig, process.env)));
  for (const config of configs) known.set(config.tsconfig, config);
}

/**
 * A package that references other projects cannot be checked alone until they are built (TS6305):
 * build the missing ones first, outside the measurement; `tsc -b` builds what they reference in turn.
 */
async function buildReferences(targets: BenchTarget[], root: string, configs: Map<string, ProjectConfig>, progress: (text: string) => void): Promise<void> {
  const references = targets.flatMap((target) => configs.get(target.tsconfig)!.references.map((tsconfig) => ({ target, tsconfig })));
  await readConfigs(references.map(({ target, tsconfig }) => ({ compiler: target.compiler, tsconfig })), configs);
  const done = new Set<string>();
  for (const { target, tsconfig } of references) {
    // Checked again here: building an earlier reference may have built this one too.
    if (done.has(tsconfig) || isBuilt(configs.get(tsconfig)!)) continue;
    done.add(tsconfig);
    progress(`building ${relative(root, tsconfig).replaceAll('\\', '/')} first (${target.name} references it)`);
    buildProject(target.compiler, tsconfig, process.env);
  }
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (error) {
    throw new UsageError(`memtune: ${(error as Error).message}\nRun memtune bench --help for the options.`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cwd = process.cwd();
  const runs = positiveInteger('runs', values.runs, 1);
  const concurrency = positiveInteger('concurrency', values.concurrency, availableParallelism());
  const timeoutSeconds = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!(timeoutSeconds > 0)) {
    throw new UsageError(`memtune: --timeout ${quote(values.timeout ?? '')} is not a positive number of seconds.\nWrite e.g. --timeout=900`);
  }
  const limit = detectMemoryLimit();
  const budgetBytes = parseBudget(values.budget, limit.bytes);
  if (values.script !== undefined && values.warm) {
    throw new UsageError('memtune: --warm and --script cannot be combined: --warm is about the type-check.\nDrop one of them.');
  }
  if (values['max-growth'] !== undefined && values.baseline === undefined) {
    throw new UsageError('memtune: --max-growth needs --baseline: it is the growth allowed over an earlier report.\nAdd --baseline=path/to/memtune-report.json');
  }
  const maxGrowth = parseMaxGrowth(values['max-growth'] ?? '10%');
  const baseline = values.baseline === undefined ? undefined : readBaseline(values.baseline, cwd);
  const baselinePeak = baseline ? baselinePeaks(baseline) : new Map<string, number>();
  const plan = planBench({ cwd, filters: values.filter ?? [], ...(values.compiler === undefined ? {} : { compilerOverride: values.compiler }) });

  const outGiven = values.out ?? join(relative(cwd, plan.root) || '.', '.memtune');
  const out = resolve(cwd, outGiven);
  const journalPath = join(out, JOURNAL_FILE);
  let previous: JournalEntry[] = [];
  if (values.resume) {
    let text = '';
    try {
      text = readFileSync(journalPath, 'utf8');
    } catch {
      process.stderr.write(`memtune: no journal at ${journalPath} yet; measuring everything.\n`);
    }
    const parsed = parseJournal(text, relative(cwd, journalPath) || journalPath);
    previous = parsed.entries;
    if (parsed.note) process.stderr.write(`memtune: ${parsed.note}\n`);
  }

  const script = values.script;
  const targets = script === undefined ? plan.targets : plan.targets.filter((target) => {
    const manifest = JSON.parse(readFileSync(join(target.dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    if (manifest.scripts?.[script] !== undefined) return true;
    plan.skipped.push({ name: target.name, dir: target.relDir, reason: `no ${quote(script)} script in package.json` });
    return false;
  });

  let solution: Planned | undefined;
  if (values.solution) {
    const tsconfig = join(plan.root, 'tsconfig.json');
    const compiler = values.compiler === undefined ? resolveCompiler(plan.root) : compilerFromOverride(values.compiler, cwd);
    if (!compiler) {
      throw new UsageError(`memtune: --solution needs the root's typescript, and ${plan.root} resolves none.\nInstall it at the root (npm i -D typescript) or pass --compiler.`);
    }
    const config = await readProjectConfig(compiler, tsconfig, process.env);
    if (config.references.length === 0) {
      throw new UsageError(`memtune: --solution builds the root ${tsconfig} with tsc -b, but it has no references.\nAdd the packages as references (see presets/tsconfig/solution.json), or drop --solution.`);
    }
    const task = solutionTask(plan.root, tsconfig, compiler, { node: process.execPath, godebug: process.env.GODEBUG });
    solution = { key: runKey('.', task.task, compiler.path), name: '(solution)', dir: '.', task: task.task, spec: task, compiler, estimate: estimatePeakRss(compiler.native, sourceBytes(plan.root)) };
  }

  if (targets.length === 0 && !solution) {
    const reasons = plan.skipped.map((pkg) => `  ${pkg.name} (${pkg.dir}): ${pkg.reason}`).join('\n');
    throw new UsageError(`memtune: nothing to measure in ${plan.root}:\n${reasons || '  no packages'}\nGive the packages a tsconfig.json and a typescript to resolve, or pass --compiler.`, 1);
  }

  ensureWritable(out, outGiven);
  // A script is run as it is; a type-check needs each project's build info path and references first.
  const configs = new Map<string, ProjectConfig>();
  if (script === undefined) {
    await readConfigs(targets, configs);
    await buildReferences(targets, plan.root, configs, (text) => process.stderr.write(`${text}\n`));
  }

  const scratch = mkdtempSync(join(tmpdir(), 'memtune-bench-'));
  const measured: Array<Planned> = targets.map((target, index) => {
    const task =
      script !== undefined
        ? scriptTask(target, script, { godebug: process.env.GODEBUG })
        : checkTask(target, {
            node: process.execPath,
            warm: values.warm === true,
            godebug: process.env.GODEBUG,
            ...(configs.get(target.tsconfig)!.incremental ? { buildInfoFile: join(scratch, `${index}.tsbuildinfo`) } : {}),
          });
    return {
      key: runKey(target.relDir, task.task, target.compiler.path),
      name: target.name,
      dir: target.relDir,
      task: task.task,
      spec: task,
      compiler: target.compiler,
      estimate: baselinePeak.get(baselineKey(target.name, task.task)) ?? estimatePeakRss(target.compiler.native, sourceBytes(target.dir)),
    };
  });
  const all = solution ? [...measured, solution] : measured;

  if (values.warm) {
    // The re-check is only warm beside build info from a previous check: make one, unmeasured.
    for (const { spec } of measured) {
      spawnSync(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: 'ignore' });
    }
  }

  if (!values.resume) writeFileSync(journalPath, '');
  const entries = [...previous];
  const jobs: BenchJob[] = all.flatMap((target) =>
    missingRuns(target.key, previous, runs).map((runNumber) => ({
      key: target.key,
      label: runs > 1 ? `${target.name} #${runNumber}` : target.name,
      run: runNumber,
      task: target.spec,
    })),
  );
  // The root rebuild competes with every package for memory and cores: measure it alone, last.
  const solutionJobs = solution ? jobs.filter((job) => job.key === solution.key) : [];
  const byKey = new Map(all.map((target) => [target.key, target]));
  // Largest expected first: the big ones bound how long the bench takes and how tightly the budget packs.
  const packageJobs = jobs.filter((job) => !solutionJobs.includes(job)).sort((a, b) => byKey.get(b.key)!.estimate - byKey.get(a.key)!.estimate);

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const live = new Progress(jobs.length);
  const record = (job: BenchJob, figures: RunFigures) => {
    const target = byKey.get(job.key)!;
    const entry: JournalEntry = { schemaVersion: 1, key: job.key, name: target.name, dir: target.dir, run: job.run, compiler: target.compiler, task: target.task, figures };
    appendFileSync(journalPath, formatJournalLine(entry));
    entries.push(entry);
    live.ended(job, figures);
  };
  const common = {
    budgetBytes,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    estimate: (key: string) => byKey.get(key)!.estimate,
    signal: controller.signal,
    onStart: (job: BenchJob) => live.started(job),
    onEnd: record,
  };
  try {
    await runJobs({ ...common, jobs: packageJobs, concurrency });
    await runJobs({ ...common, jobs: solutionJobs, concurrency: 1 });
  } finally {
    live.stop();
    rmSync(scratch, { recursive: true, force: true });
  }

  const report = buildReport({
    generatedAt: new Date().toISOString(),
    root: plan.root,
    environment: environmentOf(plan.root, all.map((target) => target.compiler)),
    options: { runs, concurrency, budgetBytes, warm: values.warm === true, script: script ?? null, timeoutMs: common.timeoutMs },
    targets: measured,
    entries,
    skipped: plan.skipped,
    ...(solution ? { solution } : {}),
  });
  if (baseline) report.baseline = compareWithBaseline(report, baseline, values.baseline!, maxGrowth);
  writeReport(out, report);
  // Only now: a second Ctrl-C while the report is written must not lose it.
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderMarkdownReport(report)}\n`);
  const shown = relative(cwd, out).startsWith('..') ? out : relative(cwd, out) || '.';
  process.stderr.write(`memtune: wrote ${join(shown, 'memtune-report.json')}, .md and .svg\n`);
  if (controller.signal.aborted) {
    process.stderr.write(`memtune: interrupted; ${entries.length - previous.length} of ${jobs.length} runs finished and are kept.\nRun memtune bench --resume to measure the rest.\n`);
    return 130;
  }
  const broken = brokenPackages(report);
  for (const pkg of broken) {
    const tail = pkg.runs.find((figures) => figures.status === pkg.status)?.outputTail;
    process.stderr.write(`memtune: ${pkg.name} (${pkg.dir}): ${pkg.task} ended ${pkg.status}${pkg.exitCode !== null ? ` (exit ${pkg.exitCode})` : ''}${tail ? `:\n${tail}` : ''}\n`);
  }
  const regressed = report.baseline?.packages.filter((pkg) => pkg.deltas.some((delta) => delta.over)) ?? [];
  for (const pkg of regressed) {
    const over = pkg.deltas.filter((delta) => delta.over).map(deltaText).join(', ');
    process.stderr.write(`memtune: ${pkg.name} (${pkg.dir}) regressed against ${values.baseline}: ${over}.\n`);
  }
  if (regressed.length > 0) {
    process.stderr.write('Find what grew (docs/bench.md), or accept the new figures by making this report the baseline.\n');
  }
  return broken.length > 0 || regressed.length > 0 ? 1 : 0;
}

function writeReport(out: string, report: BenchReport): void {
  writeFileAtomic(join(out, 'memtune-report.json'), `${JSON.stringify(report, null, 2)}\n`, true);
  writeFileAtomic(join(out, 'memtune-report.md'), `${renderMarkdownReport(report)}\n`, true);
  writeFileAtomic(join(out, 'memtune-report.svg'), `${renderSvgReport(report)}\n`, true);
}
