/**
 * Robust z-score baseline (Iglewicz & Hoaglin): per feature z = (x - median) / (1.4826 * MAD).
 * A row's score is the largest |z| over its features, so one wildly off feature is enough to flag
 * it; the conventional threshold is 3.5.
 */
import { assertFinite, assertMatrix, column, type Matrix } from './matrix.js';
import { medianSorted, sortedCopy } from './quantile.js';

export type RobustZParams = { threshold?: number };

export type RobustZModel = {
  kind: 'robust_zscore';
  version: 1;
  nFeatures: number;
  median: number[];
  /** 1.4826 * MAD per feature, with the fallbacks described in fitRobustZScore. */
  scale: number[];
  threshold: number;
};

/** Makes the MAD a consistent estimator of the standard deviation for normal data. */
export const MAD_TO_SD = 1.4826;
/** Mean absolute deviation to standard deviation for normal data (sqrt(pi/2)). */
const MEAN_AD_TO_SD = 1.2533141373155001;

/**
 * When more than half the values equal the median the MAD is 0; the mean absolute deviation is
 * used instead (the usual modified-z fallback). A truly constant feature gets a tiny scale, so any
 * departure from the constant scores huge while equal values score 0.
 */
export function fitRobustZScore(x: Matrix, p: RobustZParams = {}): RobustZModel {
  assertMatrix(x, 'robust z-score training data');
  if (x.rows < 1) throw new RangeError('robust z-score: training data must have at least one row');
  assertFinite(x.data, 'robust z-score training data');
  const threshold = p.threshold ?? 3.5;
  if (!(threshold > 0) || !Number.isFinite(threshold)) throw new RangeError('threshold must be a positive number');
  const median: number[] = [];
  const scale: number[] = [];
  const dev = new Float64Array(x.rows);
  for (let j = 0; j < x.cols; j++) {
    const col = column(x, j);
    const med = medianSorted(sortedCopy(col));
    let sumAbs = 0;
    for (let i = 0; i < col.length; i++) {
      dev[i] = Math.abs(col[i]! - med);
      sumAbs += dev[i]!;
    }
    let s = MAD_TO_SD * medianSorted(dev.slice().sort());
    if (s === 0) s = (MEAN_AD_TO_SD * sumAbs) / x.rows;
    if (s === 0) s = Number.EPSILON * Math.max(1, Math.abs(med));
    median.push(med);
    scale.push(s);
  }
  return { kind: 'robust_zscore', version: 1, nFeatures: x.cols, median, scale, threshold };
}

export function scoreRobustZScore(model: RobustZModel, x: Matrix): Float64Array {
  assertMatrix(x, 'robust z-score input');
  if (model?.kind !== 'robust_zscore') throw new TypeError('not a robust z-score model');
  if (x.cols !== model.nFeatures) {
    throw new RangeError(`robust z-score: model has ${model.nFeatures} features, input has ${x.cols}`);
  }
  assertFinite(x.data, 'robust z-score input');
  const med = Float64Array.from(model.median);
  const inv = Float64Array.from(model.scale, (s) => 1 / s);
  const out = new Float64Array(x.rows);
  for (let r = 0, base = 0; r < x.rows; r++, base += x.cols) {
    let m = 0;
    for (let j = 0; j < x.cols; j++) {
      const z = Math.abs(x.data[base + j]! - med[j]!) * inv[j]!;
      if (z > m) m = z;
    }
    out[r] = m;
  }
  return out;
}
