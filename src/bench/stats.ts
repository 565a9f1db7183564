import { SUMMARY_FIELDS, type PackageResult, type RunFigures, type RunStatus, type Spread, type SummaryField } from './types.js';
import { median as medianOf } from '../shared/median.js';

/** Worst first: the status a package gets is the worst of its runs. */
const SEVERITY: readonly RunStatus[] = ['config-error', 'oom', 'timeout', 'killed', 'crashed', 'no-check', 'failed', 'ok'];

/** Runs that spread more than this share either side of the median are unsteady. */
export const UNSTEADY_SHARE = 0.03;

export type RunSummary = Omit<PackageResult, 'name' | 'dir' | 'task' | 'compiler' | 'profile' | 'runs'>;

export function worstStatus(statuses: readonly RunStatus[]): RunStatus {
  return SEVERITY.find((status) => statuses.includes(status)) ?? 'ok';
}

/** The median of a figure over runs, in whole units like the figures themselves. */
export function median(values: readonly number[]): number {
  return medianOf(values, { roundMean: true });
}

export function spreadOf(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const middle = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: middle, min, max, unsteady: max - middle > UNSTEADY_SHARE * middle || middle - min > UNSTEADY_SHARE * middle };
}

/**
 * One package's figures over its runs: medians, and median/min/max per figure. A figure that no run
 * has (V8 heap for a native compiler) stays null.
 */
export function summarizeRuns(runs: readonly RunFigures[]): RunSummary {
  if (runs.length === 0) throw new Error('summarizeRuns needs at least one run');
  const status = worstStatus(runs.map((run) => run.status));
  const worst = runs.find((run) => run.status === status)!;
  const spread: Partial<Record<SummaryField, Spread>> = {};
  const medians = {} as Record<SummaryField, number | null>;
  for (const field of SUMMARY_FIELDS) {
    const values = runs.map((run) => run[field]).filter((value): value is number => typeof value === 'number');
    const figure = spreadOf(values);
    if (figure) spread[field] = figure;
    medians[field] = figure?.median ?? null;
  }
  // Counts (files, types) are the same in every run; the first complete run has them all.
  const diagnostics = (runs.find((run) => run.status === 'ok' || run.status === 'failed') ?? runs[0]!).diagnostics;
  return {
    status,
    exitCode: worst.exitCode,
    ...medians,
    wallMs: medians.wallMs ?? 0,
    diagnostics,
    spread,
    parallel: runs.some((run) => run.parallel),
  };
}

/** A cold check whose CPU time is below this share of a cold check of the same package did not check. */
const UNCHECKED_CPU_SHARE = 0.5;
/**
 * CPU time comes from /proc samples every 20 ms, which miss a process's last moments on every thread: a
 * check shorter than this is not judged by it (a 0.6 s native check read 290 against 630 ms, both cold).
 */
const UNCHECKED_MIN_CPU_MS = 2000;

/**
 * A cold check that checked nothing is not a measurement. With the compiler's counts in a run: 0
 * instantiations, or a check time of 0, where another run had some. Without them (measured runs go
 * without --extendedDiagnostics): less than half the CPU time of the package's counting run, itself a
 * cold check (a re-check of old build info costs a fraction: 0.13 of the wall time seen on real code),
 * where that run took long enough for its CPU time to be read well.
 * Such runs become `no-check`, never figures. (A `--warm` bench measures exactly that re-check, on purpose.)
 */
export function markUncheckedRuns(runs: readonly RunFigures[], counting?: RunFigures): RunFigures[] {
  const all = counting ? [...runs, counting] : runs;
  const most = (key: 'instantiations' | 'checkTimeMs') => Math.max(0, ...all.filter((run) => finished(run.status)).map((run) => run.diagnostics[key] ?? 0));
  const instantiations = most('instantiations');
  const checkTime = most('checkTimeMs');
  const referenceCpu =
    counting && finished(counting.status) && (counting.diagnostics.instantiations ?? 0) > 0 && (counting.cpuMs ?? 0) >= UNCHECKED_MIN_CPU_MS ? counting.cpuMs : null;
  return runs.map((run) => {
    if (!finished(run.status)) return run;
    const counted = (run.diagnostics.instantiations === 0 && instantiations > 0) || (run.diagnostics.checkTimeMs === 0 && checkTime > 0);
    const cheap = run.diagnostics.instantiations === undefined && referenceCpu !== null && run.cpuMs !== null && run.cpuMs < UNCHECKED_CPU_SHARE * referenceCpu;
    if (!counted && !cheap) return run;
    const what = counted
      ? `${run.diagnostics.instantiations ?? '?'} instantiations, check time ${run.diagnostics.checkTimeMs ?? '?'} ms, where another run of the package had ${instantiations} instantiations`
      : `${run.cpuMs} ms of CPU, where a cold check of the package took ${referenceCpu} ms`;
    return { ...run, status: 'no-check', messages: `this run checked nothing (${what}): it re-used build info and is not a cold check` };
  });
}

/** The compiler ran to its end (type errors or not): only then are its figures a basis for anything. */
export function finished(status: RunStatus): boolean {
  return status === 'ok' || status === 'failed';
}

/** The largest value seen over the runs: what must be left room for, not the median run. */
export function worstFigure(result: PackageResult, field: SummaryField): number | null {
  return result.spread[field]?.max ?? result[field];
}

/** The figures of a run that measured nothing (it could not start, or its tsconfig could not be read): no figure, and why. */
export function unmeasuredFigures(status: RunStatus, messages: string): Omit<RunFigures, 'parallel'> {
  return {
    status,
    exitCode: null,
    signal: null,
    wallMs: 0,
    cpuMs: null,
    peakRssBytes: null,
    peakHeapUsedBytes: null,
    retainedHeapBytes: null,
    heapLimitBytes: null,
    gcCount: null,
    gcMs: null,
    goHeapPeakBytes: null,
    goHeapLiveBytes: null,
    diagnostics: {},
    messages,
  };
}
