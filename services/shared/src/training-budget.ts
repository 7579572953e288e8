/**
 * The training cost budget: checked by the API when a detector is created (the dataset's shape is
 * known then) and by the training worker before it trains, so a run that would take minutes or
 * build a model too large to store and serve is refused with a reason naming the setting.
 */
import { estimateTrainingCost, type DatasetShape, type TrainingAlgorithm } from '@pynomaly/algorithms';

export interface TrainingBudget {
  /** TRAINING_MAX_WORK: estimated work units (about one tree step of scoring each). */
  maxWork: number;
  /** TRAINING_MAX_MODEL_NODES: tree nodes of an isolation forest (model size). */
  maxModelNodes: number;
}

/**
 * 5e9 units is 35 s of one core at the 7 ns per unit measured on a busy 2-core machine (and about
 * 2 minutes at the 20 ns measured when it was overloaded, still far inside TRAINING_TIMEOUT_SECONDS):
 * it admits the largest dataset (200 000 rows) with 1000 trees of 256 samples (3.3e9, 23 s
 * measured). 2M nodes keep a model near 50 MB of JSON, which the API caches and Postgres stores in
 * one row, and keep trees small enough that a scoring step stays cheap.
 */
export const DEFAULT_TRAINING_BUDGET: TrainingBudget = { maxWork: 5e9, maxModelNodes: 2_000_000 };

const fmt = (n: number) => (n >= 1e6 ? n.toExponential(2) : String(Math.round(n)));

/** Undefined when within budget, else a message that says which budget and how to fit in it. */
export function trainingBudgetViolation(
  algorithm: TrainingAlgorithm,
  parameters: Record<string, unknown>,
  shape: DatasetShape,
  budget: TrainingBudget,
): string | undefined {
  const cost = estimateTrainingCost(algorithm, parameters, shape);
  const fix =
    algorithm === 'isolation_forest'
      ? 'use fewer trees (nEstimators), a smaller maxSamples or a smaller dataset'
      : 'use a smaller dataset (fewer rows or features)';
  if (cost.modelNodes > budget.maxModelNodes) {
    return `training budget exceeded: the model would have up to ${fmt(cost.modelNodes)} tree nodes (nEstimators × (2 × maxSamples − 1)) but the limit TRAINING_MAX_MODEL_NODES is ${fmt(budget.maxModelNodes)}; ${fix}`;
  }
  if (cost.work > budget.maxWork) {
    return `training budget exceeded: estimated work ${fmt(cost.work)} units (${shape.rows} rows × ${shape.cols} features with these parameters) but the limit TRAINING_MAX_WORK is ${fmt(budget.maxWork)}; ${fix}`;
  }
  return undefined;
}
