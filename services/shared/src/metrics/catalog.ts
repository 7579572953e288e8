/**
 * The metrics catalog: every metric Pynomaly emits, declared once.
 *
 * One metric, one path: `otlp` metrics count or time events and travel through the OTel SDK to the
 * Collector, which exposes them on its Prometheus exporter; `scrape` metrics are state read at
 * scrape time (from Postgres or process memory) by prom-client on the service's own endpoint, so
 * they survive a Collector outage. Dashboards, alert rules and docs name the Prometheus names and
 * are checked against this list by tests.
 */

export type MetricKind = 'counter' | 'histogram' | 'gauge' | 'updowncounter';
export type MetricPath = 'otlp' | 'scrape';
export type ApiMetricsView = 'business' | 'models' | 'drift';
export type Emitter = 'api' | 'training-worker' | 'drift-worker';

export interface MetricDefinition {
  /** OTel instrument name (otlp) or the prom-client name (scrape). */
  readonly name: string;
  /** The name Prometheus stores (for histograms, the base name without _bucket/_sum/_count). */
  readonly promName: string;
  readonly kind: MetricKind;
  /** UCUM unit as given to the SDK (`s`, `By`, `1`, `{row}`); '' for dimensionless scrape gauges. */
  readonly unit: string;
  readonly labels: readonly string[];
  readonly path: MetricPath;
  readonly emittedBy: readonly Emitter[];
  readonly help: string;
  /** Scrape metrics of the API: the per-domain endpoint(s) that also serve it. */
  readonly views?: readonly ApiMetricsView[];
  /** Not meant for dashboards or rules (debugging aid); exempt from the "every metric is used" check. */
  readonly internal?: boolean;
}

const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;
export const HISTOGRAM_BUCKETS: Readonly<Record<string, readonly number[]>> = {
  // The HTTP semantic conventions' advice for this instrument.
  'http.server.request.duration': [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  'pynomaly.detection.duration': DURATION_BUCKETS_S,
  'pynomaly.training.duration': DURATION_BUCKETS_S,
  'pynomaly.drift.check.duration': DURATION_BUCKETS_S,
  'pynomaly.message.processing.duration': DURATION_BUCKETS_S,
};

export const METRICS: readonly MetricDefinition[] = [
  // ---- events, via OTLP -------------------------------------------------------------------
  {
    name: 'http.server.request.duration',
    promName: 'http_server_request_duration_seconds',
    kind: 'histogram',
    unit: 's',
    labels: ['http_request_method', 'http_response_status_code', 'http_route'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Duration of HTTP server requests (OTel semantic convention, recorded by the API from its request hooks).',
  },
  {
    name: 'pynomaly.detection.duration',
    promName: 'pynomaly_detection_duration_seconds',
    kind: 'histogram',
    unit: 's',
    labels: ['detector_id', 'algorithm'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Time to score one detect request with the latest model.',
  },
  {
    name: 'pynomaly.detection.rows',
    promName: 'pynomaly_detection_rows_total',
    kind: 'counter',
    unit: '{row}',
    labels: ['detector_id'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Rows scored by detect requests.',
  },
  {
    name: 'pynomaly.detection.anomalies',
    promName: 'pynomaly_detection_anomalies_total',
    kind: 'counter',
    unit: '{row}',
    labels: ['detector_id'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Rows labelled anomalous by detect requests.',
  },
  {
    name: 'pynomaly.dataset.rows.ingested',
    promName: 'pynomaly_dataset_rows_ingested_total',
    kind: 'counter',
    unit: '{row}',
    labels: ['format'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Rows stored by dataset uploads, by upload format (json, csv).',
  },
  {
    name: 'pynomaly.training.runs',
    promName: 'pynomaly_training_runs_total',
    kind: 'counter',
    unit: '{run}',
    labels: ['algorithm', 'outcome'],
    path: 'otlp',
    emittedBy: ['training-worker'],
    help: 'Training attempts finished, by outcome (succeeded, failed, retried, cancelled, requeued at shutdown).',
  },
  {
    name: 'pynomaly.training.jobs.reaped',
    promName: 'pynomaly_training_jobs_reaped_total',
    kind: 'counter',
    unit: '{job}',
    labels: [],
    path: 'otlp',
    emittedBy: ['training-worker'],
    help: 'Running training jobs failed by the reaper after no progress for TRAINING_STALE_AFTER_SECONDS.',
  },
  {
    name: 'pynomaly.training.duration',
    promName: 'pynomaly_training_duration_seconds',
    kind: 'histogram',
    unit: 's',
    labels: ['algorithm', 'outcome'],
    path: 'otlp',
    emittedBy: ['training-worker'],
    help: 'Wall time of one training run, from dataset load to stored model.',
  },
  {
    name: 'pynomaly.drift.checks',
    promName: 'pynomaly_drift_checks_total',
    kind: 'counter',
    unit: '{check}',
    labels: ['detector_id', 'result'],
    path: 'otlp',
    emittedBy: ['drift-worker'],
    help: 'Drift checks (one per filled window), by result (drift, no_drift).',
  },
  {
    name: 'pynomaly.drift.check.duration',
    promName: 'pynomaly_drift_check_duration_seconds',
    kind: 'histogram',
    unit: 's',
    labels: [],
    path: 'otlp',
    emittedBy: ['drift-worker'],
    help: 'Time to compute and store one drift report.',
  },
  {
    name: 'pynomaly.messages.consumed',
    promName: 'pynomaly_messages_consumed_total',
    kind: 'counter',
    unit: '{message}',
    labels: ['topic', 'consumer_group', 'outcome'],
    path: 'otlp',
    emittedBy: ['training-worker', 'drift-worker'],
    help: 'Kafka messages handled, by outcome (processed, dead_lettered).',
  },
  {
    name: 'pynomaly.message.processing.duration',
    promName: 'pynomaly_message_processing_duration_seconds',
    kind: 'histogram',
    unit: 's',
    labels: ['topic', 'consumer_group'],
    path: 'otlp',
    emittedBy: ['training-worker', 'drift-worker'],
    help: 'Time from receiving a Kafka message to committing it.',
  },
  {
    name: 'pynomaly.messages.produced',
    promName: 'pynomaly_messages_produced_total',
    kind: 'counter',
    unit: '{message}',
    labels: ['topic', 'outcome'],
    path: 'otlp',
    emittedBy: ['api', 'training-worker', 'drift-worker'],
    help: 'Kafka messages produced, by outcome (sent, failed).',
  },
  {
    name: 'pynomaly.messages.dead_lettered',
    promName: 'pynomaly_messages_dead_lettered_total',
    kind: 'counter',
    unit: '{message}',
    labels: ['topic', 'reason'],
    path: 'otlp',
    emittedBy: ['training-worker', 'drift-worker'],
    help: 'Messages sent to the DLQ, by origin topic and reason (unparseable, invalid_schema, unsupported_version, oversized, processing_failed).',
  },
  {
    name: 'pynomaly.dead_letters.actions',
    promName: 'pynomaly_dead_letters_actions_total',
    kind: 'counter',
    unit: '{message}',
    labels: ['action', 'topic'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Dead letters an operator resolved through the API, by action (replayed, discarded) and origin topic.',
  },
  {
    name: 'pynomaly.outbox.relayed',
    promName: 'pynomaly_outbox_relayed_total',
    kind: 'counter',
    unit: '{event}',
    labels: ['topic', 'outcome'],
    path: 'otlp',
    emittedBy: ['api', 'training-worker', 'drift-worker'],
    help: 'Outbox events relayed to Kafka, by outcome (sent, failed).',
  },
  {
    name: 'pynomaly.retention.rows.deleted',
    promName: 'pynomaly_retention_rows_deleted_total',
    kind: 'counter',
    unit: '{row}',
    labels: ['table'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Rows deleted by the retention job, by table (outbox, processed_events, drift_window_rows, drift_reports, alerts, deleted_resources, dead_letters).',
  },
  {
    name: 'pynomaly.alerts.received',
    promName: 'pynomaly_alerts_received_total',
    kind: 'counter',
    unit: '{alert}',
    labels: ['alertname', 'status'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Alerts delivered to the Alertmanager webhook receiver, by status (firing, resolved).',
  },
  {
    name: 'pynomaly.auth.decisions',
    promName: 'pynomaly_auth_decisions_total',
    kind: 'counter',
    unit: '{decision}',
    labels: ['key', 'scope', 'outcome'],
    path: 'otlp',
    emittedBy: ['api'],
    help: 'Authentication and authorisation decisions of the API by key name (never the key), required scope and outcome (allowed, forbidden, unauthenticated, throttled).',
  },

  // ---- state, scraped from the services (computed at scrape time) ---------------------------
  {
    name: 'pynomaly_datasets',
    promName: 'pynomaly_datasets',
    kind: 'gauge',
    unit: '',
    labels: [],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['business'],
    help: 'Datasets stored.',
  },
  {
    name: 'pynomaly_detectors',
    promName: 'pynomaly_detectors',
    kind: 'gauge',
    unit: '',
    labels: ['algorithm', 'status'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['business'],
    help: 'Detectors, by algorithm and status (untrained, trained).',
  },
  {
    name: 'pynomaly_jobs',
    promName: 'pynomaly_jobs',
    kind: 'gauge',
    unit: '',
    labels: ['type', 'state'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['business'],
    help: 'Jobs in the system of record, by type and state (queued, running, succeeded, failed).',
  },
  {
    name: 'pynomaly_oldest_queued_job_age_seconds',
    promName: 'pynomaly_oldest_queued_job_age_seconds',
    kind: 'gauge',
    unit: '',
    labels: ['type'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['business'],
    help: 'Age of the oldest job still queued (0 when none).',
  },
  {
    name: 'pynomaly_outbox_pending_events',
    promName: 'pynomaly_outbox_pending_events',
    kind: 'gauge',
    unit: '',
    labels: [],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['business'],
    help: 'Outbox events not yet relayed to Kafka.',
  },
  {
    name: 'pynomaly_outbox_oldest_pending_age_seconds',
    promName: 'pynomaly_outbox_oldest_pending_age_seconds',
    kind: 'gauge',
    unit: '',
    labels: [],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['business'],
    help: 'Age of the oldest outbox event not yet relayed to Kafka (0 when none): grows while Kafka is unreachable.',
  },
  {
    name: 'pynomaly_retention_last_success_timestamp_seconds',
    promName: 'pynomaly_retention_last_success_timestamp_seconds',
    kind: 'gauge',
    unit: '',
    labels: [],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['business'],
    help: "Unix time of the retention job's last complete run (every table caught up), from the database: one value whichever replica ran it.",
  },
  {
    name: 'pynomaly_model_age_seconds',
    promName: 'pynomaly_model_age_seconds',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['models'],
    help: "Age of each detector's latest model.",
  },
  {
    name: 'pynomaly_model_version',
    promName: 'pynomaly_model_version',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['models'],
    help: "Version number of each detector's latest model.",
  },
  {
    name: 'pynomaly_last_training_success_timestamp_seconds',
    promName: 'pynomaly_last_training_success_timestamp_seconds',
    kind: 'gauge',
    unit: '',
    labels: [],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['models'],
    help: 'Unix time of the most recent successful training job (absent before the first).',
  },
  {
    name: 'pynomaly_drift_score',
    promName: 'pynomaly_drift_score',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id', 'feature', 'statistic'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['drift'],
    help: "Latest drift report's value per detector, feature and statistic (psi, ks_statistic, ks_pvalue, p_value_holm, q_value_bh, wasserstein_normalized, mean_shift_sigma).",
  },
  {
    name: 'pynomaly_drift_detected',
    promName: 'pynomaly_drift_detected',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['drift'],
    help: "1 when dataset drift persisted at the detector's latest drift report (drifted in k of the last m windows, default 2 of 3), else 0.",
  },
  {
    name: 'pynomaly_drift_feature_drift_sigma',
    promName: 'pynomaly_drift_feature_drift_sigma',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id', 'feature'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['drift'],
    help: "Effect size (max of |mean shift| and Wasserstein-1, in reference standard deviations) of each feature whose drift persisted at the detector's latest report (k of the last m windows after the Holm correction); 0 for the other features.",
  },
  {
    name: 'pynomaly_drift_share',
    promName: 'pynomaly_drift_share',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['drift'],
    help: 'Share of features named by the Benjamini–Hochberg list (or drifted, with raw thresholds) in the latest drift report (0..1).',
  },
  {
    name: 'pynomaly_drift_last_report_timestamp_seconds',
    promName: 'pynomaly_drift_last_report_timestamp_seconds',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id'],
    path: 'scrape',
    emittedBy: ['api'],
    views: ['drift'],
    help: "Unix time of the detector's latest drift report.",
  },
  {
    name: 'pynomaly_drift_window_rows',
    promName: 'pynomaly_drift_window_rows',
    kind: 'gauge',
    unit: '',
    labels: ['detector_id'],
    path: 'scrape',
    emittedBy: ['drift-worker'],
    help: 'Rows collected in the current (unfilled) drift window, per detector, in this worker.',
  },
  {
    name: 'pynomaly_training_in_progress',
    promName: 'pynomaly_training_in_progress',
    kind: 'gauge',
    unit: '',
    labels: [],
    path: 'scrape',
    emittedBy: ['training-worker'],
    help: 'Training jobs this worker is running now.',
  },
  {
    name: 'pynomaly_build_info',
    promName: 'pynomaly_build_info',
    kind: 'gauge',
    unit: '',
    labels: ['service', 'version', 'environment'],
    path: 'scrape',
    emittedBy: ['api', 'training-worker', 'drift-worker'],
    help: 'Always 1; labels say which build of which service runs.',
  },
];

/**
 * prom-client's default process and Node.js runtime metrics, served by every scrape endpoint.
 * Listed by prefix rather than one by one: their set varies slightly with the Node version.
 */
export const RUNTIME_METRIC_PREFIXES: readonly string[] = ['process_', 'nodejs_'];

export function metricByName(name: string): MetricDefinition {
  const found = METRICS.find((m) => m.name === name);
  if (!found) throw new Error(`metric ${name} is not in the catalog`);
  return found;
}

/** Every name Prometheus may store for a catalog metric (histograms expand to their series). */
export function prometheusSeriesNames(metric: MetricDefinition): string[] {
  if (metric.kind === 'histogram') {
    return ['_bucket', '_sum', '_count'].map((suffix) => metric.promName + suffix);
  }
  return [metric.promName];
}
