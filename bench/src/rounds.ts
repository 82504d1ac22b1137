/**
 * One number for a phase run in several rounds (`--rounds`): the median, the mean of the middle two
 * for an even count, rounded; undefined for none. A round that met a busy minute moves it less than
 * it would move a mean.
 */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
}
