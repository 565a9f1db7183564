import { finished, worstFigure } from './stats.js';
import type { BenchReport, ConcurrencyRecommendation, HeapRecommendation, PackageResult, Recommendations } from './types.js';
import { MiB, formatBytes } from '../shared/size.js';
import { HEAP_HEADROOM, HEAP_MIN_MiB, HEAP_STEP_MiB, heapMiBWithHeadroom } from '../shared/heap-need.js';
import { MIN_HEAP_SAFETY, MIN_HEAP_SAFETY_WHY, NATIVE_WALL_FACTOR } from './min-heap.js';
import { concurrencyBasis, fitConcurrency, type TaskPeak } from '../shared/concurrency.js';

export function mibText(bytes: number): string {
  return `${Math.round(bytes / MiB)} MiB`;
}

/** A heap from a figure × a headroom factor, rounded up to a multiple of HEAP_STEP_MiB, at least HEAP_MIN_MiB; `what` names the figure in the basis. */
function headroomLine(result: PackageResult, figure: HeapRecommendation['figure'], bytes: number, factor: number, what: string, why = ''): HeapRecommendation {
  const rounding = bytes * factor <= (HEAP_MIN_MiB - HEAP_STEP_MiB) * MiB ? `, raised to the ${HEAP_MIN_MiB} MiB floor` : `, rounded up to a multiple of ${HEAP_STEP_MiB} MiB`;
  return {
    package: result.name,
    dir: result.dir,
    maxOldSpaceSizeMiB: heapMiBWithHeadroom(bytes, factor),
    figure,
    figureBytes: bytes,
    factor,
    section: result.profile,
    basis: `${what} × ${factor}${rounding}${why}`,
  };
}

function heapLine(result: PackageResult): HeapRecommendation | null {
  if (result.compiler.native || !finished(result.status)) return null;
  const minimum = result.minHeap?.setting === 'max-old-space-size' ? result.minHeap.bytes : null;
  if (minimum !== null) {
    return headroomLine(
      result,
      'minHeapBytes',
      minimum,
      MIN_HEAP_SAFETY,
      `smallest heap the check completed with ${mibText(minimum)} (--find-min-heap)`,
      `; ${MIN_HEAP_SAFETY_WHY}`,
    );
  }
  const peak = worstFigure(result, 'peakHeapUsedBytes');
  if (peak === null) return null;
  // --profile: a heap the user set (a .node-options line, NODE_OPTIONS) that every run completed under is kept. Its
  // peak was shaped by that limit, so the peak × 1.25 would ask for more than what just worked.
  const applied = result.applied;
  if (applied?.heapMiB != null && applied.heapFrom !== null && !applied.heapFrom.startsWith('preset ') && result.runs.every((run) => finished(run.status))) {
    return {
      package: result.name,
      dir: result.dir,
      maxOldSpaceSizeMiB: applied.heapMiB,
      figure: 'appliedHeapBytes',
      figureBytes: applied.heapMiB * MiB,
      factor: 1,
      section: result.profile,
      basis: `the --max-old-space-size=${applied.heapMiB} it ran under (${applied.heapFrom}): every run completed with it, peak used heap ${mibText(peak)}; --find-min-heap says how far below it could go`,
    };
  }
  const over = result.runs.length > 1 && result.spread.peakHeapUsedBytes ? ` (the largest of ${result.runs.length} runs)` : '';
  return headroomLine(result, 'peakHeapUsedBytes', peak, HEAP_HEADROOM, `peak used heap ${mibText(peak)}${over}`);
}

/** The peak RSS of each check that ran to its end (the largest over its runs): a run stopped early is no basis. */
export function measuredPeaks(report: Pick<BenchReport, 'packages'>): TaskPeak[] {
  const peaks: TaskPeak[] = [];
  for (const result of report.packages.filter((pkg) => finished(pkg.status))) {
    const bytes = worstFigure(result, 'peakRssBytes');
    if (bytes !== null && bytes > 0) peaks.push({ name: result.name, bytes });
  }
  return peaks;
}

/** How many of the measured checks fit at once in `budgetBytes` on `cpus` cores; null when nothing was measured. */
export function concurrencyLine(report: Pick<BenchReport, 'packages'>, budgetBytes: number, cpus: number): ConcurrencyRecommendation | null {
  const peaks = measuredPeaks(report);
  if (peaks.length === 0) return null;
  const fit = fitConcurrency(peaks, budgetBytes, Math.max(1, cpus));
  const largest = fit.largest[0]!;
  return { value: fit.value, budgetBytes: fit.budgetBytes, boundBy: largest.name, peakRssBytes: largest.bytes, sumBytes: fit.sumBytes, basis: concurrencyBasis(fit) };
}

function solutionNote(report: ReportWithout): string | null {
  const solution = report.solution;
  if (!solution) return null;
  const what = `solution build (${solution.task})`;
  if (!finished(solution.status)) {
    return `${what} ended with status ${solution.status}: its peak RSS is not a basis; ${remedy(solution)}.`;
  }
  const peak = worstFigure(solution, 'peakRssBytes');
  if (peak === null) return `${what}: no peak RSS was measured.`;
  const budget = formatBytes(report.options.budgetBytes);
  return peak <= report.options.budgetBytes
    ? `${what}: peak RSS ${mibText(peak)} fits the budget of ${budget}.`
    : `${what}: peak RSS ${mibText(peak)} does not fit the budget of ${budget}: build the solution on a larger machine or build its projects one at a time.`;
}

function remedy(result: PackageResult): string {
  switch (result.status) {
    case 'oom':
      if (result.applied?.heapMiB != null) {
        return `the --max-old-space-size=${result.applied.heapMiB} it ran under (${result.applied.heapFrom}) is too small: raise it there, or find what it needs with memtune bench --find-min-heap`;
      }
      return result.compiler.native
        ? 'raise the memory limit or lower --checkers, then run memtune bench again'
        : 'raise the heap (--max-old-space-size) or run it under the build profile (memtune run build), then run memtune bench again';
    case 'timeout':
      return 'run memtune bench again with a longer --timeout';
    case 'no-check':
      return 'a run re-used build info and checked nothing; delete stale .tsbuildinfo files or any --tsBuildInfoFile the script passes, then run memtune bench again';
    case 'config-error':
      return 'its compiler cannot read the tsconfig (see its messages); fix it (tsc -p DIR --noEmit in the package shows the same errors), then run memtune bench again';
    case 'killed':
      return 'something outside the compiler stopped it (often the kernel OOM killer): raise the memory limit or lower --concurrency, then run memtune bench again';
    default:
      return 'read its output tail in memtune-report.json, fix the cause and run memtune bench again';
  }
}

type ReportWithout = Omit<BenchReport, 'recommendations'>;

/** What to set, and why, from one bench report: heap limits per JS-compiler package and a safe concurrency. */
export function recommend(report: ReportWithout): Recommendations {
  const heap: HeapRecommendation[] = [];
  for (const result of report.packages) {
    const line = heapLine(result);
    if (line) heap.push(line);
  }
  const notes: string[] = [];
  if (report.packages.some((result) => result.compiler.native)) {
    notes.push('native TypeScript 7 packages: V8 heap flags do not reach the compiler; their peak RSS counts towards concurrency');
  }
  for (const result of report.packages) {
    const search = result.minHeap;
    if (search?.setting === 'GOMEMLIMIT' && search.bytes !== null) {
      const saved =
        search.savedRssBytes === null
          ? ''
          : `; its peak RSS there was ${mibText(Math.abs(search.savedRssBytes))} ${search.savedRssBytes >= 0 ? 'less' : 'more'} than unconstrained`;
      notes.push(
        `${result.name}: GOMEMLIMIT=${Math.round(search.bytes / MiB)}MiB is the smallest that kept the check within ${NATIVE_WALL_FACTOR} × its wall time (--find-min-heap)${saved}.`,
      );
    }
  }
  const solution = solutionNote(report);
  if (solution) notes.push(solution);
  for (const result of report.packages) {
    if (!finished(result.status)) {
      notes.push(`${result.name} ended with status ${result.status}: its figures are not a basis; ${remedy(result)}.`);
    }
  }
  return { heap, concurrency: concurrencyLine(report, report.options.budgetBytes, report.environment.cpu.count), notes };
}
