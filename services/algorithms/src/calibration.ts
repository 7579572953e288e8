/**
 * Null calibration of the dataset-level combination statistic S = Σ_j T_j (the two-sample
 * Cramér–von Mises statistics of all features, window vs reference sample).
 *
 * Each T_j has a known null limit, but their sum depends on how the features are correlated, so
 * its null distribution is estimated once per model, at training time, by a two-sample bootstrap
 * that repeats what the drift worker does on unchanged data: each replicate draws a window of n
 * whole rows AND a fresh reference of m whole rows (both with replacement, so the correlation
 * between features is kept) from the reference sample of m rows, and sums the two-sample
 * statistics between them. Comparing a resampled window with the very sample it was drawn from
 * (a one-sample bootstrap) leaves out the reference sample's own noise, whose share of the
 * variability is n/(n+m). The replicate statistic is computed from rank counts (O(n + m) per feature,
 * ties handled as in cvmTwoSampleSorted). The limit of S does not depend on n/m, but finite samples
 * (and ties) may, so the null is drawn for a few window sizes and a window is judged with the one
 * nearest on the scale n/(n+m). Only the upper tail of the draws is stored: enough for p-values up
 * to `tail.length / draws`.
 */
import { mulberry32, randomInt, type Rng } from './random.js';

/** Upper tail of the null of S at one window size. */
export type CalibrationTail = { windowRows: number; tail: number[] };

export type DriftCalibration = {
  /**
   * cvm_sum_2s: two-sample bootstrap (window and reference both resampled), per window size in
   * `byWindow`. cvm_sum: one-sample bootstrap (window vs the reference sample itself), a single
   * tail; stored by earlier versions and still read.
   */
  statistic: 'cvm_sum' | 'cvm_sum_2s';
  /** Rows per bootstrap window (cvm_sum_2s: the first of byWindow). */
  windowRows: number;
  /** Bootstrap replicates per window size. */
  draws: number;
  seed: number;
  /** The largest null draws of S, sorted descending (cvm_sum_2s: those of byWindow[0]). */
  tail: number[];
  /** Rows of the resampled reference (the reference sample's size). */
  referenceRows?: number;
  /** cvm_sum_2s: one tail per calibrated window size, ascending by windowRows. */
  byWindow?: CalibrationTail[];
};

export type CalibrationOptions = {
  /** Replicates per window size (default by work budget, at least 2000, at most 10000). */
  draws?: number;
  /** Window sizes to calibrate (default DEFAULT_CALIBRATION_WINDOWS). */
  windowSizes?: number[];
  /** Single window size (kept for callers of the earlier option; same as windowSizes: [n]). */
  windowRows?: number;
  seed?: number;
  /** Share of the draws kept (the upper tail), default 0.1: p-values are exact up to this. */
  keep?: number;
};

/** Work budget in element updates per window size: keeps training-time calibration to seconds. */
const WORK_BUDGET = 4e8;
export const MIN_DRAWS = 2000;
export const MAX_DRAWS = 10000;
/**
 * Window sizes calibrated by default. On the share scale n/(n+m) they sit at the small-window
 * end, in the middle and at n = m (for a 2000-row reference sample); the bench found no trend of
 * the critical value with n (docs/drift.md), so three sizes suffice to follow a finite-sample one.
 */
export const DEFAULT_CALIBRATION_WINDOWS: readonly number[] = Object.freeze([100, 500, 2000]);

type FeatureRanks = { rank: Int32Array; distinct: number };

function ranksOf(sample: readonly number[]): FeatureRanks {
  const m = sample.length;
  const idx = Array.from({ length: m }, (_, i) => i).sort((a, b) => sample[a]! - sample[b]!);
  const rank = new Int32Array(m);
  let k = -1;
  let prev = NaN;
  for (const i of idx) {
    const v = sample[i]!;
    if (k < 0 || v !== prev) {
      k++;
      prev = v;
    }
    rank[i] = k;
  }
  return { rank, distinct: k + 1 };
}

function checkSamples(samples: readonly (readonly number[])[]): number {
  if (samples.length === 0) throw new RangeError('calibration needs at least one feature');
  const m = samples[0]!.length;
  if (m < 2) throw new RangeError('calibration needs a reference sample of at least 2 rows');
  for (const s of samples) if (s.length !== m) throw new RangeError('calibration samples must be row-aligned');
  return m;
}

/**
 * Draws `draws` replicates of S for windows of n rows against resampled references of m rows
 * (both from the m-row reference sample). Returns them unsorted.
 */
export function twoSampleNullDraws(
  samples: readonly (readonly number[])[],
  n: number,
  draws: number,
  rng: Rng,
): Float64Array {
  const m = checkSamples(samples);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`calibration window size must be a positive integer, got ${n}`);
  const feats = samples.map(ranksOf);
  const k = feats.length;
  const win = feats.map((f) => new Int32Array(f.distinct));
  const ref = feats.map((f) => new Int32Array(f.distinct));
  const wRows = new Int32Array(n);
  const rRows = new Int32Array(m);
  const scale = (n * m) / (n + m) ** 2;
  const out = new Float64Array(draws);
  for (let b = 0; b < draws; b++) {
    for (let r = 0; r < n; r++) wRows[r] = randomInt(rng, m);
    for (let r = 0; r < m; r++) rRows[r] = randomInt(rng, m);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const rank = feats[j]!.rank;
      const a = win[j]!;
      const c = ref[j]!;
      a.fill(0);
      c.fill(0);
      for (let r = 0; r < n; r++) a[rank[wRows[r]!]!]!++;
      for (let r = 0; r < m; r++) c[rank[rRows[r]!]!]!++;
      // Same sum as cvmTwoSampleSorted: one term per observation at each distinct pooled value.
      let ca = 0;
      let cc = 0;
      let sum = 0;
      for (let q = 0; q < a.length; q++) {
        const w = a[q]! + c[q]!;
        if (w === 0) continue;
        ca += a[q]!;
        cc += c[q]!;
        const d = ca / n - cc / m;
        sum += w * d * d;
      }
      s += scale * sum;
    }
    out[b] = s;
  }
  return out;
}

/** Replicates per window size when none are given: the work budget, clamped to [MIN_DRAWS, MAX_DRAWS]. */
export function defaultDraws(features: number, referenceRows: number, largestWindow: number): number {
  const perDraw = features * (largestWindow + 3 * referenceRows);
  return Math.max(MIN_DRAWS, Math.min(MAX_DRAWS, Math.floor(WORK_BUDGET / perDraw)));
}

function upperTail(draws: Float64Array, keep: number): number[] {
  draws.sort();
  const kept = Math.max(1, Math.ceil(keep * draws.length));
  return Array.from(draws.subarray(draws.length - kept)).reverse();
}

/** Draws the bootstrap null of S from row-aligned reference samples (one array per feature). */
export function calibrateCombination(
  samples: readonly (readonly number[])[],
  opts: CalibrationOptions = {},
): DriftCalibration {
  const m = checkSamples(samples);
  const sizes = [
    ...new Set(opts.windowSizes ?? (opts.windowRows ? [opts.windowRows] : DEFAULT_CALIBRATION_WINDOWS)),
  ].sort((a, b) => a - b);
  if (sizes.length === 0) throw new RangeError('calibration needs at least one window size');
  const seed = opts.seed ?? 7;
  const keep = opts.keep ?? 0.1;
  const k = samples.length;
  const maxN = sizes[sizes.length - 1]!;
  const draws = opts.draws ?? defaultDraws(k, m, maxN);
  // One stream per window size: adding a size does not change the others' draws.
  const byWindow = sizes.map((n, i) => ({
    windowRows: n,
    tail: upperTail(twoSampleNullDraws(samples, n, draws, mulberry32(seed + 7919 * i)), keep),
  }));
  return {
    statistic: 'cvm_sum_2s',
    windowRows: byWindow[0]!.windowRows,
    draws,
    seed,
    tail: byWindow[0]!.tail,
    referenceRows: m,
    byWindow,
  };
}

/**
 * The stored tail for a window of n rows: for cvm_sum_2s the calibrated size nearest on the scale
 * n/(n + m) (the reference's share of the noise), for cvm_sum its single tail.
 */
export function tailFor(cal: DriftCalibration, n: number): CalibrationTail {
  const list = cal.statistic === 'cvm_sum_2s' && cal.byWindow?.length ? cal.byWindow : [cal];
  const m = cal.referenceRows ?? n;
  const share = (w: number) => w / (w + m);
  let best = list[0]!;
  for (const c of list)
    if (Math.abs(share(c.windowRows) - share(n)) < Math.abs(share(best.windowRows) - share(n))) best = c;
  return { windowRows: best.windowRows, tail: best.tail };
}

/**
 * Bootstrap p-value (1 + #{draws ≥ s}) / (draws + 1). When s is below every stored draw the
 * p-value is only known to be at least the stored share: `censored` is then true.
 */
export function combinationPValue(
  cal: DriftCalibration,
  s: number,
  windowRows = cal.windowRows,
): { pValue: number; censored: boolean } {
  const t = tailFor(cal, windowRows).tail;
  let lo = 0;
  let hi = t.length;
  // t is descending: count the draws >= s.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! >= s) lo = mid + 1;
    else hi = mid;
  }
  return { pValue: Math.min(1, (1 + lo) / (cal.draws + 1)), censored: lo === t.length };
}

/**
 * The critical value at level alpha: S above it gives a p-value <= alpha. Infinity when alpha is
 * below 1 / (draws + 1) (no draw count can reach it); throws when alpha exceeds the stored tail.
 */
export function combinationThreshold(cal: DriftCalibration, alpha: number, windowRows = cal.windowRows): number {
  const tail = tailFor(cal, windowRows).tail;
  const allowed = Math.floor(alpha * (cal.draws + 1) + 1e-9) - 1;
  if (allowed < 0) return Infinity;
  if (allowed >= tail.length)
    throw new RangeError(`alpha ${alpha} is above the calibrated tail (${tail.length / cal.draws})`);
  return tail[allowed]!;
}
