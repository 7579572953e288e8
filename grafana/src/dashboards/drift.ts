import { type DashboardBody, ENV, ENV_DET, q, timeseries } from '../lib.js';
import { RI } from '../selectors.js';

export default function drift(): DashboardBody {
  const score = (statistic: string) =>
    q(`pynomaly_drift_score{${ENV_DET},statistic="${statistic}"}`, '{{detector_id}} {{feature}}');
  return {
    title: 'Pynomaly / Drift',
    description:
      'Latest drift report per detector and feature (calibrated decision: Holm-corrected KS p-values, effect sizes, PSI; docs/drift.md), and the drift worker itself.',
    perDetector: true,
    panels: [
      timeseries({
        title: 'Dataset drift',
        description:
          '1 when dataset drift persisted: the calibrated dataset test fired in k of the last m windows (default 2 of 3).',
        unit: 'bool',
        queries: [q(`pynomaly_drift_detected{${ENV_DET}}`, '{{detector_id}}')],
      }),
      timeseries({
        title: 'Drift share',
        description: 'Share of features named by the Benjamini–Hochberg list (q ≤ featureFdr) in the latest report.',
        unit: 'percentunit',
        min: 0,
        queries: [q(`pynomaly_drift_share{${ENV_DET}}`, '{{detector_id}}')],
      }),
      timeseries({
        title: 'PSI per feature',
        description: 'Population stability index: < 0.1 none, 0.1–0.25 moderate, > 0.25 major.',
        unit: 'none',
        queries: [score('psi')],
      }),
      timeseries({
        title: 'KS p-value per feature',
        description: 'Two-sample Kolmogorov–Smirnov p-value of the window against the reference sample (raw).',
        unit: 'none',
        queries: [score('ks_pvalue')],
      }),
      timeseries({
        title: 'Holm-adjusted p-value per feature',
        description: 'A feature drifts when this is ≤ falseAlarmRate / 2 (0.005 by default).',
        unit: 'none',
        queries: [score('p_value_holm')],
      }),
      timeseries({
        title: 'Persistent feature drift (effect, σ)',
        description:
          'Effect size (max of |mean shift| and Wasserstein, in reference std) of features drifted in k of the last m windows; 0 otherwise. FeatureDriftDetected fires above 0.',
        unit: 'none',
        queries: [q(`pynomaly_drift_feature_drift_sigma{${ENV_DET}}`, '{{detector_id}} {{feature}}')],
      }),
      timeseries({
        title: 'Mean shift per feature (σ)',
        description: '(window mean − reference mean) / reference std.',
        unit: 'none',
        queries: [score('mean_shift_sigma')],
      }),
      timeseries({
        title: 'KS statistic per feature',
        description: 'Two-sample Kolmogorov–Smirnov statistic.',
        unit: 'none',
        queries: [score('ks_statistic')],
      }),
      timeseries({
        title: 'Normalised Wasserstein per feature',
        description: 'Wasserstein-1 over the reference std: an effect size (0.2 small, 0.5 medium, 0.8 large).',
        unit: 'none',
        queries: [score('wasserstein_normalized')],
      }),
      timeseries({
        title: 'Since last drift report',
        description: "Time since each detector's latest drift report.",
        unit: 's',
        queries: [q(`time() - pynomaly_drift_last_report_timestamp_seconds{${ENV_DET}}`, '{{detector_id}}')],
      }),
      timeseries({
        title: 'Drift window fill',
        description: 'Rows collected in the current (unfilled) window per detector.',
        unit: 'suffix: rows',
        queries: [q(`sum by (detector_id) (pynomaly_drift_window_rows{${ENV_DET}})`, '{{detector_id}}')],
      }),
      timeseries({
        title: 'Drift checks',
        description: 'Drift checks per second, by result.',
        unit: 'suffix: checks/s',
        queries: [q(`sum by (result) (rate(pynomaly_drift_checks_total{${ENV_DET}}[${RI}]))`, '{{result}}')],
      }),
      timeseries({
        title: 'Drift check duration p95',
        description: 'p95 time to compute and store a drift report.',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le) (rate(pynomaly_drift_check_duration_seconds_bucket{${ENV}}[${RI}])))`,
            'p95',
          ),
        ],
      }),
    ],
  };
}
