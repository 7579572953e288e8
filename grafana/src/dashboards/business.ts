import { type DashboardBody, ENV, ENV_DET, q, stat, timeseries } from '../lib.js';
import { RI } from '../selectors.js';

export default function business(): DashboardBody {
  return {
    title: 'Pynomaly / Business',
    description:
      'What Pynomaly holds and does: datasets, detectors, jobs, ingestion, detections, outbox and alerts received.',
    perDetector: true,
    panels: [
      stat({
        title: 'Datasets',
        description: 'Datasets stored.',
        unit: 'none',
        queries: [q(`sum(pynomaly_datasets{${ENV}})`, 'datasets')],
      }),
      stat({
        title: 'Detectors',
        description: 'Detectors by status.',
        unit: 'none',
        queries: [q(`sum by (status) (pynomaly_detectors{${ENV}})`, '{{status}}')],
      }),
      stat({
        title: 'Outbox pending',
        description: 'Events written but not yet relayed to Kafka.',
        unit: 'none',
        queries: [q(`sum(pynomaly_outbox_pending_events{${ENV}})`, 'pending')],
      }),
      stat({
        title: 'Oldest undelivered event',
        description: 'Age of the oldest outbox event not yet in Kafka (alert OutboxNotDelivering above 5 m).',
        unit: 's',
        queries: [q(`max(pynomaly_outbox_oldest_pending_age_seconds{${ENV}})`, 'age')],
      }),
      stat({
        title: 'Since retention caught up',
        description: 'Time since the retention job last completed a run (alert RetentionFallingBehind above 1 h).',
        unit: 's',
        queries: [q(`time() - max(pynomaly_retention_last_success_timestamp_seconds{${ENV}})`, 'since')],
      }),
      stat({
        title: 'Oldest queued job',
        description: 'Age of the oldest job still queued.',
        unit: 's',
        queries: [q(`max(pynomaly_oldest_queued_job_age_seconds{${ENV}})`, 'age')],
      }),
      timeseries({
        title: 'Detectors by algorithm and status',
        description: 'Detector count.',
        unit: 'none',
        queries: [q(`sum by (algorithm, status) (pynomaly_detectors{${ENV}})`, '{{algorithm}} {{status}}')],
      }),
      timeseries({
        title: 'Jobs by state',
        description: 'Jobs in the system of record by type and state.',
        unit: 'none',
        queries: [q(`sum by (type, state) (pynomaly_jobs{${ENV}})`, '{{type}} {{state}}')],
      }),
      timeseries({
        title: 'Rows ingested',
        description: 'Dataset rows stored per second, by upload format.',
        unit: 'suffix: rows/s',
        queries: [q(`sum by (format) (rate(pynomaly_dataset_rows_ingested_total{${ENV}}[${RI}]))`, '{{format}}')],
      }),
      timeseries({
        title: 'Rows scored per detector',
        description: 'Rows scored per second by detect requests.',
        unit: 'suffix: rows/s',
        queries: [
          q(`sum by (detector_id) (rate(pynomaly_detection_rows_total{${ENV_DET}}[${RI}]))`, '{{detector_id}}'),
        ],
      }),
      timeseries({
        title: 'Anomaly rate per detector',
        description: 'Share of scored rows labelled anomalous (recorded over 5 m).',
        unit: 'percentunit',
        queries: [
          q(`environment_detector_id:pynomaly_detection_anomalies:ratio_rate5m{${ENV_DET}}`, '{{detector_id}}'),
        ],
      }),
      timeseries({
        title: 'Outbox relayed',
        description: 'Outbox events relayed to Kafka per second, by outcome.',
        unit: 'suffix: events/s',
        queries: [
          q(`sum by (topic, outcome) (rate(pynomaly_outbox_relayed_total{${ENV}}[${RI}]))`, '{{topic}} {{outcome}}'),
        ],
      }),
      timeseries({
        title: 'Rows deleted by retention',
        description: 'Finished rows deleted by the retention job per second, by table.',
        unit: 'suffix: rows/s',
        queries: [q(`sum by (table) (rate(pynomaly_retention_rows_deleted_total{${ENV}}[${RI}]))`, '{{table}}')],
      }),
      timeseries({
        title: 'Alerts received',
        description: 'Alertmanager notifications received by the API webhook, per second.',
        unit: 'suffix: alerts/s',
        queries: [
          q(
            `sum by (alertname, status) (rate(pynomaly_alerts_received_total{${ENV}}[${RI}]))`,
            '{{alertname}} {{status}}',
          ),
        ],
      }),
    ],
  };
}
