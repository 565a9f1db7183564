import { availableParallelism, constants } from 'node:os';
import { mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../shared/effects/write-file-atomic.js';
import { benchmarkActionEntries } from './report/benchmark-action.js';
import { parseCommandArgs } from '../shared/parse-command-args.js';
import { endQuietlyWhenStdoutCloses } from '../shared/effects/stdout.js';
import { maxGrowthWithoutBaseline, parseMaxGrowth } from './baseline.js';
import { parseVariants } from './variants.js';
import { parseShard } from './shard.js';
import { DEFAULT_OPTIONS } from './journal.js';
import { brokenPackages, endedText } from './report/report.js';
import { deltaText, renderDryRun, renderMarkdownReport } from './report/markdown.js';
import { errorCommand, githubAnnotations, githubOutputs } from './report/github.js';
import { appendToGitHubFile } from './effects/github.js';
import type { BenchReport, RecordedOptions, RunFigures } from './types.js';
import type { RunnerSpec } from './types.js';
import { planHeapWrites, writeHeapFiles } from './effects/node-options-write.js';
import { loadProfiles } from '../shared/effects/load-profiles.js';
import { resolveProfile } from '../shared/profiles.js';
import { unifiedDiff } from '../shared/unified-diff.js';
import { UsageError, errorCode, formatError, quote } from '../shared/errors.js';
import { detectMemoryLimit } from '../shared/effects/memory-limit.js';
import { DEFAULT_BUDGET_PERCENT } from '../shared/concurrency.js';
import { formatBytes, parseByteSize, parsePercent } from '../shared/size.js';
import type { BenchJob } from './effects/run-jobs.js';
import { dryRunBench, runBench, type BenchOptions, type BenchOutcome } from './effects/session.js';

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
  // --format and --update-baseline: what goes to stdout, and the report kept as the next baseline.
  format: { type: 'string' },
  'update-baseline': { type: 'string' },
  'runner-memory': { type: 'string' },
  'runner-cpus': { type: 'string' },
  write: { type: 'boolean' },
  force: { type: 'boolean' },
  profile: { type: 'string' },
  variant: { type: 'string', multiple: true },
  'find-min-heap': { type: 'boolean' },
  shard: { type: 'string' },
  package: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
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
  "  --warm              measure the incremental re-check beside the package's own .tsbuildinfo (writes it)",
  "  --profile=NAME      run each check under what `memtune run NAME` gives it there (its .node-options, the profile's share)",
  '  --variant=NAME=SPEC the same packages under another configuration, compared with the first variant (repeatable, at least two);',
  '                      SPEC: empty, or tsconfig:FILE, compiler:typescript@X.Y.Z or compiler:PATH, profile:NAME joined by commas',
  "  --script=NAME       measure the package's npm script NAME instead of a type-check (e.g. build, test)",
  '  --solution          also measure `tsc -b --force` at the root as one process',
  '  --shard=I/N         measure only shard I of N: the packages split over N CI jobs, balanced by their cost in --baseline,',
  '                      the same split on every machine; the report records the shard',
  "  --package           measure only the package memtune runs in, its reports in the package's own .memtune: a turbo task",
  '                      per package that turbo can cache and run side by side (docs/bench.md, "One turbo task per package")',
  '  --out=DIR           where the journal and reports go (default: .memtune at the workspace root; with --package, in the package)',
  '  --resume            continue an interrupted bench from its journal, with its options, measuring only what is missing',
  "  --dry-run           print what would be measured (packages, tasks, compilers, expected peaks, this shard's share)",
  '                      after reading each tsconfig with its compiler; nothing is built, measured or written',
  '  --json              print the report JSON on stdout instead of the table',
  '  --baseline=FILE     compare with an earlier memtune-report.json; exit 1 when a memory figure regressed',
  "  --max-growth=N%     how much a figure may grow over the baseline (default 10%; growth under 8 MiB or within the baseline's own spread never counts)",
  "  --update-baseline=FILE  after the bench, write its report to FILE as the next baseline (the exit code stays the gate's)",
  '  --format=FORMAT     what goes to stdout: markdown (default), json (as --json), github-action-benchmark (customSmallerIsBetter JSON)',
  "  --runner-memory=SIZE also recommend for a runner with this much memory (e.g. 7GiB); the CPUs are this machine's unless given",
  "  --runner-cpus=N     also recommend for a runner with N CPUs; the memory is this machine's unless given",
  "  --find-min-heap     after the measured runs, bisect each package's smallest --max-old-space-size that completes the check",
  '                      (native TS 7: the smallest GOMEMLIMIT within 1.5 × its wall time); the heap recommendation uses it',
  "  --write             put each recommended heap into its package's .node-options (diff on stderr)",
  '  --force             with --write: replace a different --max-old-space-size already there',
  '',
  'Writes memtune-report.json, .md, .svg and memtune-benchmark.json (github-action-benchmark) into --out; each finished run is appended to memtune-journal.jsonl.',
  'Exits 1 when a run ran out of memory, timed out, was killed or crashed, a --find-min-heap search found no heap up to the peak,',
  'or a figure regressed against --baseline;',
  'type errors do not fail the bench. Exits 2 on bad input or a file it cannot write, 128 + N on signal N (Ctrl-C: 130).',
  'In GitHub Actions (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT set): also the job summary, ::error annotations on stderr, step outputs.',
  'memtune bench merge REPORT... --out DIR merges shard or per-package reports into one (memtune bench merge --help).',
  'See docs/bench.md.',
].join('\n');

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError({ where: `--${name} ${quote(text)}`, message: 'not a positive whole number.', fix: `Write e.g. --${name}=2` });
  }
  return value;
}

function parseBudget(text: string | undefined, limit: number): number {
  if (text === undefined) return Math.floor((limit * DEFAULT_BUDGET_PERCENT) / 100);
  const percent = parsePercent(text);
  const bytes = percent !== undefined ? (percent / 100) * limit : parseByteSize(text);
  if (bytes === undefined || !(bytes > 0) || (percent !== undefined && percent > 100)) {
    throw new UsageError({
      where: `--budget ${quote(text)}`,
      message:
        percent !== undefined && percent > 100
          ? 'more than 100 % of the memory limit: the runs would not fit in memory.'
          : percent !== undefined
            ? 'must be more than 0 %.'
            : 'not a memory size.',
      fix: 'Write a share of the memory limit (--budget=70%) or a size with a binary unit (--budget=6GiB).',
    });
  }
  return Math.floor(bytes);
}

function describeRun(figures: RunFigures): string {
  const parts: string[] = [figures.status === 'failed' ? `failed (exit ${figures.exitCode})` : figures.status];
  if (figures.peakRssBytes !== null) parts.push(`${formatBytes(figures.peakRssBytes)} peak RSS`);
  if (figures.peakHeapUsedBytes !== null) parts.push(`${formatBytes(figures.peakHeapUsedBytes)} peak heap`);
  if (figures.goHeapPeakBytes !== null) parts.push(`${formatBytes(figures.goHeapPeakBytes)} Go heap`);
  parts.push(`${(figures.wallMs / 1000).toFixed(2)} s`);
  const first = figures.status === 'ok' ? undefined : figures.messages?.split('\n').find((line) => line.trim() !== '');
  return parts.join(', ') + (first === undefined ? '' : `: ${first.trim()}`);
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
    // A --find-min-heap probe is not one of the planned runs: how many a search takes is not known in advance.
    if (job.setting !== undefined) {
      this.line(`${job.label}: ${describeRun(figures)}`);
      return;
    }
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

type Values = ReturnType<typeof parseCommandArgs<{ args: string[]; options: typeof OPTIONS; strict: true }>>['values'];

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'merge') return (await import('./merge/command.js')).run(argv.slice(1));
  const { values } = parseCommandArgs({ args: argv, options: OPTIONS, strict: true }, 'Run memtune bench --help for the options.');
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  endQuietlyWhenStdoutCloses();
  const format = outputFormat(values);
  const options = benchOptions(values, process.cwd());
  if (values['dry-run']) return printDryRun(options, format);
  const controller = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    caught ??= signal;
    // A closed terminal (SIGHUP) fails every write to it: nobody is left to read them, and the runs still have to be stopped.
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    controller.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let live: Progress | undefined;
  let outcome: BenchOutcome;
  try {
    outcome = await runBench(
      options,
      {
        notice: (text) => process.stderr.write(`memtune: ${text}\n`),
        planned: (total) => (live = new Progress(total)),
        started: (job) => live?.started(job),
        ended: (job, figures) => live?.ended(job, figures),
      },
      controller.signal,
    );
  } finally {
    live?.stop();
    // Only now: a second Ctrl-C while the report is written must not lose it.
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  const code = printOutcome(outcome, format, options.cwd, caught);
  if (outcome.interrupted) return code;
  const outcomeCode = Math.max(code, runnerOutcome(outcome.report), values.write ? writeOutcome(outcome.report, options.cwd, values.force === true) : 0);
  return values['update-baseline'] === undefined ? outcomeCode : updateBaseline(outcome.report, values['update-baseline'], options.cwd, outcomeCode);
}

const FORMATS = ['markdown', 'json', 'github-action-benchmark'] as const;
export type OutputFormat = (typeof FORMATS)[number];

/** `--format`, with `--json` as its old spelling of `--format=json`. */
function outputFormat(values: Values): OutputFormat {
  const given = values.format;
  if (given !== undefined && !(FORMATS as readonly string[]).includes(given)) {
    throw new UsageError({ where: `--format ${quote(given)}`, message: `not a format; the formats are ${FORMATS.join(', ')}.`, fix: 'Write e.g. --format=json' });
  }
  if (values.json && given !== undefined && given !== 'json') {
    throw new UsageError({ message: `--json and --format=${given} ask for two different outputs.`, fix: 'Drop --json.' });
  }
  return values.json ? 'json' : ((given as OutputFormat | undefined) ?? 'markdown');
}

/**
 * `--update-baseline FILE`: the report just written, kept as the next baseline, atomically (a reader never sees
 * half a file), its directory made when missing. Written whatever the gate said; a file that cannot be
 * written exits 2 (the report in --out is already there).
 */
export function updateBaseline(report: BenchReport, given: string, cwd: string, code: number): number {
  const file = resolve(cwd, given);
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`, true);
  } catch (error) {
    const reason = errorCode(error);
    process.stderr.write(
      `${formatError(new UsageError({ where: `--update-baseline ${quote(given)}`, message: `cannot be written (${reason}).`, fix: 'Pass a file you can write to; the report is in --out.' }))}\n`,
    );
    return 2;
  }
  process.stderr.write(`memtune: wrote baseline ${given}\n`);
  return code;
}

/** A package the runner cannot hold at all: its check cannot run there (exit 1; the report is written). */
function runnerOutcome(report: BenchReport): number {
  const runner = report.recommendations.runner;
  for (const pkg of runner?.tooLarge ?? []) {
    process.stderr.write(
      `memtune: ${pkg.package}: peak RSS ${formatBytes(pkg.peakRssBytes)} is more than the runner's ${formatBytes(runner!.memoryBytes)}: the runner cannot run this check.\n`,
    );
  }
  return runner && runner.tooLarge.length > 0 ? 1 : 0;
}

/** --write: every file planned first, its diff on stderr; nothing is written while any file needs --force. */
function writeOutcome(report: BenchReport, cwd: string, force: boolean): number {
  const plan = planHeapWrites(report, cwd, loadProfiles());
  for (const left of plan.left) process.stderr.write(`memtune: --write: ${left.package} gets no line: ${left.reason}.\n`);
  for (const file of plan.files) process.stderr.write(unifiedDiff(file.before ?? '', file.after, file.before === undefined ? '/dev/null' : `a/${file.shown}`, `b/${file.shown}`));
  const conflicts = plan.files.flatMap((file) => file.changes.flatMap((change) => (change.kind === 'replace' ? [{ file, change }] : [])));
  for (const { file, change } of conflicts) {
    process.stderr.write(`memtune: ${file.shown}:${change.line}: [${change.section}] already sets ${change.was}; the bench recommends --max-old-space-size=${change.heapMiB}.\n`);
  }
  if (conflicts.length > 0 && !force) {
    process.stderr.write('Nothing was written. Re-run with --write --force to replace those lines (memtune bench --resume --write --force does it without measuring again).\n');
    return 2;
  }
  for (const file of plan.files) {
    for (const change of file.changes.filter((c) => c.kind === 'same')) {
      process.stderr.write(`memtune: ${file.shown}:${change.line}: [${change.section}] already sets --max-old-space-size=${change.heapMiB}: nothing to do.\n`);
    }
  }
  const written = writeHeapFiles(plan.files);
  for (const file of written) process.stderr.write(`memtune: wrote ${file.shown}\n`);
  return 0;
}

/** Ctrl-C, `kill`, a closed terminal or a cancelled CI job: each stops the runs, keeps what finished and writes its report. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The options, checked together before anything runs. */
function benchOptions(values: Values, cwd: string): BenchOptions {
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
    throw new UsageError({ where: `--timeout ${quote(values.timeout ?? '')}`, message: 'not a positive number of seconds.', fix: 'Write e.g. --timeout=900' });
  }
  const concurrency = positiveInteger('concurrency', values.concurrency, availableParallelism());
  const limit = detectMemoryLimit();
  const budgetBytes = parseBudget(values.budget, limit.bytes);
  if (values.script !== undefined && values.warm) {
    throw new UsageError({ message: '--warm and --script cannot be combined: --warm is about the type-check.', fix: 'Drop one of them.' });
  }
  if (values.profile !== undefined) {
    resolveProfile(values.profile, loadProfiles());
    if (values.script !== undefined) {
      throw new UsageError({
        message: `--profile and --script cannot be combined: a script runs under its own memtune run (${quote(values.script)} is measured as it is).`,
        fix: 'Drop --profile, or measure the type-check without --script.',
      });
    }
  }
  const variants = values.variant === undefined ? undefined : parseVariants(values.variant);
  if (variants) refuseWithVariants(values);
  refuseMinHeapWith(values);
  if (values.shard !== undefined) {
    parseShard(values.shard);
    if (values.solution) {
      throw new UsageError({
        message: '--shard and --solution cannot be combined: the root build is one process over every package, not split over shards.',
        fix: 'Measure --solution in a CI job of its own, without --shard.',
      });
    }
  }
  if (values.package) refuseWithPackage(values);
  if (values['dry-run']) refuseWithDryRun(values);
  if (values['max-growth'] !== undefined && values.baseline === undefined && !values.resume) {
    throw maxGrowthWithoutBaseline();
  }
  // What was given, as the journal records it (the baseline's path absolute; the session makes the compiler's so, keeping
  // the text as given for its messages): with --resume, each is checked against the journal.
  const given: Partial<RecordedOptions> = {
    ...(values.filter !== undefined ? { filters: values.filter } : {}),
    ...(values.compiler !== undefined ? { compiler: values.compiler } : {}),
    ...(values.runs !== undefined ? { runs: positiveInteger('runs', values.runs, 1) } : {}),
    ...(values.warm ? { warm: true } : {}),
    ...(values.script !== undefined ? { script: values.script } : {}),
    ...(values.solution ? { solution: true } : {}),
    ...(values['find-min-heap'] ? { findMinHeap: true } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutMs: Math.round(timeoutSeconds * 1000) } : {}),
    ...(values.baseline !== undefined ? { baseline: resolve(cwd, values.baseline) } : {}),
    ...(values['max-growth'] !== undefined ? { maxGrowth: parseMaxGrowth(values['max-growth']) } : {}),
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    ...(variants ? { variants } : {}),
    ...(values.shard !== undefined ? { shard: values.shard } : {}),
  };
  const { dir: _started, ...defaults } = DEFAULT_OPTIONS;
  return {
    cwd,
    measure: { ...defaults, ...given },
    given,
    concurrency,
    budgetBytes,
    memoryLimit: limit,
    out: values.out,
    package: values.package === true,
    resume: values.resume === true,
    runner: runnerSpec(values, limit.bytes),
  };
}

/** --package measures one package, the one it runs in: options that choose packages or span the workspace cannot mean anything beside it. */
function refuseWithPackage(values: Values): void {
  const reasons: Array<[string, boolean, string]> = [
    ['--filter', values.filter !== undefined, 'the package is the one memtune runs in'],
    ['--shard', values.shard !== undefined, "one package is not split over CI jobs (turbo spreads the packages' tasks itself)"],
    ['--solution', values.solution === true, 'the root build spans every package'],
  ];
  for (const [option, given, why] of reasons) {
    if (given) throw new UsageError({ message: `--package and ${option} cannot be combined: ${why}.`, fix: `Drop ${option}, or run it at the workspace root without --package.` });
  }
}

/** --dry-run measures nothing: the options about what happens after the runs, or that continue runs, have nothing to act on. */
function refuseWithDryRun(values: Values): void {
  const reasons: Array<[string, boolean, string]> = [
    ['--resume', values.resume === true, 'a resumed bench is planned from its journal, and only measuring continues it'],
    ['--write', values.write === true, 'there is no measured heap to write'],
    ['--update-baseline', values['update-baseline'] !== undefined, 'there is no report to keep as a baseline'],
    ['--find-min-heap', values['find-min-heap'] === true, 'the search is runs of its own'],
  ];
  for (const [option, given, why] of reasons) {
    if (given) throw new UsageError({ message: `--dry-run and ${option} cannot be combined: ${why}.`, fix: `Drop ${option} to see the plan, or --dry-run to measure.` });
  }
  if (values.format === 'github-action-benchmark') {
    throw new UsageError({ message: '--dry-run has no figures for github-action-benchmark.', fix: 'Drop --format, or use --format=json.' });
  }
}

/** `--dry-run`: the plan on stdout (Markdown, or JSON with --json), the shard and baseline notices on stderr. */
async function printDryRun(options: BenchOptions, format: OutputFormat): Promise<number> {
  const plan = await dryRunBench(options, { notice: (text) => process.stderr.write(`memtune: ${text}\n`), planned: () => {}, started: () => {}, ended: () => {} });
  process.stdout.write(`${format === 'json' ? JSON.stringify(plan, null, 2) : renderDryRun(plan)}\n`);
  return 0;
}

/** The options that cannot mean anything beside --variant, each with the reason. */
function refuseWithVariants(values: Values): void {
  const reasons: Array<[string, boolean, string]> = [
    ['--script', values.script !== undefined, "a script runs its own commands with its own tsconfig and compiler: a variant's overlay and compiler cannot reach them"],
    ['--solution', values.solution === true, 'the root build is one process measured as it is, not per variant'],
    ['--warm', values.warm === true, "it re-checks beside the package's own build info, which each variant's check would rewrite for the next"],
    ['--baseline', values.baseline !== undefined, 'a baseline has one result per package, and a bench of variants has one per package and variant'],
    ['--update-baseline', values['update-baseline'] !== undefined, 'a baseline has one result per package, and a bench of variants has one per package and variant'],
  ];
  for (const [option, given, why] of reasons) {
    if (given) throw new UsageError({ message: `--variant and ${option} cannot be combined: ${why}.`, fix: `Run ${option} in a bench of its own.` });
  }
}

/**
 * --find-min-heap sizes the heap of a cold type-check, which memtune starts itself. With --warm it would size a
 * re-check that reads build info, less than the cold check the same heap must survive; with --script the heap flag
 * would reach every node of the script (npm's own too) or none, and the script may set its own: neither means anything.
 */
function refuseMinHeapWith(values: Values): void {
  if (!values['find-min-heap']) return;
  if (values.warm) {
    throw new UsageError({
      message:
        '--find-min-heap and --warm cannot be combined: the smallest heap is sized on the cold check; a warm re-check needs less, and a heap sized on it fails the first cold run.',
      fix: 'Drop --warm.',
    });
  }
  if (values.script !== undefined) {
    throw new UsageError({
      message: `--find-min-heap and --script cannot be combined: the heap flag of a probe would reach every node of ${quote(values.script)} (npm's own too) or none, and the script may set its own.`,
      fix: 'Drop --script: --find-min-heap searches the type-check memtune runs itself.',
    });
  }
}

/** --runner-memory/--runner-cpus: the runner to recommend for as well; what is not given is this machine's. */
function runnerSpec(values: Values, limitBytes: number): RunnerSpec | undefined {
  if (values.force && !values.write) throw new UsageError({ message: '--force only applies to --write.', fix: 'Add --write, or drop --force.' });
  const memory = values['runner-memory'];
  if (memory === undefined && values['runner-cpus'] === undefined) return undefined;
  const bytes = memory === undefined ? limitBytes : parseByteSize(memory);
  if (bytes === undefined) {
    throw new UsageError({
      where: `--runner-memory ${quote(memory ?? '')}`,
      message: /^\s*0+(\.0+)?\s*[a-z]*\s*$/i.test(memory ?? '') ? "zero is not a runner's memory." : 'not a memory size.',
      fix: 'Write bytes or a binary unit: KiB, MiB, GiB (e.g. --runner-memory=7GiB).',
    });
  }
  const budget = values.budget === undefined ? undefined : parsePercent(values.budget);
  return {
    memoryBytes: bytes,
    memoryFrom: memory === undefined ? 'this machine' : 'runner-memory',
    cpus: positiveInteger('runner-cpus', values['runner-cpus'], availableParallelism()),
    cpusFrom: values['runner-cpus'] === undefined ? 'this machine' : 'runner-cpus',
    budgetPercent: budget ?? null,
  };
}

/**
 * In GitHub Actions: the Markdown report appended to the job summary, `::error` annotations on stderr (stdout
 * carries the report, and --json must stay JSON; GitHub reads workflow commands from both), the step outputs
 * appended to $GITHUB_OUTPUT. A file that cannot be written is a warning; the exit code stays the bench's.
 */
function reportToGitHub(report: BenchReport, out: string, shownReport: string): void {
  const summary = process.env.GITHUB_STEP_SUMMARY;
  const output = process.env.GITHUB_OUTPUT;
  const warnings: string[] = [];
  if (summary) warnings.push(appendToGitHubFile('GITHUB_STEP_SUMMARY', summary, `${renderMarkdownReport(report)}\n`, shownReport) ?? '');
  if (summary || output) {
    for (const annotation of githubAnnotations(report)) process.stderr.write(`${errorCommand(annotation)}\n`);
  }
  if (output) {
    const lines = githubOutputs(report, join(out, 'memtune-report.json'));
    warnings.push(appendToGitHubFile('GITHUB_OUTPUT', output, `${lines.join('\n')}\n`, shownReport) ?? '');
  }
  for (const warning of warnings) if (warning) process.stderr.write(`${warning}\n`);
}

/** The report on stdout, what failed or regressed on stderr; the exit code. */
export function printOutcome(outcome: BenchOutcome, format: OutputFormat, cwd: string, signal: NodeJS.Signals | undefined): number {
  const { report, out } = outcome;

  const shownReport: Record<OutputFormat, () => string> = {
    markdown: () => renderMarkdownReport(report),
    json: () => JSON.stringify(report, null, 2),
    'github-action-benchmark': () => JSON.stringify(benchmarkActionEntries(report), null, 2),
  };
  process.stdout.write(`${shownReport[format]()}\n`);
  const shown = relative(cwd, out).startsWith('..') ? out : relative(cwd, out) || '.';
  process.stderr.write(`memtune: wrote ${join(shown, 'memtune-report.json')}, .md and .svg\n`);
  reportToGitHub(report, resolve(cwd, out), join(shown, 'memtune-report.json'));
  if (outcome.interrupted) {
    process.stderr.write(
      `memtune: interrupted; ${outcome.finishedRuns} of ${outcome.plannedRuns} runs finished and are kept.\nRun ${outcome.resumeCommand} to measure the rest.\n`,
    );
    // As a shell reports a command ended by a signal: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP.
    return 128 + constants.signals[signal ?? 'SIGINT'];
  }
  const broken = brokenPackages(report);
  // Type errors do not fail the bench, but they are shown: figures of a check that stopped early are smaller.
  for (const pkg of [...broken, ...[...report.packages, ...(report.solution ? [report.solution] : [])].filter((p) => p.status === 'failed' && !broken.includes(p))]) {
    process.stderr.write(`memtune: ${endedText(pkg)}\n`);
  }
  const regressed = report.baseline?.packages.filter((pkg) => pkg.deltas.some((delta) => delta.over)) ?? [];
  for (const pkg of regressed) {
    const over = pkg.deltas
      .filter((delta) => delta.over)
      .map(deltaText)
      .join(', ');
    process.stderr.write(`memtune: ${pkg.name} (${pkg.dir}) regressed against ${report.baseline?.file}: ${over}.\n`);
  }
  if (regressed.length > 0) {
    process.stderr.write('Find what grew (docs/bench.md), or accept the new figures with --update-baseline FILE (or by making this report the baseline).\n');
  }
  return broken.length > 0 || regressed.length > 0 ? 1 : 0;
}
