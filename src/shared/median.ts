/**
 * The middle value, or the mean of the two middle ones. `roundMean` rounds that mean, so figures that are
 * whole numbers (bytes, ms) stay whole; a single middle value is returned as it is.
 */
export function median(values: readonly number[], options: { roundMean?: boolean } = {}): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle]!;
  const mean = (sorted[middle - 1]! + sorted[middle]!) / 2;
  return options.roundMean ? Math.round(mean) : mean;
}
