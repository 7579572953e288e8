/**
 * Drift of a window of rows against a reference profile: a pure function of (profile, window rows,
 * window scores, settings), so evaluating windows one by one or in batches gives the same reports.
 *
 * Calibrated decision (default; docs/drift.md): the user picks `falseAlarmRate` α, the chance that a
 *   window of unchanged data is called drifted, and it holds at every window and reference size.
 *   The decision spends half of α (DECISION_BUDGET) and keeps the other half as a margin for what
 *   the tests cannot see: the bootstrap critical value is itself an estimate from a few thousand
 *   draws of a finite reference sample, so a given model's true rate sits around its nominal one,
 *   and a page that must hold per cell needs room for that spread.
 * - Per feature: two-sample KS test of the window against the reference sample (exact p-value as
 *   scipy computes it). A feature *drifts* when its Holm-adjusted p-value is <= α/4 (feature-level
 *   family-wise false alarms <= α/4 under any correlation). The report also names the features
 *   with a Benjamini–Hochberg q-value <= `featureFdr` (`flagged`, the share is `driftShare`).
 * - Dataset: the sum over features of the two-sample Cramér–von Mises statistics, compared with its
 *   null distribution bootstrapped from the reference sample at training time (two-sample
 *   bootstrap at the calibrated window size nearest the window's, calibration.ts), at level α/4.
 *   Summing evidence catches diffuse shifts no single feature shows. The dataset drifts when a
 *   feature drifts or the sum exceeds its critical value (union bound: <= α/2, margin included <= α).
 *   Profiles without a calibration (trained before it existed) use the per-feature test at α/2.
 * - Scores: the same KS test on the anomaly scores, at level α on its own.
 * Raw thresholds (legacy rule, Evidently's defaults): set any of `ksPValue`, `wassersteinNormalized`,
 * `sizeCutoff`, `driftShare` and features drift by KS p < ksPValue (reference <= sizeCutoff rows) or
 * normalised Wasserstein >= wassersteinNormalized, the data set when >= driftShare of them drift.
 * Effect sizes are always reported: mean shift and Wasserstein-1 in reference standard deviations, PSI.
 */
import { combinationPValue, combinationThreshold, tailFor, type DriftCalibration } from './calibration.js';
import { cvmTwoSampleSorted } from './cvm.js';
import { ksTwoSampleSorted } from './ks.js';
import { assertFinite, assertMatrix, column, type Matrix } from './matrix.js';
import { benjaminiHochbergAdjust, holmAdjust } from './multitest.js';
import type { DistributionProfile, ReferenceProfile } from './profile.js';
import { psi, type PsiBand } from './psi.js';
import { sortedCopy } from './quantile.js';
import { wasserstein1Sorted } from './wasserstein.js';

export type DriftSettings = {
  /** Chance that a window of unchanged data is called drifted (dataset level), per window. */
  falseAlarmRate: number;
  /** False discovery rate of the per-feature list (`flagged`, `driftShare`). */
  featureFdr: number;
  psiModerate: number;
  psiMajor: number;
  anomalyRateDelta: number;
  /** Raw thresholds: setting any of these four switches to the legacy rule. */
  ksPValue?: number;
  wassersteinNormalized?: number;
  sizeCutoff?: number;
  driftShare?: number;
};

/** Kept for callers of the earlier name. */
export type DriftThresholds = DriftSettings;

export const DEFAULT_DRIFT_SETTINGS: Readonly<DriftSettings> = Object.freeze({
  falseAlarmRate: 0.01,
  featureFdr: 0.05,
  psiModerate: 0.1,
  psiMajor: 0.25,
  anomalyRateDelta: 0.05,
});

/** Bounds of falseAlarmRate: the calibration's stored tail covers levels down to 1/2000 per half. */
export const MIN_FALSE_ALARM_RATE = 0.001;
export const MAX_FALSE_ALARM_RATE = 0.1;

/** Defaults of the legacy raw-threshold rule (Evidently's). */
export const LEGACY_THRESHOLDS = Object.freeze({
  ksPValue: 0.05,
  wassersteinNormalized: 0.1,
  sizeCutoff: 1000,
  driftShare: 0.5,
});

/** Evidently's floor for the reference std when normalising Wasserstein. */
export const WASSERSTEIN_STD_FLOOR = 0.001;

/** Effect bands on max(|mean shift|, Wasserstein) in reference standard deviations (Cohen's d bands). */
export type EffectSize = 'negligible' | 'small' | 'medium' | 'large';
export const EFFECT_BANDS = Object.freeze({ small: 0.2, medium: 0.5, large: 0.8 });

export type DriftMethod = 'ks' | 'wasserstein';
export type DriftMode = 'calibrated' | 'thresholds';
/** bootstrap: the combination test's null was calibrated at training; analytic: per-feature KS only. */
export type DriftCalibrationKind = 'bootstrap' | 'analytic' | 'none';

export type DistributionDrift = {
  psi: number;
  psiBand: PsiBand;
  ksStatistic: number;
  ksPValue: number;
  wasserstein: number;
  /** Wasserstein-1 in reference standard deviations. */
  wassersteinNormalized: number;
  /** (window mean − reference mean) in reference standard deviations. */
  meanShiftSigma: number;
  effectSize: EffectSize;
  method: DriftMethod;
  drifted: boolean;
};

export type FeatureDrift = DistributionDrift & {
  feature: number;
  /** Cramér–von Mises two-sample statistic (its term in the combination). */
  cvm: number;
  pValueHolm: number;
  qValue: number;
  /** Benjamini–Hochberg: q-value <= featureFdr. */
  flagged: boolean;
};

export type AnomalyRateDrift = { reference: number; current: number; delta: number; drifted: boolean };

export type CombinedDrift = {
  statistic: number;
  pValue: number;
  /** The p-value is only known to be at least `pValue` (below the stored tail). */
  pValueCensored: boolean;
  threshold: number;
  drifted: boolean;
};

export type AppliedThresholds = DriftSettings & {
  /** Holm level for the per-feature test. */
  featureAlpha: number | null;
  /** Level of the combination test, and its critical value. */
  combinedAlpha: number | null;
  combinedThreshold: number | null;
  scoreAlpha: number | null;
};

export type DriftResult = {
  windowSize: number;
  referenceRows: number;
  /** Rows of the reference sample the window is tested against. */
  referenceSampleRows: number;
  mode: DriftMode;
  calibration: DriftCalibrationKind;
  method: DriftMethod;
  features: FeatureDrift[];
  /** Features that drifted (feature-level decision). */
  driftedFeatures: number;
  /** Share of features flagged by Benjamini–Hochberg (calibrated) or drifted (thresholds). */
  driftShare: number;
  featureDrift: boolean;
  datasetDrift: boolean;
  combined: CombinedDrift | null;
  score: DistributionDrift;
  anomalyRate: AnomalyRateDrift | null;
  thresholds: AppliedThresholds;
};

export function psiBand(
  value: number,
  t: Pick<DriftSettings, 'psiModerate' | 'psiMajor'> = DEFAULT_DRIFT_SETTINGS,
): PsiBand {
  if (value < t.psiModerate) return 'none';
  return value <= t.psiMajor ? 'moderate' : 'major';
}

export function effectSize(meanShiftSigma: number, wassersteinSigma: number): EffectSize {
  const e = Math.max(Math.abs(meanShiftSigma), wassersteinSigma);
  if (e >= EFFECT_BANDS.large) return 'large';
  if (e >= EFFECT_BANDS.medium) return 'medium';
  return e >= EFFECT_BANDS.small ? 'small' : 'negligible';
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

type Measured = Omit<DistributionDrift, 'method' | 'drifted'> & { cvm: number };

function measure(ref: DistributionProfile, current: Float64Array, t: DriftSettings): Measured {
  if (ref.sample.length === 0) throw new RangeError('reference profile has an empty sample');
  const sample = sortedSample(ref);
  const cur = sortedCopy(current);
  const p = psi(ref.cuts, ref.fractions, current);
  const ks = ksTwoSampleSorted(sample, cur);
  const w = wasserstein1Sorted(sample, cur);
  const sd = Math.max(ref.std, WASSERSTEIN_STD_FLOOR);
  let mean = 0;
  for (let i = 0; i < cur.length; i++) mean += cur[i]!;
  mean /= cur.length;
  const meanShiftSigma = (mean - ref.mean) / sd;
  const wn = w / sd;
  return {
    psi: p,
    psiBand: psiBand(p, t),
    ksStatistic: ks.statistic,
    ksPValue: ks.pValue,
    wasserstein: w,
    wassersteinNormalized: wn,
    meanShiftSigma,
    effectSize: effectSize(meanShiftSigma, wn),
    cvm: cvmTwoSampleSorted(sample, cur),
  };
}

function usesRawThresholds(s: Partial<DriftSettings>): boolean {
  return (
    s.ksPValue !== undefined ||
    s.wassersteinNormalized !== undefined ||
    s.sizeCutoff !== undefined ||
    s.driftShare !== undefined
  );
}

function checkSettings(t: DriftSettings): void {
  if (!(t.falseAlarmRate >= MIN_FALSE_ALARM_RATE && t.falseAlarmRate <= MAX_FALSE_ALARM_RATE))
    throw new RangeError(
      `falseAlarmRate must be in [${MIN_FALSE_ALARM_RATE}, ${MAX_FALSE_ALARM_RATE}], got ${t.falseAlarmRate}`,
    );
  if (!(t.featureFdr > 0 && t.featureFdr < 1))
    throw new RangeError(`featureFdr must be in (0, 1), got ${t.featureFdr}`);
}

function checkWindow(profile: ReferenceProfile, window: Matrix, windowScores: Float64Array): void {
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
}

function anomalyRateDrift(profile: ReferenceProfile, scores: Float64Array, t: DriftSettings): AnomalyRateDrift | null {
  if (profile.threshold === null || profile.anomalyRate === null) return null;
  let above = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > profile.threshold) above++;
  const current = above / scores.length;
  const delta = current - profile.anomalyRate;
  return { reference: profile.anomalyRate, current, delta, drifted: Math.abs(delta) >= t.anomalyRateDelta };
}

/**
 * A stored calibration usable at this level, or null: an old profile, a level beyond its stored
 * tail, or a level finer than its draws resolve (below 1/(draws + 1) no draw count reaches it, and
 * the per-feature test is better given the whole budget than a sum test that can never fire).
 */
function usableCalibration(profile: ReferenceProfile, alpha: number, windowRows: number): DriftCalibration | null {
  const c = profile.calibration;
  if (!c || (c.statistic !== 'cvm_sum' && c.statistic !== 'cvm_sum_2s')) return null;
  const tail = tailFor(c, windowRows).tail;
  return tail.length > 0 && alpha <= tail.length / c.draws && alpha * (c.draws + 1) >= 1 ? c : null;
}

/**
 * Shares of the user's falseAlarmRate spent by the calibrated decision (the rest is the margin
 * described above). Without a calibration the feature test gets both shares.
 */
export const DECISION_BUDGET = Object.freeze({ feature: 0.25, combined: 0.25 });

export function compareToReference(
  profile: ReferenceProfile,
  window: Matrix,
  windowScores: Float64Array,
  settings: Partial<DriftSettings> = {},
): DriftResult {
  checkWindow(profile, window, windowScores);
  const t: DriftSettings = { ...DEFAULT_DRIFT_SETTINGS, ...settings };
  checkSettings(t);
  const measured = profile.features.map((f, j) => measure(f, column(window, j), t));
  const scoreM = measure(profile.scores, windowScores, t);
  const holm = holmAdjust(measured.map((m) => m.ksPValue));
  const bh = benjaminiHochbergAdjust(measured.map((m) => m.ksPValue));
  const base = {
    windowSize: window.rows,
    referenceRows: profile.rows,
    referenceSampleRows: profile.sampleSize,
    anomalyRate: anomalyRateDrift(profile, windowScores, t),
  };
  if (usesRawThresholds(settings)) {
    const raw = { ...LEGACY_THRESHOLDS, ...t };
    const method: DriftMethod = profile.rows <= raw.sizeCutoff ? 'ks' : 'wasserstein';
    const judge = (m: Measured) =>
      method === 'ks' ? m.ksPValue < raw.ksPValue : m.wassersteinNormalized >= raw.wassersteinNormalized;
    const features: FeatureDrift[] = measured.map(({ cvm, ...m }, j) => ({
      feature: j,
      ...m,
      method,
      drifted: judge(measured[j]!),
      cvm,
      pValueHolm: holm[j]!,
      qValue: bh[j]!,
      flagged: bh[j]! <= t.featureFdr,
    }));
    const driftedFeatures = features.filter((f) => f.drifted).length;
    const driftShare = driftedFeatures / features.length;
    const { cvm: _cvm, ...score } = scoreM;
    return {
      ...base,
      mode: 'thresholds',
      calibration: 'none',
      method,
      features,
      driftedFeatures,
      driftShare,
      featureDrift: driftedFeatures > 0,
      datasetDrift: driftShare >= raw.driftShare,
      combined: null,
      score: { ...score, method, drifted: judge(scoreM) },
      thresholds: { ...raw, featureAlpha: null, combinedAlpha: null, combinedThreshold: null, scoreAlpha: null },
    };
  }
  const alpha = t.falseAlarmRate;
  const combinedAlpha = alpha * DECISION_BUDGET.combined;
  const cal = usableCalibration(profile, combinedAlpha, window.rows);
  const featureAlpha = alpha * (cal ? DECISION_BUDGET.feature : DECISION_BUDGET.feature + DECISION_BUDGET.combined);
  const features: FeatureDrift[] = measured.map(({ cvm, ...m }, j) => ({
    feature: j,
    ...m,
    method: 'ks',
    drifted: holm[j]! <= featureAlpha,
    cvm,
    pValueHolm: holm[j]!,
    qValue: bh[j]!,
    flagged: bh[j]! <= t.featureFdr,
  }));
  let combined: CombinedDrift | null = null;
  if (cal) {
    const statistic = measured.reduce((s, m) => s + m.cvm, 0);
    const p = combinationPValue(cal, statistic, window.rows);
    const threshold = combinationThreshold(cal, combinedAlpha, window.rows);
    combined = { statistic, pValue: p.pValue, pValueCensored: p.censored, threshold, drifted: statistic > threshold };
  }
  const driftedFeatures = features.filter((f) => f.drifted).length;
  const featureDrift = driftedFeatures > 0;
  const { cvm: _cvm, ...score } = scoreM;
  return {
    ...base,
    mode: 'calibrated',
    calibration: cal ? 'bootstrap' : 'analytic',
    method: 'ks',
    features,
    driftedFeatures,
    driftShare: features.filter((f) => f.flagged).length / features.length,
    featureDrift,
    datasetDrift: featureDrift || (combined?.drifted ?? false),
    combined,
    score: { ...score, method: 'ks', drifted: scoreM.ksPValue <= alpha },
    thresholds: {
      ...t,
      featureAlpha,
      combinedAlpha: cal ? combinedAlpha : null,
      combinedThreshold: combined?.threshold ?? null,
      scoreAlpha: alpha,
    },
  };
}
