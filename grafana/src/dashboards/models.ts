import { type DashboardBody, ENV, ENV_DET, q, stat, timeseries } from '../lib.js';
import { RI } from '../selectors.js';

export default function models(): DashboardBody {
  return {
    title: 'Pynomaly / Models',
    description: 'Training activity and model freshness per detector; scoring latency.',
    perDetector: true,
    panels: [
      stat({
        title: 'Since last successful training',
        description: 'Time since the most recent successful training job (alert above 24 h).',
        unit: 's',
        queries: [q(`time() - max(pynomaly_last_training_success_timestamp_seconds{${ENV}})`, 'since')],
      }),
      stat({
        title: 'Trainings running',
        description: 'Training jobs running in the workers now.',
        unit: 'none',
        queries: [q(`sum(pynomaly_training_in_progress{${ENV}})`, 'running')],
      }),
      timeseries({
        title: 'Model age',
        description: "Age of each detector's latest model (alert above 7 days).",
        unit: 's',
        queries: [q(`pynomaly_model_age_seconds{${ENV_DET}}`, '{{detector_id}}')],
      }),
      timeseries({
        title: 'Model version',
        description: "Version of each detector's latest model.",
        unit: 'none',
        queries: [q(`pynomaly_model_version{${ENV_DET}}`, '{{detector_id}}')],
      }),
      timeseries({
        title: 'Training runs',
        description:
          'Training attempts finished per hour, by algorithm and outcome, and running jobs the reaper failed after no progress.',
        unit: 'suffix: runs/h',
        queries: [
          q(
            `sum by (algorithm, outcome) (rate(pynomaly_training_runs_total{${ENV}}[${RI}])) * 3600`,
            '{{algorithm}} {{outcome}}',
          ),
          q(`sum(rate(pynomaly_training_jobs_reaped_total{${ENV}}[${RI}])) * 3600`, 'reaped'),
        ],
      }),
      timeseries({
        title: 'Training duration p95',
        description: 'p95 wall time of a training run.',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, algorithm) (rate(pynomaly_training_duration_seconds_bucket{${ENV}}[${RI}])))`,
            '{{algorithm}}',
          ),
        ],
      }),
      timeseries({
        title: 'Detection latency p95 per detector',
        description: 'p95 time to score one detect request.',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, detector_id) (rate(pynomaly_detection_duration_seconds_bucket{${ENV_DET}}[${RI}])))`,
            '{{detector_id}}',
          ),
        ],
      }),
    ],
  };
}
