const MiB = 1024 * 1024;

/**
 * A first guess of a check's peak RSS before it was ever measured: a compiler's own footprint plus a
 * share per byte of source. Deliberately high: a guess too low lets too much run at once.
 */
export function estimatePeakRss(native: boolean, sourceBytes: number): number {
  return native ? 96 * MiB + sourceBytes * 400 : 192 * MiB + sourceBytes * 600;
}

/**
 * Whether a run with this expected peak may start beside the ones running. Something always runs
 * (a package larger than the budget runs alone), and never more than fits.
 */
export function fitsBudget(expected: number, running: readonly number[], budgetBytes: number, concurrency: number): boolean {
  if (running.length === 0) return true;
  if (running.length >= concurrency) return false;
  return running.reduce((sum, bytes) => sum + bytes, 0) + expected <= budgetBytes;
}
