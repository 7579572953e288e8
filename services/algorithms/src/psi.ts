/**
 * Population Stability Index over reference-quantile bins.
 *
 * Bins: the interior cut points are the reference's quantiles at k/bins (k = 1..bins-1, numpy's
 * default linear interpolation), deduplicated so ties and constant features give fewer, non-empty
 * bins. With cuts c_1 < ... < c_m the m+1 bins are (-inf, c_1], (c_1, c_2], ..., (c_m, +inf): the
 * outer bins are open so values outside the training range still count.
 *
 * Empty bins: each fraction is floored at PSI_EPSILON (1e-4) before the log, so an empty bin
 * contributes a large but finite term instead of infinity.
 * PSI = sum_i (cur_i - ref_i) * ln(cur_i / ref_i).
 */
import { lowerBound, quantileSorted } from './quantile.js';

export const PSI_EPSILON = 1e-4;

/** Interior cut points from an already sorted reference sample. */
export function quantileCuts(sortedReference: Float64Array, bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError('bins must be an integer >= 2');
  if (sortedReference.length === 0) throw new RangeError('quantileCuts: reference must not be empty');
  const cuts: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = quantileSorted(sortedReference, k / bins);
    if (cuts.length === 0 || q !== cuts[cuts.length - 1]) cuts.push(q);
  }
  return cuts;
}

/** Fraction of values in each of the cuts.length + 1 bins. */
export function binFractions(cuts: readonly number[], values: Float64Array): number[] {
  if (values.length === 0) throw new RangeError('binFractions: values must not be empty');
  const counts = cuts.length <= UNROLLED_CUTS ? countUnrolled(cuts, values) : countBySearch(cuts, values);
  return Array.from(counts, (k) => k / values.length);
}

/** Up to this many cut points (the default 10 bins give 9) take the unrolled path. */
const UNROLLED_CUTS = 9;

/**
 * Bin counts for at most 9 cuts. The bin of v is the number of cuts below it (numpy searchsorted
 * side='left'), found by a fixed four-level comparison tree over the cuts padded with +Infinity:
 * no loop, no function call and no array read per value, which is what made the generic binary
 * search slower than numpy's searchsorted + bincount. Padding is safe: v > +Infinity is false for
 * every value, so padded cuts never count, and NaN is rejected before it could land in bin 0.
 */
function countUnrolled(cuts: readonly number[], values: Float64Array): Int32Array {
  const e = new Float64Array(UNROLLED_CUTS).fill(Infinity);
  for (let k = 0; k < cuts.length; k++) e[k] = cuts[k]!;
  // Locals, not array reads, inside the loop.
  const e0 = e[0]!;
  const e1 = e[1]!;
  const e2 = e[2]!;
  const e3 = e[3]!;
  const e4 = e[4]!;
  const e5 = e[5]!;
  const e6 = e[6]!;
  const e7 = e[7]!;
  const e8 = e[8]!;
  const counts = new Int32Array(UNROLLED_CUTS + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) throw new RangeError(`binFractions: value at index ${i} is NaN`);
    let b: number;
    if (v > e4) {
      if (v > e6) b = v > e7 ? (v > e8 ? 9 : 8) : 7;
      else b = v > e5 ? 6 : 5;
    } else if (v > e1) b = v > e2 ? (v > e3 ? 4 : 3) : 2;
    else b = v > e0 ? 1 : 0;
    counts[b] = counts[b]! + 1;
  }
  return counts.subarray(0, cuts.length + 1);
}

/** Bin counts for any number of cuts: a binary search per value. */
function countBySearch(cuts: readonly number[], values: Float64Array): Int32Array {
  const counts = new Int32Array(cuts.length + 1);
  const c = Float64Array.from(cuts);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) throw new RangeError(`binFractions: value at index ${i} is NaN`);
    const b = lowerBound(c, v);
    counts[b] = counts[b]! + 1;
  }
  return counts;
}

/**
 * `edges` are the interior cut points (see above) and `referenceFractions` the reference's
 * share of each of the edges.length + 1 bins.
 */
export function psi(edges: readonly number[], referenceFractions: readonly number[], current: Float64Array): number {
  if (referenceFractions.length !== edges.length + 1) {
    throw new RangeError(
      `psi: expected ${edges.length + 1} reference fractions for ${edges.length} cut points, got ${referenceFractions.length}`,
    );
  }
  const cur = binFractions(edges, current);
  let sum = 0;
  for (let i = 0; i < cur.length; i++) {
    const r = Math.max(referenceFractions[i]!, PSI_EPSILON);
    const c = Math.max(cur[i]!, PSI_EPSILON);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

export type PsiBand = 'none' | 'moderate' | 'major';
