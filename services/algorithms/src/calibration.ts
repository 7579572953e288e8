/**
 * Null calibration of the dataset-level combination statistic S = Σ_j T_j (the two-sample
 * Cramér–von Mises statistics of all features, window vs reference sample).
 *
 * Each T_j has a known null limit, but their sum depends on how the features are correlated, so
 * its null distribution is estimated once per model, at training time: bootstrap windows of whole
 * rows are drawn (with replacement) from the reference sample, which keeps the correlation between
 * features, and for each the one-sample statistic W_j = n·∫(F*_n − F̂)² dF̂ is summed over features.
 * W_j has the same limit as T_j (∫B(F)² dF for a Brownian bridge B, continuous or tied data alike)
 * whatever the window and reference sizes, so one calibration serves every window size. Only the
 * upper tail of the draws is stored: enough for p-values up to `tail.length / draws`.
 */
import { mulberry32, randomInt } from './random.js';

export type DriftCalibration = {
  statistic: 'cvm_sum';
  /** Rows per bootstrap window. */
  windowRows: number;
  /** Bootstrap windows drawn. */
  draws: number;
  seed: number;
  /** The largest null draws of S, sorted descending. */
  tail: number[];
};

export type CalibrationOptions = {
  /** Bootstrap windows (default 10000, fewer when features × sample rows are many; at least 2000). */
  draws?: number;
  windowRows?: number;
  seed?: number;
  /** Share of the draws kept (the upper tail), default 0.1: p-values are exact up to this. */
  keep?: number;
};

/** Work budget in element updates: keeps training-time calibration around a second. */
const WORK_BUDGET = 3e8;
export const MIN_DRAWS = 2000;
export const MAX_DRAWS = 10000;

type FeatureRanks = { rank: Int32Array; weight: Float64Array; refCdf: Float64Array };

function ranksOf(sample: readonly number[]): FeatureRanks {
  const m = sample.length;
  const idx = Array.from({ length: m }, (_, i) => i).sort((a, b) => sample[a]! - sample[b]!);
  const rank = new Int32Array(m);
  const counts: number[] = [];
  let k = -1;
  let prev = NaN;
  for (const i of idx) {
    const v = sample[i]!;
    if (k < 0 || v !== prev) {
      k++;
      counts.push(0);
      prev = v;
    }
    rank[i] = k;
    counts[k]!++;
  }
  const weight = Float64Array.from(counts, (c) => c / m);
  const refCdf = new Float64Array(counts.length);
  let cum = 0;
  counts.forEach((c, q) => {
    cum += c;
    refCdf[q] = cum / m;
  });
  return { rank, weight, refCdf };
}

/** Draws the bootstrap null of S from row-aligned reference samples (one array per feature). */
export function calibrateCombination(
  samples: readonly (readonly number[])[],
  opts: CalibrationOptions = {},
): DriftCalibration {
  if (samples.length === 0) throw new RangeError('calibration needs at least one feature');
  const m = samples[0]!.length;
  if (m < 2) throw new RangeError('calibration needs a reference sample of at least 2 rows');
  for (const s of samples) if (s.length !== m) throw new RangeError('calibration samples must be row-aligned');
  const windowRows = opts.windowRows ?? 500;
  const seed = opts.seed ?? 7;
  const keep = opts.keep ?? 0.1;
  const k = samples.length;
  const draws =
    opts.draws ?? Math.max(MIN_DRAWS, Math.min(MAX_DRAWS, Math.floor(WORK_BUDGET / (k * (windowRows + m)))));
  const feats = samples.map(ranksOf);
  const counts = feats.map((f) => new Int32Array(f.weight.length));
  const rows = new Int32Array(windowRows);
  const rng = mulberry32(seed);
  const null_ = new Float64Array(draws);
  for (let b = 0; b < draws; b++) {
    for (let r = 0; r < windowRows; r++) rows[r] = randomInt(rng, m);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const f = feats[j]!;
      const c = counts[j]!;
      c.fill(0);
      for (let r = 0; r < windowRows; r++) c[f.rank[rows[r]!]!]!++;
      let cum = 0;
      let sum = 0;
      for (let q = 0; q < c.length; q++) {
        cum += c[q]!;
        const d = cum / windowRows - f.refCdf[q]!;
        sum += f.weight[q]! * d * d;
      }
      s += windowRows * sum;
    }
    null_[b] = s;
  }
  null_.sort();
  const kept = Math.max(1, Math.ceil(keep * draws));
  const tail = Array.from(null_.subarray(draws - kept)).reverse();
  return { statistic: 'cvm_sum', windowRows, draws, seed, tail };
}

/**
 * Bootstrap p-value (1 + #{draws ≥ s}) / (draws + 1). When s is below every stored draw the
 * p-value is only known to be at least the stored share: `censored` is then true.
 */
export function combinationPValue(cal: DriftCalibration, s: number): { pValue: number; censored: boolean } {
  const t = cal.tail;
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
export function combinationThreshold(cal: DriftCalibration, alpha: number): number {
  const allowed = Math.floor(alpha * (cal.draws + 1) + 1e-9) - 1;
  if (allowed < 0) return Infinity;
  if (allowed >= cal.tail.length)
    throw new RangeError(`alpha ${alpha} is above the calibrated tail (${cal.tail.length / cal.draws})`);
  return cal.tail[allowed]!;
}
