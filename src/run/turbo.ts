import type { BenchReport, PackageResult } from '../bench/types.js';
import { recommendHeapMiB } from '../shared/heap-need.js';
import { finished, worstFigure } from '../bench/stats.js';
import { concurrencyBasis, fitConcurrency, type ConcurrencyFit, type TaskPeak } from '../shared/concurrency.js';
import { UsageError, quote } from '../shared/errors.js';
import { formatBytes } from '../shared/size.js';
import { TASK_LIMITS_VAR, type TaskLimits } from '../shared/task-limits.js';

/** `turbo run …` (or turbo 2's `turbo <task>`) as the command after `--`, found through the wrappers people write. */
export interface TurboCommand {
  /** The words up to and including `turbo` (`pnpm exec turbo`): how to start turbo when it is not on PATH. */
  launcher: string[];
  /** The task names, e.g. `typecheck`. */
  tasks: string[];
  /** turbo's own options as written, each with its value: filters and the like, for the dry run. */
  options: string[][];
  /** `--concurrency N` written in the command. */
  concurrency: string | undefined;
  /** `--env-mode` written in the command. */
  envMode: string | undefined;
}

/** turbo's commands other than `run`: a first word that is none of these is a task (turbo 2's shorthand). */
const TURBO_COMMANDS = new Set([
  'bin',
  'boundaries',
  'completion',
  'config',
  'daemon',
  'devtools',
  'docs',
  'gen',
  'generate',
  'get-mfe-port',
  'info',
  'link',
  'login',
  'logout',
  'ls',
  'prune',
  'query',
  'scan',
  'telemetry',
  'unlink',
  'watch',
  'help',
]);

/** Options of `turbo run` that take a value (`--filter web`), and those whose value is optional (`--force`, `--force true`). */
const VALUE_OPTIONS = new Set([
  '--cache',
  '--cache-workers',
  '--cache-dir',
  '--concurrency',
  '--global-deps',
  '--filter',
  '-F',
  '--output-logs',
  '--log-order',
  '--log-prefix',
  '--api',
  '--cwd',
  '--heap',
  '--ui',
  '--login',
  '--remote-cache-timeout',
  '--team',
  '--token',
  '--trace',
  '--verbosity',
  '--root-turbo-json',
  '--pkg-inference-root',
  '--experimental-otel-protocol',
  '--experimental-otel-endpoint',
  '--experimental-otel-timeout-ms',
  '--experimental-otel-interval-ms',
  '--experimental-otel-header',
  '--experimental-otel-resource',
]);
/** Options with an optional value that ask for another output (a dry run, a graph) or write files beside the run. */
const OUTPUT_OPTIONS = ['--dry-run', '--dry', '--graph', '--profile', '--anon-profile', '--summarize'];
const OPTIONAL_VALUE_OPTIONS = new Set([
  '--force',
  '--remote-only',
  '--remote-cache-read-only',
  ...OUTPUT_OPTIONS,
  '--framework-inference',
  '--env-mode',
  '--log-file',
  '--experimental-otel-enabled',
  '--experimental-otel-metrics-run-summary',
  '--experimental-otel-metrics-task-details',
  '--experimental-otel-use-remote-cache-token',
]);
/** Options a dry run must not get: they write files, change the output or ask for another dry run. */
const NOT_FOR_DRY_RUN = new Set([...OUTPUT_OPTIONS, '--heap', '--trace', '--ui', '--json', '--log-file', '--concurrency', '--output-logs', '--log-order', '--log-prefix']);

/** The words of a wrapper before `turbo`: `npx`, `pnpm [exec|dlx]`, `yarn [exec]`, `npm exec|x [--]`. Their own options are skipped. */
function turboIndex(command: string[]): number {
  const isTurbo = (word: string | undefined) => word !== undefined && /(^|[/\\])turbo(\.exe|\.cmd)?$/i.test(word);
  const name = (command[0] ?? '')
    .split(/[/\\]/)
    .pop()!
    .replace(/\.(exe|cmd)$/i, '');
  if (isTurbo(command[0])) return 0;
  let index = 1;
  const skipOptions = () => {
    while (command[index]?.startsWith('-') && command[index] !== '--') index++;
  };
  if (name === 'npx') skipOptions();
  else if (name === 'pnpm' || name === 'yarn') {
    skipOptions();
    if (command[index] === 'exec' || (name === 'pnpm' && command[index] === 'dlx')) index++;
    skipOptions();
  } else if (name === 'npm') {
    skipOptions();
    if (command[index] !== 'exec' && command[index] !== 'x') return -1;
    index++;
    skipOptions();
    if (command[index] === '--') index++;
  } else return -1;
  return isTurbo(command[index]) ? index : -1;
}

/** The turbo run in `command`, or undefined when the command is not turbo running tasks (`turbo prune`, `turbo --version`, a dry run). */
export function parseTurboCommand(command: string[]): TurboCommand | undefined {
  const at = turboIndex(command);
  if (at < 0) return undefined;
  let rest = command.slice(at + 1);
  if (rest[0] === 'run') rest = rest.slice(1);
  else if (rest[0] === undefined || TURBO_COMMANDS.has(rest[0])) return undefined;
  const tasks: string[] = [];
  const options: string[][] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') {
      tasks.push(word);
      continue;
    }
    const name = word.split('=')[0]!;
    const takesNext = !word.includes('=') && (VALUE_OPTIONS.has(name) || (OPTIONAL_VALUE_OPTIONS.has(name) && rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('-')));
    options.push(takesNext ? [word, rest[++i] ?? ''] : [word]);
  }
  if (tasks.length === 0 || options.some(([word]) => ['--dry', '--dry-run', '--graph', '--help', '-h'].includes(word!.split('=')[0]!))) return undefined;
  const optionValue = (name: string) => {
    const option = options.findLast(([word]) => word!.split('=')[0] === name);
    return option && (option[1] ?? option[0]!.split('=').slice(1).join('='));
  };
  return { launcher: command.slice(0, at + 1), tasks, options, concurrency: optionValue('--concurrency'), envMode: optionValue('--env-mode') };
}

/** `turbo run <tasks> <the user's filters> --dry=json`: the exact task list, without running anything. */
export function dryRunArgs(turbo: TurboCommand): string[] {
  return ['run', ...turbo.tasks, ...turbo.options.filter(([word]) => !NOT_FOR_DRY_RUN.has(word!.split('=')[0]!)).flat(), '--dry=json'];
}

/** One task turbo will run. */
export interface TurboTask {
  /** `pkg#task`, turbo's task id. */
  id: string;
  package: string;
  /** Relative to the workspace root, POSIX, `.` for the root. */
  dir: string;
  task: string;
  /** The script it runs; undefined when unknown. */
  command: string | undefined;
}

/** The tasks of `turbo run … --dry=json` output that run something: a package without the script shows `<NONEXISTENT>`. */
export function tasksOfDryRun(json: unknown): TurboTask[] {
  const tasks = (json as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(tasks)) throw new Error('no "tasks" list');
  return tasks.flatMap((entry: Record<string, unknown>) => {
    if (typeof entry?.task !== 'string' || typeof entry.package !== 'string' || entry.command === '<NONEXISTENT>') return [];
    const dir = typeof entry.directory === 'string' && entry.directory !== '' ? entry.directory : '.';
    return [
      {
        id: String(entry.taskId ?? `${entry.package}#${entry.task}`),
        package: entry.package,
        dir,
        task: entry.task,
        command: typeof entry.command === 'string' ? entry.command : undefined,
      },
    ];
  });
}

const CHECK_TASKS = new Set(['typecheck', 'type-check', 'check', 'tsc', 'check-types', 'types']);
const CHECKER = /(?<![\w.@/-])(tsc|tsgo|vue-tsc)(?![\w.-])/;

/**
 * What a task that runs `memtune bench` (a per-package bench task, `memtune bench --package`) measures, so its peak is
 * that one: the npm script of its `--script`, else the type-check (null). Undefined for any other command.
 */
export function benchedScript(command: string | undefined): string | null | undefined {
  const bench = /(?<![\w.@/-])memtune bench(?! merge)\b(.*)/.exec(command ?? '');
  if (!bench) return undefined;
  return /--script(?:=|\s+)['"]?([^\s'"]+)/.exec(bench[1]!)?.[1] ?? null;
}

/** Whether the type-check report (the bench without --script) measures this task: its name, a script that runs a compiler, or a bench of the type-check. */
export function runsTypeCheck(task: string, command: string | undefined): boolean {
  const benched = benchedScript(command);
  if (benched !== undefined) return benched === null;
  return CHECK_TASKS.has(task) || (command !== undefined && CHECKER.test(command));
}

/** The peak RSS of each package a bench report measured to its end, by directory, and what it says of the others. */
export interface ReportPeaks {
  file: string;
  /** The npm script measured; null for the type-check. */
  script: string | null;
  generatedAt: string;
  peaks: Map<string, number>;
  /** The largest peak used V8 heap over the runs of each JavaScript-compiled package that finished, by directory. */
  heaps: Map<string, number>;
  /** Why a package of the report has no figure (skipped, a run that ended early). */
  unmeasured: Map<string, string>;
}

/** A bench report read back; a file that is not one is a UsageError naming it. */
export function reportPeaksOf(json: unknown, file: string): ReportPeaks {
  const bad = (why: string) =>
    new UsageError({
      where: file,
      message: `not a memtune bench report: ${why}.`,
      fix: 'Pass the memtune-report.json that memtune bench wrote (run memtune bench again), or leave --report out.',
    });
  const report = json as Partial<BenchReport> | null;
  if (typeof report !== 'object' || report === null || Array.isArray(report)) throw bad('not a JSON object');
  if (!Array.isArray(report.packages)) throw bad('no "packages" list');
  if (typeof report.options !== 'object' || report.options === null) throw bad('no "options"');
  const script = report.options.script;
  if (script !== null && typeof script !== 'string') throw bad('"options.script" is neither null nor a script name');
  const peaks = new Map<string, number>();
  const heaps = new Map<string, number>();
  const unmeasured = new Map<string, string>();
  for (const [index, entry] of (report.packages as unknown[]).entries()) {
    const result = entry as PackageResult;
    if (typeof result !== 'object' || result === null || typeof result.dir !== 'string' || typeof result.status !== 'string') {
      throw bad(`packages[${index}] has no "dir" or "status"`);
    }
    const bytes = finished(result.status) ? worstFigure({ ...result, spread: result.spread ?? {} }, 'peakRssBytes') : null;
    if (typeof bytes === 'number' && bytes > 0) peaks.set(result.dir, Math.max(bytes, peaks.get(result.dir) ?? 0));
    const heap = finished(result.status) ? worstFigure({ ...result, spread: result.spread ?? {} }, 'peakHeapUsedBytes') : null;
    if (typeof heap === 'number' && heap > 0) heaps.set(result.dir, Math.max(heap, heaps.get(result.dir) ?? 0));
    else if (!peaks.has(result.dir)) unmeasured.set(result.dir, finished(result.status) ? 'no peak RSS measured' : `its runs ended ${result.status}`);
  }
  for (const skipped of Array.isArray(report.skipped) ? report.skipped : []) {
    if (typeof skipped?.dir === 'string' && !peaks.has(skipped.dir)) unmeasured.set(skipped.dir, `skipped by the bench: ${skipped.reason}`);
  }
  for (const dir of peaks.keys()) unmeasured.delete(dir);
  return { file, script, generatedAt: typeof report.generatedAt === 'string' ? report.generatedAt : 'an unknown date', peaks, heaps, unmeasured };
}

/** One task's expected peak and where it came from. */
export interface PickedPeak {
  task: TurboTask;
  bytes: number;
  /** The reports the figure came from; empty when estimated. */
  from: string[];
  /** Why the figure is an estimate; undefined when measured. */
  estimate: string | undefined;
  /** The largest peak used heap those reports measured (JavaScript compilers); undefined when none did. */
  heapBytes?: number;
}

/**
 * Each task's expected peak: the report that measured its script (`options.script` = the task), else for a type-check
 * task the type-check report; the largest over such reports. A task none measured is estimated (`estimate(task)`,
 * from its source, as the bench's scheduler guesses), and the reason is said.
 */
export function pickPeaks(tasks: TurboTask[], reports: ReportPeaks[], estimate: (task: TurboTask) => { bytes: number; what: string }): PickedPeak[] {
  return tasks.map((task) => {
    const benched = benchedScript(task.command);
    const byScript = reports.filter((report) => report.script === (typeof benched === 'string' ? benched : task.task));
    const applicable = byScript.length > 0 ? byScript : runsTypeCheck(task.task, task.command) ? reports.filter((report) => report.script === null) : [];
    const measured = applicable.filter((report) => report.peaks.has(task.dir));
    if (measured.length > 0) {
      const bytes = Math.max(...measured.map((report) => report.peaks.get(task.dir)!));
      const heaps = measured.flatMap((report) => report.heaps.get(task.dir) ?? []);
      return {
        task,
        bytes,
        from: measured.filter((report) => report.peaks.get(task.dir) === bytes).map((report) => report.file),
        estimate: undefined,
        ...(heaps.length > 0 ? { heapBytes: Math.max(...heaps) } : {}),
      };
    }
    const guess = estimate(task);
    const why =
      applicable.length === 0
        ? `no report measured ${typeof benched === 'string' ? `the ${quote(benched)} script it benches` : runsTypeCheck(task.task, task.command) ? 'the type-check' : quote(task.task)}`
        : applicable.map((report) => `${report.unmeasured.get(task.dir) ?? `not in the report of ${report.generatedAt} (added since)`}: ${report.file}`).join('; ');
    return { task, bytes: guess.bytes, from: [], estimate: `estimated ${guess.what}; ${why}` };
  });
}

export interface TurboSizing {
  fit: ConcurrencyFit;
  /** Each package's room: the budget less the N−1 largest peaks of the other packages' tasks. */
  limits: TaskLimits;
}

/**
 * N from the peaks (fitConcurrency: the largest N whose N largest peaks fit the budget together) and each package's
 * room beside N−1 other tasks. By construction of N the room of a package is at least its own largest peak.
 */
export function sizeTurbo(picked: PickedPeak[], budgetBytes: number, cores: number, context: { root: string; from: string }): TurboSizing {
  const peaks: TaskPeak[] = picked.map((peak) => ({ name: peak.task.id, bytes: peak.bytes, ...(peak.estimate ? { estimate: 'estimated' } : {}) }));
  const fit = fitConcurrency(peaks, budgetBytes, cores);
  const others = fit.value - 1;
  const limits: Record<string, number> = {};
  const heaps: Record<string, number> = {};
  for (const dir of new Set(picked.map((peak) => peak.task.dir))) {
    const needs = picked.filter((peak) => peak.task.dir === dir).flatMap((peak) => peak.heapBytes ?? []);
    // The bench's own recommendation: what the package's heap needs, so its share does not undercut it.
    if (needs.length > 0) heaps[dir] = recommendHeapMiB(Math.max(...needs));
    const own = picked.filter((peak) => peak.task.dir === dir).sort((a, b) => b.bytes - a.bytes)[0]!;
    const rest = picked
      .filter((peak) => peak !== own)
      .map((peak) => peak.bytes)
      .sort((a, b) => b - a);
    limits[dir] = budgetBytes - rest.slice(0, others).reduce((sum, bytes) => sum + bytes, 0);
  }
  return {
    fit,
    limits: { v: 1, root: context.root, from: context.from, concurrency: fit.value, budget: budgetBytes, limits, heaps, default: Math.floor(budgetBytes / fit.value) },
  };
}

/** Where a concurrency the user chose comes from; the first wins, as turbo reads them (flag, environment, turbo.json). */
export function userConcurrency(turbo: TurboCommand, env: NodeJS.ProcessEnv, configured: string | undefined, turboJson: string): string | undefined {
  if (turbo.concurrency !== undefined) return `--concurrency ${turbo.concurrency} in the command`;
  if (env.TURBO_CONCURRENCY !== undefined && env.TURBO_CONCURRENCY !== '') return `TURBO_CONCURRENCY=${env.TURBO_CONCURRENCY} in the environment`;
  if (configured !== undefined) return `"concurrency": ${quote(configured)} in ${turboJson}`;
  return undefined;
}

/** The `--explain` lines of a sized turbo run. */
export function explainSizing(sizing: TurboSizing, picked: PickedPeak[], context: { limit: string; source: string; winner: string | undefined }): string[] {
  const { fit, limits } = sizing;
  const lines = [
    context.winner === undefined
      ? `TURBO_CONCURRENCY=${fit.value}  ${concurrencyBasis(fit)}`
      : `turbo concurrency: ${context.winner} wins; memtune leaves it alone (from the peaks it would set TURBO_CONCURRENCY=${fit.value}: ${concurrencyBasis(fit)})`,
    `  budget ${formatBytes(fit.budgetBytes)}: 80% of ${context.limit}; ${fit.cores} CPU${fit.cores === 1 ? '' : 's'} (os.availableParallelism())`,
    `  tasks from ${context.source}:`,
  ];
  const width = Math.max(...picked.map((peak) => peak.task.id.length));
  for (const peak of [...picked].sort((a, b) => b.bytes - a.bytes || a.task.id.localeCompare(b.task.id))) {
    const where = peak.estimate ?? `measured: ${peak.from.join(', ')}`;
    lines.push(`    ${peak.task.id.padEnd(width)}  ${peak.task.dir}  ${formatBytes(peak.bytes)}  ${where}`);
  }
  if (context.winner === undefined) {
    const rooms = Object.entries(limits.limits).map(([dir, bytes]) => `${dir} ${formatBytes(bytes)}`);
    lines.push(
      `${TASK_LIMITS_VAR}: a nested memtune run sizes from its package's room beside ${fit.value - 1} other task${fit.value === 2 ? '' : 's'}: ${rooms.join(', ')}; other packages ${formatBytes(limits.default)}`,
    );
  } else {
    lines.push(`${TASK_LIMITS_VAR}: not set: with a concurrency memtune did not choose, a share would promise room it cannot vouch for; tasks size from the whole limit.`);
  }
  return lines;
}
