/**
 * What a training run will cost, known before it runs: from the algorithm, its parameters and the
 * dataset's shape. The estimate counts the inner-loop steps of the code that runs
 * (fitIsolationForest / fitRobustZScore, the scoring pass over the training rows that sets the
 * threshold, the second one that feeds the reference profile, and buildReferenceProfile), each kind
 * weighted by what it was measured to cost relative to one tree step of scoring, so one unit is
 * roughly one scoring step (a few nanoseconds). It is an upper bound in the model size (trees are
 * assumed complete), and within a small factor of the measured time otherwise.
 */
import { IFOREST_DEFAULTS } from './isolation-forest.js';

export type TrainingAlgorithm = 'isolation_forest' | 'robust_zscore';

export interface DatasetShape {
  rows: number;
  cols: number;
}

export interface TrainingCost {
  /** Estimated work in scoring-step units (see the module comment). */
  work: number;
  /** Upper bound of the model's tree nodes (0 for models without trees). */
  modelNodes: number;
}

/**
 * Growing a tree reads each subsampled row's value once per level to find the feature's range and
 * once more to partition, through an index (a cache miss more often than not): measured at about
 * ten scoring steps per sample and level.
 */
export const GROW_STEP_WEIGHT = 10;

/**
 * A scoring step is cheap while a tree's nodes stay in the CPU cache (up to ~512 nodes, the
 * default 256 samples) and turns into a memory access once the trees are larger: measured, one step
 * over 4096-sample trees (8191 nodes) costs about nine of the default's. Each doubling of the tree
 * beyond 512 nodes adds two.
 */
export function scoringStepWeight(nodesPerTree: number): number {
  return Math.max(1, 2 * Math.log2(Math.max(nodesPerTree, 1)) - 17);
}

/** Sorting one column of the reference profile (or of the robust z-score fit): n log2 n steps. */
function sortCost(n: number): number {
  return n * Math.log2(Math.max(n, 2));
}

/** The reference profile sorts every feature column and the scores once. */
function profileCost(s: DatasetShape): number {
  return (s.cols + 1) * (sortCost(s.rows) + s.rows);
}

export function estimateTrainingCost(
  algorithm: TrainingAlgorithm,
  parameters: Record<string, unknown>,
  shape: DatasetShape,
): TrainingCost {
  const rows = Math.max(0, shape.rows);
  const cols = Math.max(1, shape.cols);
  if (algorithm === 'robust_zscore') {
    // Two sorts per feature (values, then absolute deviations), the scoring pass, the profile.
    return { work: cols * 2 * sortCost(rows) + rows * cols + profileCost({ rows, cols }), modelNodes: 0 };
  }
  const trees = numberOr(parameters.nEstimators, IFOREST_DEFAULTS.nEstimators);
  const samples = Math.max(1, Math.min(numberOr(parameters.maxSamples, IFOREST_DEFAULTS.maxSamples), rows));
  const depth = Math.ceil(Math.log2(Math.max(samples, 2)));
  const nodesPerTree = Math.min(2 * samples - 1, 2 ** (depth + 1) - 1);
  // Per tree: 2 passes over the subsample per level, and a feature-order reset per node.
  const grow = trees * (GROW_STEP_WEIGHT * 2 * samples * depth + nodesPerTree * cols);
  // Two scoring passes over the training rows, each `depth` steps per row and tree.
  const score = 2 * rows * trees * depth * scoringStepWeight(nodesPerTree);
  return { work: grow + score + profileCost({ rows, cols }), modelNodes: trees * nodesPerTree };
}

function numberOr(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}
