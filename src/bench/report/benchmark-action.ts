import { finished, worstFigure } from '../stats.js';
import type { BenchReport, PackageResult } from '../types.js';
import { MiB } from '../../shared/size.js';
import { shownName } from './report.js';

/** One entry of the `customSmallerIsBetter` JSON that benchmark-action/github-action-benchmark charts. */
export interface BenchmarkActionEntry {
  name: string;
  unit: 'MiB';
  value: number;
  /** The action's own string form of the variance: `± 3.2`. */
  range?: string;
  /** Shown in the chart's tooltip. */
  extra?: string;
}

const SERIES = [
  ['peakRssBytes', 'peak RSS'],
  ['peakHeapUsedBytes', 'peak heap'],
] as const;

const tenths = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

/**
 * One series per finished package and figure: the largest over the runs (what the gate compares), with
 * half the spread (max − min) as the range. A package that did not finish has no figure to chart.
 */
export function benchmarkActionEntries(report: BenchReport): BenchmarkActionEntry[] {
  const results: PackageResult[] = [...report.packages, ...(report.solution ? [report.solution] : [])];
  return results
    .filter((pkg) => finished(pkg.status))
    .flatMap((pkg) =>
      SERIES.flatMap(([field, label]) => {
        const value = worstFigure(pkg, field);
        if (value === null) return [];
        const spread = pkg.spread[field];
        return [
          {
            name: `${shownName(pkg)} (${pkg.task}) ${label}`,
            unit: 'MiB' as const,
            value: tenths(value),
            ...(spread && pkg.runs.length > 1 ? { range: `± ${tenths((spread.max - spread.min) / 2)}` } : {}),
            extra: `runs: ${pkg.runs.length}\ncompiler: TypeScript ${pkg.compiler.version}`,
          },
        ];
      }),
    );
}
