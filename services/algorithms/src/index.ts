// Public API of @pynomaly/algorithms: pure functions on typed arrays (no I/O, no telemetry).
export type { Matrix } from './matrix.js';
export { matrixFromRows, column } from './matrix.js';
export {
  fitIsolationForest,
  scoreIsolationForest,
  averagePathLength,
  IFOREST_DEFAULTS,
  type IsolationForestModel,
  type IsolationForestParams,
} from './isolation-forest.js';
export { fitRobustZScore, scoreRobustZScore, type RobustZModel, type RobustZParams } from './robust-z.js';
export { labelScores } from './labels.js';
export { ksTwoSample, type KsResult } from './ks.js';
export { wasserstein1 } from './wasserstein.js';
export { psi, quantileCuts, binFractions, PSI_EPSILON, type PsiBand } from './psi.js';
export {
  buildReferenceProfile,
  type ReferenceProfile,
  type ReferenceProfileOptions,
  type DistributionProfile,
} from './profile.js';
export {
  compareToReference,
  psiBand,
  effectSize,
  DEFAULT_DRIFT_SETTINGS,
  LEGACY_THRESHOLDS,
  EFFECT_BANDS,
  DECISION_BUDGET,
  MIN_FALSE_ALARM_RATE,
  MAX_FALSE_ALARM_RATE,
  WASSERSTEIN_STD_FLOOR,
  type DriftSettings,
  type DriftThresholds,
  type DriftResult,
  type DistributionDrift,
  type FeatureDrift,
  type AnomalyRateDrift,
  type CombinedDrift,
  type AppliedThresholds,
  type DriftMethod,
  type DriftMode,
  type EffectSize,
} from './drift.js';
export {
  calibrateCombination,
  combinationPValue,
  combinationThreshold,
  defaultDraws,
  tailFor,
  twoSampleNullDraws,
  DEFAULT_CALIBRATION_WINDOWS,
  type CalibrationTail,
  type DriftCalibration,
  type CalibrationOptions,
} from './calibration.js';
export { cvmTwoSampleSorted } from './cvm.js';
export { holmAdjust, bonferroniAdjust, benjaminiHochbergAdjust } from './multitest.js';

// The seeded PRNG the algorithms use, for callers that generate reproducible data (tests, demo, bench).
export { gaussian, irwinHallNormal, mulberry32, randomInt, type Rng } from './random.js';
export {
  estimateTrainingCost,
  GROW_STEP_WEIGHT,
  scoringStepWeight,
  type DatasetShape,
  type TrainingAlgorithm,
  type TrainingCost,
} from './cost.js';
export {
  persistentDrift,
  checkPersistence,
  DEFAULT_PERSISTENCE,
  MAX_PERSISTENCE_WINDOWS,
  type Persistence,
  type PersistenceSettings,
  type WindowSignals,
} from './persistence.js';
