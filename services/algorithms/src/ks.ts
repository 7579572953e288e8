/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, matching scipy.stats.ks_2samp with
 * method='auto': the exact null distribution when max(n1, n2) <= 10000, otherwise the
 * asymptotic kstwo.sf(d, round(n1*n2/(n1+n2))).
 */
import { kolmogorovNSf } from './kolmogorov.js';
import { outerProbInsideMethod, probOutsideSquare } from './ks-exact.js';
import { clip01, gcd, roundHalfEven } from './numeric.js';
import { sortedCopy } from './quantile.js';

export type KsResult = { statistic: number; pValue: number };

const MAX_AUTO_N = 10000;

function assertSample(x: Float64Array, what: string): void {
  if (!(x instanceof Float64Array)) throw new TypeError(`${what} must be a Float64Array`);
  if (x.length === 0) throw new RangeError(`${what} must not be empty`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new RangeError(`${what}: value at index ${i} is not finite`);
  }
}

/**
 * sup |F1 - F2| over the pooled values, evaluating each ECDF as count/n exactly as scipy does
 * (searchsorted 'right' / n), by merging the two sorted samples.
 */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = 0;
  let minS = 0;
  while (i < n1 || j < n2) {
    const va = i < n1 ? a[i]! : Infinity;
    const vb = j < n2 ? b[j]! : Infinity;
    const v = va < vb ? va : vb;
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const down = Math.min(-minS, 1);
  return down > maxS ? down : maxS;
}

/**
 * The exact p-value depends only on (n1, n2, h), and the drift worker asks for the same few
 * thousand of them window after window (fixed window and reference sizes, h ≤ lcm): they are
 * kept, so each is computed once. Bounded; cleared when full.
 */
const exactMemo = new Map<string, number>();
const EXACT_MEMO_MAX = 100_000;

function exactOutsideProb(n1: number, n2: number, g: number, h: number): number {
  const key = `${n1},${n2},${h}`;
  let p = exactMemo.get(key);
  if (p === undefined) {
    p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
    if (exactMemo.size >= EXACT_MEMO_MAX) exactMemo.clear();
    exactMemo.set(key, p);
  }
  return p;
}

/** Exact p-value or null when scipy would fall back to the asymptotic one. */
function exactPValue(n1: number, n2: number, d: number): { d: number; p: number } | null {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dq = h / lcm;
  if (h === 0) return { d: dq, p: 1 };
  const p = exactOutsideProb(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return null;
  return { d: dq, p };
}

export function ksTwoSample(a: Float64Array, b: Float64Array): KsResult {
  assertSample(a, 'ksTwoSample: first sample');
  assertSample(b, 'ksTwoSample: second sample');
  return ksTwoSampleSorted(sortedCopy(a), sortedCopy(b));
}

/** ksTwoSample for samples already sorted ascending (lets callers reuse a sorted reference). */
export function ksTwoSampleSorted(sa: Float64Array, sb: Float64Array): KsResult {
  const n1 = sa.length;
  const n2 = sb.length;
  const d = ksStatisticSorted(sa, sb);
  if (Math.max(n1, n2) <= MAX_AUTO_N) {
    const exact = exactPValue(n1, n2, d);
    if (exact) return { statistic: exact.d, pValue: exact.p };
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: clip01(kolmogorovNSf(roundHalfEven(en), d)) };
}
