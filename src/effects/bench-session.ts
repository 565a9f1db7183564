import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { baselineKey, baselinePeaks, compareWithBaseline, parseBaseline } from '../core/bench-baseline.js';
import { JOURNAL_FILE, formatJournalLine, parseJournal, runKey } from '../core/bench-journal.js';
import { compilerFromOverride, expandSolutionTargets, planBench, resolveCompiler, sourceBytes, type BenchTarget } from '../core/bench-plan.js';
import { buildReport, missingRuns, type MeasuredTarget } from '../core/bench-report.js';
import { renderMarkdownReport } from '../core/bench-report-md.js';
import { renderSvgReport } from '../core/bench-report-svg.js';
import { estimatePeakRss } from '../core/bench-schedule.js';
import { checkTask, scriptTask, solutionTask, type BenchTask } from '../core/bench-task.js';
import type { BenchEnvironment, BenchReport, CompilerInfo, JournalEntry, RunFigures, SkippedPackage } from '../core/bench-types.js';
import { UsageError, quote } from '../core/errors.js';
import type { MemoryLimit } from '../core/memory-limit.js';
import { readManifest } from '../core/workspace.js';
import { runJobs, type BenchJob } from './bench-run.js';
import { buildProject, isBuilt, readProjectConfig, type ProjectConfig } from './compiler-project.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** What `memtune bench` was asked to do, parsed and checked by the command. */
export interface BenchOptions {
  cwd: string;
  filters: string[];
  compiler?: string;
  runs: number;
  concurrency: number;
  budgetBytes: number;
  /** The limit the budget was sized from; the report's environment shows it. */
  memoryLimit: MemoryLimit;
  timeoutMs: number;
  warm: boolean;
  script?: string;
  solution: boolean;
  /** `--out` as given; default `.memtune` at the workspace root. */
  out?: string;
  resume: boolean;
  baseline?: { file: string; maxGrowth: number };
}

/** Where the session reports what happens; the command decides how to show it. */
export interface BenchHooks {
  notice: (text: string) => void;
  planned: (runs: number) => void;
  started: (job: BenchJob) => void;
  ended: (job: BenchJob, figures: RunFigures) => void;
}

export interface BenchOutcome {
  report: BenchReport;
  /** Absolute. */
  out: string;
  interrupted: boolean;
  plannedRuns: number;
  finishedRuns: number;
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

function environmentOf(root: string, compilers: CompilerInfo[], limit: MemoryLimit): BenchEnvironment {
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

function nothingToMeasure(root: string, skipped: SkippedPackage[]): UsageError {
  const reasons = skipped.map((pkg) => `  ${pkg.name} (${pkg.dir}): ${pkg.reason}`).join('\n');
  return new UsageError(`memtune: nothing to measure in ${root}:\n${reasons || '  no packages'}\nGive the packages a tsconfig.json and a typescript to resolve, or pass --compiler.`, 1);
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

/**
 * A whole bench: plan, build what the packages reference, measure every run (several at once under
 * the memory budget), journal each run as it ends, and write the reports atomically. After `signal`
 * aborts, nothing new starts, the running children are killed, and the report has what finished.
 */
export async function runBench(options: BenchOptions, hooks: BenchHooks, signal: AbortSignal): Promise<BenchOutcome> {
  const { cwd, runs, concurrency, budgetBytes } = options;
  const baseline = options.baseline === undefined ? undefined : readBaseline(options.baseline.file, cwd);
  const baselinePeak = baseline ? baselinePeaks(baseline) : new Map<string, number>();
  const plan = planBench({ cwd, filters: options.filters, ...(options.compiler === undefined ? {} : { compilerOverride: options.compiler }) });

  const outGiven = options.out ?? join(relative(cwd, plan.root) || '.', '.memtune');
  const out = resolve(cwd, outGiven);
  const journalPath = join(out, JOURNAL_FILE);
  let previous: JournalEntry[] = [];
  if (options.resume) {
    let text = '';
    try {
      text = readFileSync(journalPath, 'utf8');
    } catch {
      hooks.notice(`memtune: no journal at ${journalPath} yet; measuring everything.`);
    }
    const parsed = parseJournal(text, relative(cwd, journalPath) || journalPath);
    previous = parsed.entries;
    if (parsed.note) hooks.notice(`memtune: ${parsed.note}`);
  }

  const script = options.script;
  let targets = script === undefined ? plan.targets : plan.targets.filter((target) => {
    if (readManifest(target.dir)?.scripts?.[script] !== undefined) return true;
    plan.skipped.push({ name: target.name, dir: target.relDir, reason: `no ${quote(script)} script in package.json` });
    return false;
  });

  let solution: Planned | undefined;
  if (options.solution) {
    const tsconfig = join(plan.root, 'tsconfig.json');
    const compiler = options.compiler === undefined ? resolveCompiler(plan.root) : compilerFromOverride(options.compiler, cwd);
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

  if (targets.length === 0 && !solution) throw nothingToMeasure(plan.root, plan.skipped);

  ensureWritable(out, outGiven);
  // A script is run as it is; a type-check needs each project's build info path and references first.
  const configs = new Map<string, ProjectConfig>();
  if (script === undefined) {
    await readConfigs(targets, configs);
    const expanded = expandSolutionTargets(targets, configs);
    plan.skipped.push(...expanded.skipped);
    targets = expanded.targets;
    if (targets.length === 0 && !solution) throw nothingToMeasure(plan.root, plan.skipped);
    await readConfigs(targets, configs);
    await buildReferences(targets, plan.root, configs, hooks.notice);
  }

  const scratch = mkdtempSync(join(tmpdir(), 'memtune-bench-'));
  const measured: Array<Planned> = targets.map((target, index) => {
    const task =
      script !== undefined
        ? scriptTask(target, script, { godebug: process.env.GODEBUG })
        : checkTask(target, {
            node: process.execPath,
            warm: options.warm,
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

  if (options.warm) {
    // The re-check is only warm beside build info from a previous check: make one, unmeasured.
    for (const { spec } of measured) {
      spawnSync(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: 'ignore' });
    }
  }

  if (!options.resume) writeFileSync(journalPath, '');
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

  hooks.planned(jobs.length);
  const record = (job: BenchJob, figures: RunFigures) => {
    const target = byKey.get(job.key)!;
    const entry: JournalEntry = { schemaVersion: 1, key: job.key, name: target.name, dir: target.dir, run: job.run, compiler: target.compiler, task: target.task, figures };
    appendFileSync(journalPath, formatJournalLine(entry));
    entries.push(entry);
    hooks.ended(job, figures);
  };
  const common = {
    budgetBytes,
    timeoutMs: options.timeoutMs,
    estimate: (key: string) => byKey.get(key)!.estimate,
    signal,
    onStart: hooks.started,
    onEnd: record,
  };
  try {
    await runJobs({ ...common, jobs: packageJobs, concurrency });
    await runJobs({ ...common, jobs: solutionJobs, concurrency: 1 });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const report = buildReport({
    generatedAt: new Date().toISOString(),
    root: plan.root,
    environment: environmentOf(plan.root, all.map((target) => target.compiler), options.memoryLimit),
    options: { runs, concurrency, budgetBytes, warm: options.warm, script: script ?? null, timeoutMs: options.timeoutMs },
    targets: measured,
    entries,
    skipped: plan.skipped,
    ...(solution ? { solution } : {}),
  });
  if (baseline) report.baseline = compareWithBaseline(report, baseline, options.baseline!.file, options.baseline!.maxGrowth);
  writeReport(out, report);

  return { report, out, interrupted: signal.aborted, plannedRuns: jobs.length, finishedRuns: entries.length - previous.length };
}

function writeReport(out: string, report: BenchReport): void {
  writeFileAtomic(join(out, 'memtune-report.json'), `${JSON.stringify(report, null, 2)}\n`, true);
  writeFileAtomic(join(out, 'memtune-report.md'), `${renderMarkdownReport(report)}\n`, true);
  writeFileAtomic(join(out, 'memtune-report.svg'), `${renderSvgReport(report)}\n`, true);
}
