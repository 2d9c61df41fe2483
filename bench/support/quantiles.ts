/**
 * The nearest-rank quantile `q` (0 to 1) of `sorted`, which is in ascending order:
 * the element at floor(q × n), the last for q = 1; undefined when it is empty.
 * Each benchmark rounds it as its figures need.
 */
export function nearestRank(sorted: readonly number[], q: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
