import { sortFloat64Copy } from './radix-sort.js';

/** Sorted copy, in Float64Array#sort's order (a radix sort on the bits for large arrays). */
export function sortedCopy(values: Float64Array): Float64Array {
  return sortFloat64Copy(values);
}

/** numpy.quantile's default ("linear", Hyndman–Fan type 7) on an already sorted array. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of an empty array');
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  // numpy's _lerp form, so results match it to the last bit in the common cases.
  return frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac;
}

export function medianSorted(sorted: Float64Array): number {
  return quantileSorted(sorted, 0.5);
}

/** Number of elements < v in a sorted array (numpy searchsorted side='left'). */
export function lowerBound(sorted: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
