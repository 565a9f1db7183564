import { finished, worstFigure } from './stats.js';
import { BASELINE_FIELDS, SCHEMA_VERSION, type BaselineComparison, type BaselineDelta, type BaselinePackage, type BenchReport, type PackageResult } from './types.js';
import { UsageError, quote } from '../shared/errors.js';
import { MiB, parsePercent } from '../shared/size.js';

export const NOISE_FLOOR_BYTES = 8 * MiB;

/** Reads an earlier memtune-report.json; anything else is refused before a run starts. */
export function parseBaseline(text: string, given: string): BenchReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError({
      where: `--baseline ${quote(given)}`,
      message: `not JSON (${(error as Error).message}).`,
      fix: 'Pass the memtune-report.json of an earlier memtune bench.',
    });
  }
  const report = value as Partial<BenchReport> | null;
  if (typeof report !== 'object' || report === null || !Array.isArray(report.packages) || typeof report.environment !== 'object') {
    throw new UsageError({
      where: `--baseline ${quote(given)}`,
      message: 'not a memtune report (no packages[] and environment).',
      fix: 'Pass the memtune-report.json of an earlier memtune bench.',
    });
  }
  if (report.schemaVersion !== SCHEMA_VERSION) {
    throw new UsageError({
      where: `--baseline ${quote(given)}`,
      message: `has schemaVersion ${JSON.stringify(report.schemaVersion)}; this memtune reads ${SCHEMA_VERSION}.`,
      fix: 'Measure the baseline again with this version of memtune.',
    });
  }
  return report as BenchReport;
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
