/** Pure training step: fit the detector's algorithm and build the reference profile for drift. */
import {
  buildReferenceProfile,
  fitIsolationForest,
  fitRobustZScore,
  scoreIsolationForest,
  scoreRobustZScore,
  type IsolationForestParams,
  type Matrix,
  type ReferenceProfile,
  type RobustZParams,
} from '@pynomaly/algorithms';
import type { Algorithm, StoredModel } from '@pynomaly/shared';

/** Below this, quantile bins and isolation depths are meaningless; the job fails with a reason. */
export const MIN_TRAINING_ROWS = 10;

export class TrainingRejected extends Error {
  override readonly name = 'TrainingRejected';
}

export interface TrainedModel {
  model: StoredModel;
  threshold: number;
  referenceProfile: ReferenceProfile;
  trainedRows: number;
}

export function trainModel(algorithm: Algorithm, parameters: Record<string, unknown>, x: Matrix): TrainedModel {
  if (x.rows < MIN_TRAINING_ROWS) {
    throw new TrainingRejected(`dataset has ${x.rows} rows; training needs at least ${MIN_TRAINING_ROWS}`);
  }
  let model: StoredModel;
  let scores: Float64Array;
  try {
    if (algorithm === 'isolation_forest') {
      const m = fitIsolationForest(x, parameters as IsolationForestParams);
      scores = scoreIsolationForest(m, x);
      model = m;
    } else {
      const m = fitRobustZScore(x, parameters as RobustZParams);
      scores = scoreRobustZScore(m, x);
      model = m;
    }
  } catch (err) {
    // The algorithms reject bad input with RangeError/TypeError: deterministic, so not retryable.
    if (err instanceof RangeError || err instanceof TypeError) throw new TrainingRejected(err.message);
    throw err;
  }
  const referenceProfile = buildReferenceProfile(x, scores, { threshold: model.threshold });
  return { model, threshold: model.threshold, referenceProfile, trainedRows: x.rows };
}
