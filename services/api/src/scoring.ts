/** Scores rows with a stored model (the algorithm is chosen by the model's own kind). */
import {
  labelScores,
  scoreIsolationForest,
  scoreRobustZScore,
  type IsolationForestModel,
  type Matrix,
  type RobustZModel,
} from '@pynomaly/algorithms';
import type { ModelRecord } from '@pynomaly/shared';

export function scoreWithModel(model: ModelRecord, x: Matrix): { scores: Float64Array; labels: Uint8Array } {
  let scores: Float64Array;
  if (model.algorithm === 'isolation_forest') scores = scoreIsolationForest(model.model as IsolationForestModel, x);
  else scores = scoreRobustZScore(model.model as RobustZModel, x);
  return { scores, labels: labelScores(scores, model.threshold) };
}

export function rowsToMatrix(rows: readonly (readonly number[])[], cols: number): Matrix {
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => data.set(r, i * cols));
  return { data, rows: rows.length, cols };
}
