import { finished, worstFigure } from './stats.js';
import {
  BASELINE_FIELDS,
  SCHEMA_VERSION,
  SUMMARY_FIELDS,
  type BaselineComparison,
  type BaselineDelta,
  type BaselinePackage,
  type BenchReport,
  type PackageResult,
  type RunStatus,
} from './types.js';
import { UsageError, quote } from '../shared/errors.js';
import { MiB, parsePercent } from '../shared/size.js';

export const NOISE_FLOOR_BYTES = 8 * MiB;

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
    for (const field of BASELINE_FIELDS) this.number(value[field], `${path}.${field}`, true);
    if (!this.object(value.spread, `${path}.spread`)) return;
    for (const field of SUMMARY_FIELDS) {
      const spread = value.spread[field];
      if (spread === undefined || !this.object(spread, `${path}.spread.${field}`)) continue;
      for (const key of ['median', 'min', 'max'] as const) this.number(spread[key], `${path}.spread.${field}.${key}`);
    }
  }
}

/** Reads an earlier memtune-report.json; anything else is refused before a run starts, naming the field that is wrong. */
export function parseBaseline(text: string, given: string): BenchReport {
  const where = `--baseline ${quote(given)}`;
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
  if (shape.object(report.environment, 'environment')) shape.string(report.environment.gitCommit, 'environment.gitCommit', true);
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

function deltasOf(before: PackageResult, after: PackageResult, maxGrowth: number): BaselineDelta[] {
  const deltas: BaselineDelta[] = [];
  for (const field of BASELINE_FIELDS) {
    // A team provisions for the worst run: the largest figure over the runs of each report.
    const old = worstFigure(before, field);
    const now = worstFigure(after, field);
    if (typeof old !== 'number' || typeof now !== 'number' || old <= 0) continue;
    const growth = (now - old) / old;
    deltas.push({ field, before: old, after: now, growth, over: growth > maxGrowth && now - old > NOISE_FLOOR_BYTES });
  }
  return deltas;
}

/**
 * Each package (and the solution build) against the same package and task in the baseline, by the
 * largest of each memory figure over its runs. A figure is a regression when it grew by more than `maxGrowth` and by
 * more than the noise floor. A package whose run did not finish is no basis for a comparison.
 */
export function compareWithBaseline(report: BenchReport, baseline: BenchReport, file: string, maxGrowth: number): BaselineComparison {
  const now = [...report.packages, ...(report.solution ? [report.solution] : [])];
  const before = new Map([...baseline.packages, ...(baseline.solution ? [baseline.solution] : [])].map((pkg) => [keyOf(pkg), pkg]));
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
