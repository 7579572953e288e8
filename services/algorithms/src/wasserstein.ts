/**
 * First Wasserstein distance between two 1-D empirical distributions, as
 * scipy.stats.wasserstein_distance (unweighted): the integral of |F_u - F_v| over the pooled
 * sorted values. Summed with Neumaier compensation so large samples stay within 1e-12.
 */
import { sortedCopy } from './quantile.js';

function assertSample(x: Float64Array, what: string): void {
  if (!(x instanceof Float64Array)) throw new TypeError(`${what} must be a Float64Array`);
  if (x.length === 0) throw new RangeError(`${what} must not be empty`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new RangeError(`${what}: value at index ${i} is not finite`);
  }
}

/** For already sorted samples. */
export function wasserstein1Sorted(u: Float64Array, v: Float64Array): number {
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  let sum = 0;
  let comp = 0;
  // Visit each distinct pooled value x; on [x, next) both ECDFs are constant (counts of values <= x).
  let x = Math.min(u[0]!, v[0]!);
  for (;;) {
    while (i < nu && u[i]! <= x) i++;
    while (j < nv && v[j]! <= x) j++;
    if (i === nu && j === nv) break;
    const next = Math.min(i < nu ? u[i]! : Infinity, j < nv ? v[j]! : Infinity);
    const term = Math.abs(i / nu - j / nv) * (next - x);
    const t = sum + term;
    comp += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    sum = t;
    x = next;
  }
  return sum + comp;
}

export function wasserstein1(a: Float64Array, b: Float64Array): number {
  assertSample(a, 'wasserstein1: first sample');
  assertSample(b, 'wasserstein1: second sample');
  return wasserstein1Sorted(sortedCopy(a), sortedCopy(b));
}
