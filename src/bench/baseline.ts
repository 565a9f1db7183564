import { finished, worstFigure } from './stats.js';
import {
  BASELINE_FIELDS,
  SCHEMA_VERSION,
  SUMMARY_FIELDS,
  type BaselineComparison,
  type BaselineDelta,
  type BaselinePackage,
  type BaselineThreshold,
  type BenchEnvironment,
  type BenchReport,
  type CompilerInfo,
  type PackageResult,
  type RunStatus,
} from './types.js';
import { UsageError, quote } from '../shared/errors.js';
import { MiB, parsePercent } from '../shared/size.js';

export const NOISE_FLOOR_BYTES = 8 * MiB;

const PEAK_FIELDS = [...BASELINE_FIELDS, 'goHeapPeakBytes'] as const;

const STATUSES: ReadonlySet<unknown> = new Set<RunStatus>(['ok', 'failed', 'oom', 'timeout', 'killed', 'crashed', 'no-check', 'config-error']);

/** How a value shows in a message: as JSON, cut short. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Checks the parts of a report the bench reads from a baseline, collecting what is wrong by its field path
 * (`packages[0].spread.peakRssBytes.max`): a hand-edited or truncated baseline otherwise fails with a
 * TypeError after every run was measured, or compares nothing and reports "No regressions".
 */
class BaselineShape {
  readonly problems: string[] = [];

  wrong(path: string, value: unknown, expected: string): false {
    this.problems.push(`${path} is ${shown(value)}, not ${expected}.`);
    return false;
  }

  object(value: unknown, path: string): value is Record<string, unknown> {
    return (typeof value === 'object' && value !== null && !Array.isArray(value)) || this.wrong(path, value, 'an object');
  }

  string(value: unknown, path: string, nullable = false): void {
    if (typeof value !== 'string' && !(nullable && value === null)) this.wrong(path, value, nullable ? 'a string or null' : 'a string');
  }

  number(value: unknown, path: string, nullable = false): void {
    const ok = (typeof value === 'number' && Number.isFinite(value) && value >= 0) || (nullable && value === null);
    if (!ok) this.wrong(path, value, nullable ? 'a number or null' : 'a number');
  }

  result(value: unknown, path: string): void {
    if (!this.object(value, path)) return;
    for (const key of ['name', 'dir', 'task'] as const) this.string(value[key], `${path}.${key}`);
    if (!STATUSES.has(value.status)) this.wrong(`${path}.status`, value.status, 'a run status');
    if (this.object(value.compiler, `${path}.compiler`)) this.string(value.compiler.version, `${path}.compiler.version`);
    // Every peak figure a report holds, compared or not: a baseline whose figures are not numbers is not one memtune wrote.
    for (const field of PEAK_FIELDS) this.number(value[field], `${path}.${field}`, true);
    if (!this.object(value.spread, `${path}.spread`)) return;
    for (const field of SUMMARY_FIELDS) {
      const spread = value.spread[field];
      if (spread === undefined || !this.object(spread, `${path}.spread.${field}`)) continue;
      for (const key of ['median', 'min', 'max'] as const) this.number(spread[key], `${path}.spread.${field}.${key}`);
    }
  }
}

/** Reads an earlier memtune-report.json; anything else is refused before a run starts, naming the field that is wrong. */
export function parseBaseline(text: string, given: string, where = `--baseline ${quote(given)}`): BenchReport {
  const fix = 'Pass the memtune-report.json of an earlier memtune bench, as it wrote it.';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError({ where, message: `not JSON (${(error as Error).message}).`, fix });
  }
  const report = value as Record<string, unknown> | null;
  if (typeof report !== 'object' || report === null || Array.isArray(report) || !('packages' in report) || !('environment' in report)) {
    throw new UsageError({ where, message: 'not a memtune report (no packages[] and environment).', fix });
  }
  if (report.schemaVersion !== SCHEMA_VERSION) {
    throw new UsageError({
      where,
      message: `has schemaVersion ${JSON.stringify(report.schemaVersion)}; this memtune reads ${SCHEMA_VERSION}.`,
      fix: 'Measure the baseline again with this version of memtune.',
    });
  }
  const shape = new BaselineShape();
  shape.string(report.generatedAt, 'generatedAt');
  if (shape.object(report.environment, 'environment')) {
    const env = report.environment;
    shape.string(env.gitCommit, 'environment.gitCommit', true);
    shape.string(env.node, 'environment.node');
    if (shape.object(env.cpu, 'environment.cpu')) shape.number(env.cpu.count, 'environment.cpu.count');
    if (shape.object(env.memoryLimit, 'environment.memoryLimit')) shape.number(env.memoryLimit.bytes, 'environment.memoryLimit.bytes');
  }
  if (shape.object(report.options, 'options')) shape.number(report.options.runs, 'options.runs');
  if (Array.isArray(report.packages)) {
    for (const [index, pkg] of report.packages.entries()) shape.result(pkg, `packages[${index}]`);
  } else {
    shape.wrong('packages', report.packages, 'an array');
  }
  if (report.solution !== null) shape.result(report.solution, 'solution');
  if (shape.problems.length > 0) {
    const shownProblems = shape.problems.length > 10 ? [...shape.problems.slice(0, 9), `and ${shape.problems.length - 9} more fields.`] : shape.problems;
    throw new UsageError({ problems: shownProblems.map((message) => ({ where, message })), fix });
  }
  return report as unknown as BenchReport;
}

/** `--max-growth` given without a baseline to grow over: refused (bench, its --resume, bench merge). */
export function maxGrowthWithoutBaseline(): UsageError {
  return new UsageError({ message: '--max-growth needs --baseline: it is the growth allowed over an earlier report.', fix: 'Add --baseline=path/to/memtune-report.json' });
}

/** `--max-growth 10%` (or `10`) as a share. */
export function parseMaxGrowth(text: string): number {
  const percent = parsePercent(text, { signOptional: true }) ?? Number.NaN;
  if (!Number.isFinite(percent) || percent <= 0 || percent > 1000) {
    throw new UsageError({ where: `--max-growth ${quote(text)}`, message: 'not a percentage.', fix: 'Write how much a figure may grow over the baseline, e.g. --max-growth=10%' });
  }
  return percent / 100;
}

/** Packages match across reports by name and task (a type-check and `npm run build` are different measurements). */
export function baselineKey(name: string, task: string): string {
  return `${name}\0${task}`;
}

const keyOf = (pkg: PackageResult) => baselineKey(pkg.name, pkg.task);

/**
 * The growth a figure may show before it counts: the largest of --max-growth, the noise floor and the
 * spread of the baseline's own runs (max − min). The baseline's spread is how far the worst run of an
 * unchanged package moved between runs on the machine that measured it, so a max that moves less than
 * that is no evidence of a change. The current report's spread is deliberately not added: its max
 * already carries its own noise upwards, and a change that makes a package's peaks swing more must not
 * widen its own allowance.
 */
export function allowedGrowth(before: number, baselineSpread: number, maxGrowth: number): { allowedBytes: number; allowedBy: BaselineThreshold } {
  const candidates: Array<[number, BaselineThreshold]> = [
    [Math.round(before * maxGrowth), 'max-growth'],
    [NOISE_FLOOR_BYTES, 'noise floor'],
    [baselineSpread, 'baseline spread'],
  ];
  const [allowedBytes, allowedBy] = candidates.reduce((best, next) => (next[0] > best[0] ? next : best));
  return { allowedBytes, allowedBy };
}

function deltasOf(before: PackageResult, after: PackageResult, maxGrowth: number): BaselineDelta[] {
  const deltas: BaselineDelta[] = [];
  for (const field of BASELINE_FIELDS) {
    // A team provisions for the worst run: the largest figure over the runs of each report.
    const old = worstFigure(before, field);
    const now = worstFigure(after, field);
    if (typeof old !== 'number' || typeof now !== 'number' || old <= 0) continue;
    const spread = before.spread[field];
    const allowed = allowedGrowth(old, spread ? spread.max - spread.min : 0, maxGrowth);
    deltas.push({ field, before: old, after: now, growth: (now - old) / old, over: now - old > allowed.allowedBytes, ...allowed });
  }
  return deltas;
}

/** Every measured result of a report (the solution build too), by baselineKey. */
function byKey(report: BenchReport): Map<string, PackageResult> {
  return new Map([...report.packages, ...(report.solution ? [report.solution] : [])].map((pkg) => [keyOf(pkg), pkg]));
}

/** A package as the bench plans to measure it: known before any run starts. */
export interface PlannedPackage {
  name: string;
  task: string;
  compiler: Pick<CompilerInfo, 'version'>;
}

/** The package a result belongs to: a project of a solution-style package is named `name (tsconfig.app.json)`. */
export function packageNameOf(resultName: string): string {
  return resultName.replace(/ \(.*\)$/, '');
}

const major = (version: string) => version.replace(/^v/, '').split('.')[0] ?? version;

/**
 * Refuses a baseline that cannot say anything about this bench, before any run starts: no package (by
 * name and task) in common, or a package whose compiler major differs (another compiler, another
 * figure). The workspace root path is not compared: it differs between a laptop and a CI runner.
 * With `wholeBench` (a --shard, which reads only its own packages' tsconfigs) the whole bench's packages are
 * matched by package name instead, so that every shard of one bench takes the same baseline or refuses it.
 * Returns the differences that only weaken the comparison, as warnings.
 */
export function comparableBaseline(
  baseline: BenchReport,
  file: string,
  planned: readonly PlannedPackage[],
  current: { environment: Pick<BenchEnvironment, 'node' | 'cpu' | 'memoryLimit'>; runs: number },
  wholeBench?: ReadonlyArray<{ name: string; compiler: Pick<CompilerInfo, 'version'> }>,
): string[] {
  const where = `--baseline ${quote(file)}`;
  const before = byKey(baseline);
  const pairs = wholeBench
    ? wholeBench.flatMap((pkg) => [...before.values()].filter((old) => packageNameOf(old.name) === pkg.name).map((old) => ({ pkg, old })))
    : planned.flatMap((pkg) => {
        const old = before.get(baselineKey(pkg.name, pkg.task));
        return old === undefined ? [] : [{ pkg, old }];
      });
  if (pairs.length === 0) {
    const list = (names: string[]) => (names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ') || 'none');
    throw new UsageError({
      where,
      message:
        `has no package in common with this run (by name and task): the baseline measured ${list([...before.values()].map((pkg) => `${pkg.name} (${pkg.task})`))}; ` +
        `this run plans ${list(wholeBench ? wholeBench.map((pkg) => pkg.name) : planned.map((pkg) => `${pkg.name} (${pkg.task})`))}.`,
      fix: 'Pass the baseline of this workspace and task (same --script, --filter), or measure a new one with --update-baseline.',
    });
  }
  const changed = pairs.flatMap(({ pkg, old }) =>
    major(old.compiler.version) === major(pkg.compiler.version)
      ? []
      : [{ where, message: `${old.name}: the baseline measured TypeScript ${old.compiler.version}, this run uses ${pkg.compiler.version} (another major).` }],
  );
  if (changed.length > 0) {
    throw new UsageError({ problems: changed, fix: 'Another compiler major is another figure: measure a new baseline with --update-baseline.' });
  }
  const warnings: string[] = [];
  const env = baseline.environment;
  if (major(env.node) !== major(current.environment.node))
    warnings.push(`the baseline ran on Node ${env.node}, this run on ${current.environment.node}: V8's heap sizing differs between majors.`);
  if (env.cpu.count !== current.environment.cpu.count)
    warnings.push(`the baseline had ${env.cpu.count} CPUs, this run ${current.environment.cpu.count}: parallel runs and GC timing differ.`);
  // Machines of one kind report their memory a few MiB apart: only a real difference changes V8's sizing.
  if (Math.abs(env.memoryLimit.bytes - current.environment.memoryLimit.bytes) > 0.01 * Math.max(env.memoryLimit.bytes, current.environment.memoryLimit.bytes)) {
    warnings.push(
      `the baseline had a memory limit of ${(env.memoryLimit.bytes / MiB).toFixed(0)} MiB, this run ${(current.environment.memoryLimit.bytes / MiB).toFixed(0)} MiB: V8 sizes its heap from it.`,
    );
  }
  if (baseline.options.runs !== current.runs)
    warnings.push(`the baseline took ${baseline.options.runs} run(s) per package, this run ${current.runs}: the largest of fewer runs is lower, and one run has no spread.`);
  return warnings.map((warning) => `${file}: ${warning}`);
}

/**
 * Each package (and the solution build) against the same package and task in the baseline, by the
 * largest of each memory figure over its runs. A figure is a regression when it grew by more than its
 * allowedGrowth: `maxGrowth`, the noise floor and the baseline's own spread. A package whose run did not finish is no basis for a comparison.
 */
export function compareWithBaseline(report: BenchReport, baseline: BenchReport, file: string, maxGrowth: number, warnings: string[] = []): BaselineComparison {
  const now = [...report.packages, ...(report.solution ? [report.solution] : [])];
  const before = byKey(baseline);
  const packages: BaselinePackage[] = [];
  for (const pkg of now) {
    const old = before.get(keyOf(pkg));
    before.delete(keyOf(pkg));
    const comparable = old !== undefined && finished(old.status) && finished(pkg.status);
    packages.push({
      name: pkg.name,
      dir: pkg.dir,
      task: pkg.task,
      state: old === undefined ? 'new' : 'compared',
      compilerChange: old && old.compiler.version !== pkg.compiler.version ? `${old.compiler.version} → ${pkg.compiler.version}` : null,
      deltas: comparable ? deltasOf(old, pkg, maxGrowth) : [],
    });
  }
  for (const gone of before.values()) {
    packages.push({ name: gone.name, dir: gone.dir, task: gone.task, state: 'gone', compilerChange: null, deltas: [] });
  }
  return {
    file,
    generatedAt: baseline.generatedAt,
    gitCommit: baseline.environment.gitCommit ?? null,
    maxGrowth,
    noiseFloorBytes: NOISE_FLOOR_BYTES,
    packages,
    regressions: packages.filter((pkg) => pkg.deltas.some((delta) => delta.over)).length,
    warnings,
  };
}

/** The first measured peak RSS of each package in the baseline: a better first estimate than source size. */
export function baselinePeaks(baseline: BenchReport): Map<string, number> {
  const peaks = new Map<string, number>();
  for (const pkg of baseline.packages) {
    const peak = worstFigure(pkg, 'peakRssBytes');
    if (peak !== null) peaks.set(keyOf(pkg), peak);
  }
  return peaks;
}
