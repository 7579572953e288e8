/** 1 where the score is strictly above the threshold (scikit-learn's predict convention), else 0. */
export function labelScores(scores: Float64Array, threshold: number): Uint8Array {
  if (Number.isNaN(threshold)) throw new RangeError('threshold must be a number');
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! > threshold ? 1 : 0;
  return out;
}
