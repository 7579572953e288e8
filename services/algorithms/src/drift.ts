/**
 * Drift of a scored window against a reference profile (DESIGN §3, Evidently's defaults):
 * - per feature: PSI (bands <0.1 none, 0.1–0.25 moderate, >0.25 major), KS statistic and p-value,
 *   Wasserstein-1 divided by the reference std (floored at 0.001 like Evidently);
 * - a feature drifts when KS p < 0.05 if the reference has <= 1000 rows, otherwise when the
 *   normalised Wasserstein >= 0.1 (KS p-values become meaninglessly small on large samples);
 * - the data set drifts when >= 50 % of its features drift;
 * - the anomaly-score distribution is judged by the same rule, and the anomaly rate drifts when
 *   it moves by at least `anomalyRateDelta` (absolute) from the training rate.
 * Every threshold can be overridden.
 */
import { ksTwoSampleSorted } from './ks.js';
import { assertFinite, assertMatrix, column, type Matrix } from './matrix.js';
import type { DistributionProfile, ReferenceProfile } from './profile.js';
import { psi, type PsiBand } from './psi.js';
import { sortedCopy } from './quantile.js';
import { wasserstein1Sorted } from './wasserstein.js';

export type DriftThresholds = {
  ksPValue: number;
  wassersteinNormalized: number;
  /** Reference sizes up to this use KS, larger ones Wasserstein. */
  sizeCutoff: number;
  driftShare: number;
  psiModerate: number;
  psiMajor: number;
  anomalyRateDelta: number;
};

export const DEFAULT_DRIFT_THRESHOLDS: Readonly<DriftThresholds> = Object.freeze({
  ksPValue: 0.05,
  wassersteinNormalized: 0.1,
  sizeCutoff: 1000,
  driftShare: 0.5,
  psiModerate: 0.1,
  psiMajor: 0.25,
  anomalyRateDelta: 0.05,
});

/** Evidently's floor for the reference std when normalising Wasserstein. */
export const WASSERSTEIN_STD_FLOOR = 0.001;

export type DriftMethod = 'ks' | 'wasserstein';

export type DistributionDrift = {
  psi: number;
  psiBand: PsiBand;
  ksStatistic: number;
  ksPValue: number;
  wasserstein: number;
  wassersteinNormalized: number;
  method: DriftMethod;
  drifted: boolean;
};

export type FeatureDrift = DistributionDrift & { feature: number };

export type AnomalyRateDrift = { reference: number; current: number; delta: number; drifted: boolean };

export type DriftResult = {
  windowSize: number;
  referenceRows: number;
  method: DriftMethod;
  features: FeatureDrift[];
  driftedFeatures: number;
  driftShare: number;
  datasetDrift: boolean;
  score: DistributionDrift;
  anomalyRate: AnomalyRateDrift | null;
  thresholds: DriftThresholds;
};

export function psiBand(
  value: number,
  t: Pick<DriftThresholds, 'psiModerate' | 'psiMajor'> = DEFAULT_DRIFT_THRESHOLDS,
): PsiBand {
  if (value < t.psiModerate) return 'none';
  return value <= t.psiMajor ? 'moderate' : 'major';
}

// The drift worker compares many windows against one profile: sort each reference sample once.
const sortedSamples = new WeakMap<DistributionProfile, Float64Array>();

function sortedSample(ref: DistributionProfile): Float64Array {
  let s = sortedSamples.get(ref);
  if (!s) {
    s = Float64Array.from(ref.sample).sort();
    sortedSamples.set(ref, s);
  }
  return s;
}

function compareDistribution(
  ref: DistributionProfile,
  current: Float64Array,
  method: DriftMethod,
  t: DriftThresholds,
): DistributionDrift {
  if (ref.sample.length === 0) throw new RangeError('reference profile has an empty sample');
  const sample = sortedSample(ref);
  const cur = sortedCopy(current);
  const p = psi(ref.cuts, ref.fractions, current);
  const ks = ksTwoSampleSorted(sample, cur);
  const w = wasserstein1Sorted(sample, cur);
  const wn = w / Math.max(ref.std, WASSERSTEIN_STD_FLOOR);
  const drifted = method === 'ks' ? ks.pValue < t.ksPValue : wn >= t.wassersteinNormalized;
  return {
    psi: p,
    psiBand: psiBand(p, t),
    ksStatistic: ks.statistic,
    ksPValue: ks.pValue,
    wasserstein: w,
    wassersteinNormalized: wn,
    method,
    drifted,
  };
}

export function compareToReference(
  profile: ReferenceProfile,
  window: Matrix,
  windowScores: Float64Array,
  thresholds: Partial<DriftThresholds> = {},
): DriftResult {
  assertMatrix(window, 'drift window');
  if (window.rows < 1) throw new RangeError('drift window must have at least one row');
  if (window.cols !== profile.features.length) {
    throw new RangeError(
      `drift window has ${window.cols} features, the reference profile has ${profile.features.length}`,
    );
  }
  assertFinite(window.data, 'drift window');
  if (!(windowScores instanceof Float64Array) || windowScores.length !== window.rows) {
    throw new RangeError(`drift window: expected ${window.rows} scores, got ${windowScores?.length}`);
  }
  assertFinite(windowScores, 'drift window scores');
  const t: DriftThresholds = { ...DEFAULT_DRIFT_THRESHOLDS, ...thresholds };
  const method: DriftMethod = profile.rows <= t.sizeCutoff ? 'ks' : 'wasserstein';
  const features: FeatureDrift[] = profile.features.map((f, j) => ({
    feature: j,
    ...compareDistribution(f, column(window, j), method, t),
  }));
  const driftedFeatures = features.filter((f) => f.drifted).length;
  const driftShare = driftedFeatures / features.length;
  let anomalyRate: AnomalyRateDrift | null = null;
  if (profile.threshold !== null && profile.anomalyRate !== null) {
    let above = 0;
    for (let i = 0; i < windowScores.length; i++) if (windowScores[i]! > profile.threshold) above++;
    const current = above / windowScores.length;
    const delta = current - profile.anomalyRate;
    anomalyRate = { reference: profile.anomalyRate, current, delta, drifted: Math.abs(delta) >= t.anomalyRateDelta };
  }
  return {
    windowSize: window.rows,
    referenceRows: profile.rows,
    method,
    features,
    driftedFeatures,
    driftShare,
    datasetDrift: driftShare >= t.driftShare,
    score: compareDistribution(profile.scores, windowScores, method, t),
    anomalyRate,
    thresholds: t,
  };
}
