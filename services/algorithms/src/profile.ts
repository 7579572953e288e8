/**
 * Reference profile: what the drift worker keeps from training so it can compare later windows
 * without the training data. Per feature: PSI cut points and bin shares (computed on all rows),
 * mean/std, and a bounded seeded sample (row-aligned across features) for KS and Wasserstein;
 * the same for the anomaly scores; the training anomaly rate at the model threshold; and the
 * bootstrap null of the dataset-level drift statistic (calibration.ts), computed once here.
 * Plain JSON: numbers and arrays only.
 */
import { calibrateCombination, type CalibrationOptions, type DriftCalibration } from './calibration.js';
import { assertFinite, assertMatrix, column, type Matrix } from './matrix.js';
import { binFractions, quantileCuts } from './psi.js';
import { sortedCopy } from './quantile.js';
import { mulberry32, randomInt } from './random.js';

export type DistributionProfile = {
  /** Interior PSI cut points (deduplicated reference quantiles). */
  cuts: number[];
  /** Reference share of each of the cuts.length + 1 bins. */
  fractions: number[];
  mean: number;
  /** Population standard deviation (ddof 0) of all reference rows. */
  std: number;
  min: number;
  max: number;
  /** Bounded seeded sample of the reference values. */
  sample: number[];
};

export type ReferenceProfile = {
  version: 1;
  /** Training rows the profile summarises (decides KS vs Wasserstein, as Evidently does). */
  rows: number;
  bins: number;
  sampleSize: number;
  seed: number;
  features: DistributionProfile[];
  scores: DistributionProfile;
  /** Model threshold used for labels, or null when none was given. */
  threshold: number | null;
  /** Share of training rows scored above the threshold, or null without a threshold. */
  anomalyRate: number | null;
  /** Null distribution of the dataset-level combination statistic (absent in older profiles). */
  calibration?: DriftCalibration;
};

export type ReferenceProfileOptions = {
  bins?: number;
  sampleSize?: number;
  seed?: number;
  threshold?: number;
  /** Bootstrap calibration of the dataset-level drift test; false skips it (analytic fallback). */
  calibration?: CalibrationOptions | false;
};

function describe(values: Float64Array, sampleIdx: Int32Array, bins: number): DistributionProfile {
  const sorted = sortedCopy(values);
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i]! - mean) ** 2;
  const cuts = quantileCuts(sorted, bins);
  return {
    cuts,
    fractions: binFractions(cuts, values),
    mean,
    std: Math.sqrt(ss / values.length),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    sample: Array.from(sampleIdx, (i) => values[i]!),
  };
}

export function buildReferenceProfile(
  x: Matrix,
  scores: Float64Array,
  opts: ReferenceProfileOptions = {},
): ReferenceProfile {
  assertMatrix(x, 'reference data');
  if (x.rows < 1) throw new RangeError('reference profile: data must have at least one row');
  assertFinite(x.data, 'reference data');
  if (!(scores instanceof Float64Array) || scores.length !== x.rows) {
    throw new RangeError(`reference profile: expected ${x.rows} scores, got ${scores?.length}`);
  }
  assertFinite(scores, 'reference scores');
  const bins = opts.bins ?? 10;
  const sampleSize = opts.sampleSize ?? 2000;
  const seed = opts.seed ?? 42;
  if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new RangeError('sampleSize must be a positive integer');
  const k = Math.min(sampleSize, x.rows);
  // Partial Fisher–Yates: a uniform sample of k row indices without replacement, in sorted order.
  const perm = new Int32Array(x.rows);
  for (let i = 0; i < x.rows; i++) perm[i] = i;
  const rng = mulberry32(seed);
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(rng, x.rows - i);
    const t = perm[j]!;
    perm[j] = perm[i]!;
    perm[i] = t;
  }
  const sampleIdx = perm.slice(0, k).sort();
  const features: DistributionProfile[] = [];
  for (let j = 0; j < x.cols; j++) features.push(describe(column(x, j), sampleIdx, bins));
  let anomalyRate: number | null = null;
  const threshold = opts.threshold ?? null;
  if (threshold !== null) {
    let above = 0;
    for (let i = 0; i < scores.length; i++) if (scores[i]! > threshold) above++;
    anomalyRate = above / scores.length;
  }
  const profile: ReferenceProfile = {
    version: 1,
    rows: x.rows,
    bins,
    sampleSize: k,
    seed,
    features,
    scores: describe(scores, sampleIdx, bins),
    threshold,
    anomalyRate,
  };
  if (opts.calibration !== false && k >= 2) {
    profile.calibration = calibrateCombination(
      features.map((f) => f.sample),
      opts.calibration ?? {},
    );
  }
  return profile;
}
