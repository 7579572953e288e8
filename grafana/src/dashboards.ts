// The eight Pynomaly dashboards. Every metric named here is a Prometheus name from
// services/shared/src/metrics/catalog.ts, a recording rule from prometheus/rules/recording.yml,
// or listed in prometheus/external-metrics.yml (test/configs/catalog-usage.test.ts checks it).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { ENV, ENV_DET, UIDS, build, q, stat, table, timeseries } from './lib.js';

const RI = '$__rate_interval';
const HTTP = 'http_server_request_duration_seconds';
const API_SEL = `${ENV},job=~".*api"`;
const WORKERS = `${ENV},job=~"training-worker|drift-worker"`;

function overview(): Dashboard {
  return build({
    uid: UIDS.overview,
    title: 'Pynomaly / Overview',
    description: 'Is Pynomaly healthy? Traffic, errors, targets, alerts, detections and drift at a glance.',
    panels: [
      stat({
        title: 'Targets up',
        description: 'Scrape targets answering, of all targets.',
        unit: 'none',
        queries: [q(`sum(up{${ENV}})`, 'up'), q(`count(up{${ENV}})`, 'total')],
      }),
      stat({
        title: 'Firing alerts',
        description: 'Alerts firing now, by severity (Watchdog is the always-on heartbeat).',
        unit: 'none',
        queries: [q('sum by (severity) (ALERTS{alertstate="firing"})', '{{severity}}')],
      }),
      stat({
        title: 'API 5xx ratio',
        description: 'Share of API requests answered with 5xx (SLO: at most 0.1 %).',
        unit: 'percentunit',
        queries: [
          q(
            `sum(rate(${HTTP}_count{${API_SEL},http_response_status_code=~"5.."}[${RI}])) / sum(rate(${HTTP}_count{${API_SEL}}[${RI}]))`,
            '5xx',
          ),
        ],
      }),
      stat({
        title: 'Detectors drifted',
        description: 'Detectors whose latest drift report says the data drifted.',
        unit: 'none',
        queries: [q(`sum(pynomaly_drift_detected{${ENV}})`, 'drifted')],
      }),
      timeseries({
        title: 'API requests',
        description: 'Requests per second by job.',
        unit: 'reqps',
        queries: [q(`sum by (job) (rate(${HTTP}_count{${API_SEL}}[${RI}]))`, '{{job}}')],
      }),
      timeseries({
        title: 'Rows scored',
        description: 'Rows scored by detect requests, and rows labelled anomalous.',
        unit: 'suffix: rows/s',
        queries: [
          q(`sum(rate(pynomaly_detection_rows_total{${ENV}}[${RI}]))`, 'scored'),
          q(`sum(rate(pynomaly_detection_anomalies_total{${ENV}}[${RI}]))`, 'anomalous'),
        ],
      }),
      table({
        title: 'Running builds',
        description: 'Which version of each service runs where.',
        unit: 'none',
        queries: [q(`pynomaly_build_info{${ENV}}`, '{{service}} {{version}}')],
      }),
    ],
  });
}

function api(): Dashboard {
  return build({
    uid: UIDS.api,
    title: 'Pynomaly / API',
    description: 'RED metrics of the API and its SLOs: 99.9 % of requests without 5xx, 99 % under 500 ms (30 days).',
    panels: [
      timeseries({
        title: 'Request rate by route',
        description: 'Requests per second per route.',
        unit: 'reqps',
        queries: [q(`sum by (http_route) (rate(${HTTP}_count{${API_SEL}}[${RI}]))`, '{{http_route}}')],
      }),
      timeseries({
        title: 'Errors by status',
        description: '4xx and 5xx responses per second.',
        unit: 'reqps',
        queries: [
          q(
            `sum by (http_response_status_code) (rate(${HTTP}_count{${API_SEL},http_response_status_code=~"[45].."}[${RI}]))`,
            '{{http_response_status_code}}',
          ),
        ],
      }),
      timeseries({
        title: 'Latency quantiles',
        description: 'Request duration p50/p95/p99 over all routes.',
        unit: 's',
        queries: [0.5, 0.95, 0.99].map((quantile) =>
          q(
            `histogram_quantile(${quantile}, sum by (le) (rate(${HTTP}_bucket{${API_SEL}}[${RI}])))`,
            `p${quantile * 100}`,
          ),
        ),
      }),
      timeseries({
        title: 'p95 latency by route (5m)',
        description: 'Recorded p95 per route.',
        unit: 's',
        queries: [q(`environment_job_route:http_server_request_duration_seconds:p95_5m{${API_SEL}}`, '{{http_route}}')],
      }),
      timeseries({
        title: 'Error ratio per SLO window',
        description: 'Share of 5xx over the burn-rate windows the alerts use; the budget is 0.1 %.',
        unit: 'percentunit',
        queries: ['5m', '30m', '1h', '6h'].map((w) =>
          q(`environment_job:http_server_request_errors:ratio_rate${w}{${API_SEL}}`, w),
        ),
      }),
      timeseries({
        title: 'Error budget burn rate',
        description:
          'Error ratio divided by the budget: 1 spends it exactly in 30 days; 14.4 (1 h and 5 m) pages, 6 (6 h and 30 m) tickets.',
        unit: 'suffix:×',
        queries: ['5m', '1h', '6h'].map((w) =>
          q(`environment_job:http_server_request_errors:ratio_rate${w}{${API_SEL}} / 0.001`, w),
        ),
      }),
      timeseries({
        title: 'Slow request ratio (> 500 ms)',
        description: 'Share of requests over the 500 ms objective; at most 1 %, the alert fires at 6 %.',
        unit: 'percentunit',
        queries: ['5m', '1h'].map((w) => q(`environment_job:http_server_request_slow:ratio_rate${w}{${API_SEL}}`, w)),
      }),
      stat({
        title: 'Availability (30 d)',
        description: 'Share of requests without 5xx over 30 days (objective 99.9 %).',
        unit: 'percentunit',
        queries: [
          q(
            `1 - sum(increase(${HTTP}_count{${API_SEL},http_response_status_code=~"5.."}[30d])) / sum(increase(${HTTP}_count{${API_SEL}}[30d]))`,
            'availability',
          ),
        ],
      }),
      stat({
        title: 'Error budget left (30 d)',
        description: 'Share of the 30-day budget of 0.1 % 5xx not yet spent.',
        unit: 'percentunit',
        queries: [
          q(
            `1 - (sum(increase(${HTTP}_count{${API_SEL},http_response_status_code=~"5.."}[30d])) / sum(increase(${HTTP}_count{${API_SEL}}[30d]))) / 0.001`,
            'budget left',
          ),
        ],
      }),
      timeseries({
        title: 'Span rate by operation',
        description: 'Server and internal spans per second (spanmetrics connector).',
        unit: 'ops',
        queries: [q(`sum by (span_name) (rate(traces_span_metrics_calls_total{${API_SEL}}[${RI}]))`, '{{span_name}}')],
      }),
      timeseries({
        title: 'Span p95 by operation',
        description: 'p95 span duration per operation (spanmetrics connector).',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, span_name) (rate(traces_span_metrics_duration_seconds_bucket{${API_SEL}}[${RI}])))`,
            '{{span_name}}',
          ),
        ],
      }),
      timeseries({
        title: 'API memory',
        description: 'Resident memory of the API process.',
        unit: 'bytes',
        queries: [q(`process_resident_memory_bytes{${ENV},job="api"}`, '{{instance}}')],
      }),
      timeseries({
        title: 'API event loop lag p99',
        description: 'Node.js event loop lag, p99.',
        unit: 's',
        queries: [q(`nodejs_eventloop_lag_p99_seconds{${ENV},job="api"}`, '{{instance}}')],
      }),
    ],
  });
}

function business(): Dashboard {
  return build({
    uid: UIDS.business,
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
  });
}

function models(): Dashboard {
  return build({
    uid: UIDS.models,
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
  });
}

function drift(): Dashboard {
  const score = (statistic: string) =>
    q(`pynomaly_drift_score{${ENV_DET},statistic="${statistic}"}`, '{{detector_id}} {{feature}}');
  return build({
    uid: UIDS.drift,
    title: 'Pynomaly / Drift',
    description:
      'Latest drift report per detector and feature (PSI, KS, normalised Wasserstein), and the drift worker itself.',
    perDetector: true,
    panels: [
      timeseries({
        title: 'Dataset drift',
        description: '1 when the latest report says the dataset drifted (share of drifted features at least 50 %).',
        unit: 'bool',
        queries: [q(`pynomaly_drift_detected{${ENV_DET}}`, '{{detector_id}}')],
      }),
      timeseries({
        title: 'Drift share',
        description: 'Share of features drifted in the latest report.',
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
        description: 'Two-sample Kolmogorov–Smirnov p-value; < 0.05 means drift (windows up to 1000 rows).',
        unit: 'none',
        queries: [score('ks_pvalue')],
      }),
      timeseries({
        title: 'KS statistic per feature',
        description: 'Two-sample Kolmogorov–Smirnov statistic.',
        unit: 'none',
        queries: [score('ks_statistic')],
      }),
      timeseries({
        title: 'Normalised Wasserstein per feature',
        description: 'Wasserstein-1 over the reference std; ≥ 0.1 means drift (windows over 1000 rows).',
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
  });
}

function workers(): Dashboard {
  return build({
    uid: UIDS.workers,
    title: 'Pynomaly / Workers and Kafka',
    description:
      'Training and drift workers: liveness, message handling, DLQ; Kafka consumer lag and topic throughput.',
    panels: [
      timeseries({
        title: 'Workers up',
        description: 'Scrape health of each worker (1 up, 0 down).',
        unit: 'bool',
        queries: [q(`up{${WORKERS}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Consumer lag',
        description: 'Messages behind, per consumer group and topic (kafkametrics).',
        unit: 'suffix: messages',
        queries: [q(`environment_group_topic:kafka_consumer_group_lag:sum{${ENV}}`, '{{group}} {{topic}}')],
      }),
      timeseries({
        title: 'Messages consumed',
        description: 'Messages handled per second, by group, topic and outcome.',
        unit: 'suffix: msg/s',
        queries: [
          q(
            `sum by (consumer_group, topic, outcome) (rate(pynomaly_messages_consumed_total{${ENV}}[${RI}]))`,
            '{{consumer_group}} {{topic}} {{outcome}}',
          ),
        ],
      }),
      timeseries({
        title: 'Processing duration p95',
        description: 'p95 time from receiving a message to committing it.',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, consumer_group, topic) (rate(pynomaly_message_processing_duration_seconds_bucket{${ENV}}[${RI}])))`,
            '{{consumer_group}} {{topic}}',
          ),
        ],
      }),
      timeseries({
        title: 'Messages produced',
        description: 'Messages produced per second, by topic and outcome.',
        unit: 'suffix: msg/s',
        queries: [
          q(`sum by (topic, outcome) (rate(pynomaly_messages_produced_total{${ENV}}[${RI}]))`, '{{topic}} {{outcome}}'),
        ],
      }),
      timeseries({
        title: 'Dead-lettered',
        description: 'Messages sent to the DLQ per second, by origin topic and reason.',
        unit: 'suffix: msg/s',
        queries: [
          q(
            `sum by (topic, reason) (rate(pynomaly_messages_dead_lettered_total{${ENV}}[${RI}]))`,
            '{{topic}} {{reason}}',
          ),
        ],
      }),
      timeseries({
        title: 'Topic write rate',
        description: "Growth of each topic's end offsets (messages/s), from kafkametrics.",
        unit: 'suffix: msg/s',
        queries: [q(`sum by (topic) (rate(kafka_partition_current_offset_ratio{${ENV}}[${RI}]))`, '{{topic}}')],
      }),
      timeseries({
        title: 'Consumer group members',
        description: 'Members of each consumer group.',
        unit: 'none',
        queries: [q(`kafka_consumer_group_members{${ENV}}`, '{{group}}')],
      }),
      stat({
        title: 'Kafka brokers',
        description: 'Brokers in the cluster.',
        unit: 'none',
        queries: [q(`max(kafka_brokers{${ENV}})`, 'brokers')],
      }),
      stat({
        title: 'Partitions',
        description: 'Partitions per topic.',
        unit: 'none',
        width: 18,
        queries: [q(`max by (topic) (kafka_topic_partitions{${ENV}})`, '{{topic}}')],
      }),
      timeseries({
        title: 'Worker memory',
        description: 'Resident memory of each worker.',
        unit: 'bytes',
        queries: [q(`process_resident_memory_bytes{${WORKERS}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Worker CPU',
        description: 'CPU seconds per second used by each worker.',
        unit: 'percentunit',
        queries: [q(`rate(process_cpu_seconds_total{${WORKERS}}[${RI}])`, '{{job}} {{instance}}')],
      }),
    ],
  });
}

function collector(): Dashboard {
  const C = `${ENV},job="otel-collector"`;
  return build({
    uid: UIDS.collector,
    title: 'Pynomaly / Collector',
    description: 'The OpenTelemetry Collector: what it accepts, refuses, exports and queues, and its own resources.',
    panels: [
      timeseries({
        title: 'Accepted',
        description: 'Spans and metric points accepted per second, by receiver.',
        unit: 'suffix: items/s',
        queries: [
          q(`sum by (receiver) (rate(otelcol_receiver_accepted_spans_total{${C}}[${RI}]))`, 'spans {{receiver}}'),
          q(
            `sum by (receiver) (rate(otelcol_receiver_accepted_metric_points_total{${C}}[${RI}]))`,
            'points {{receiver}}',
          ),
        ],
      }),
      timeseries({
        title: 'Refused',
        description: 'Spans and metric points refused per second (memory limiter, full pipeline).',
        unit: 'suffix: items/s',
        queries: [
          q(`sum by (receiver) (rate(otelcol_receiver_refused_spans_total{${C}}[${RI}]))`, 'spans {{receiver}}'),
          q(
            `sum by (receiver) (rate(otelcol_receiver_refused_metric_points_total{${C}}[${RI}]))`,
            'points {{receiver}}',
          ),
        ],
      }),
      timeseries({
        title: 'Exported',
        description: 'Spans and metric points sent per second, by exporter.',
        unit: 'suffix: items/s',
        queries: [
          q(`sum by (exporter) (rate(otelcol_exporter_sent_spans_total{${C}}[${RI}]))`, 'spans {{exporter}}'),
          q(`sum by (exporter) (rate(otelcol_exporter_sent_metric_points_total{${C}}[${RI}]))`, 'points {{exporter}}'),
        ],
      }),
      timeseries({
        title: 'Export failures',
        description: 'Items that failed to send or to enter the queue, per second.',
        unit: 'suffix: items/s',
        queries: [
          q(
            `sum by (exporter) (rate(otelcol_exporter_send_failed_spans_total{${C}}[${RI}]))`,
            'send failed spans {{exporter}}',
          ),
          q(
            `sum by (exporter) (rate(otelcol_exporter_send_failed_metric_points_total{${C}}[${RI}]))`,
            'send failed points {{exporter}}',
          ),
          q(
            `sum by (exporter) (rate(otelcol_exporter_enqueue_failed_spans_total{${C}}[${RI}]))`,
            'enqueue failed spans {{exporter}}',
          ),
        ],
      }),
      timeseries({
        title: 'Sending queue fill',
        description: 'Queue size over capacity per exporter (alert above 80 %).',
        unit: 'percentunit',
        min: 0,
        queries: [
          q(
            `max by (exporter) (otelcol_exporter_queue_size{${C}}) / max by (exporter) (otelcol_exporter_queue_capacity{${C}})`,
            '{{exporter}}',
          ),
        ],
      }),
      timeseries({
        title: 'Collector memory',
        description: 'Resident memory of the Collector (memory limiter limit: 512 MiB by default).',
        unit: 'bytes',
        queries: [q(`otelcol_process_memory_rss_bytes{${C}}`, '{{instance}}')],
      }),
      timeseries({
        title: 'Collector CPU',
        description: 'CPU seconds per second used by the Collector.',
        unit: 'percentunit',
        queries: [q(`rate(otelcol_process_cpu_seconds_total{${C}}[${RI}])`, '{{instance}}')],
      }),
      timeseries({
        title: 'Exporter endpoint',
        description: "Scrape health of the Collector's Prometheus exporter and telemetry endpoints.",
        unit: 'bool',
        queries: [q(`up{${ENV},job=~"otel-collector|otel-collector-exporter"}`, '{{job}}')],
      }),
    ],
  });
}

function selfHealth(): Dashboard {
  return build({
    uid: UIDS.selfHealth,
    title: 'Pynomaly / Monitoring self-health',
    description: 'Prometheus, Alertmanager, scrape targets and the exporters of the real parts (Postgres, the host).',
    panels: [
      table({
        title: 'Targets',
        description: 'Every scrape target and whether it answers.',
        unit: 'bool',
        queries: [q(`up{${ENV}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Scrape duration',
        description: 'Time each scrape takes.',
        unit: 's',
        queries: [q(`scrape_duration_seconds{${ENV}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Firing alerts',
        description: 'Alerts firing, by name and severity.',
        unit: 'none',
        queries: [q('sum by (alertname, severity) (ALERTS{alertstate="firing"})', '{{alertname}} {{severity}}')],
      }),
      timeseries({
        title: 'Head series',
        description: 'Series in the Prometheus head block.',
        unit: 'none',
        queries: [q(`prometheus_tsdb_head_series{${ENV}}`, '{{instance}}')],
      }),
      timeseries({
        title: 'Rule evaluation failures',
        description: 'Failed rule evaluations per second.',
        unit: 'suffix: failures/s',
        queries: [
          q(`sum by (rule_group) (rate(prometheus_rule_evaluation_failures_total{${ENV}}[${RI}]))`, '{{rule_group}}'),
        ],
      }),
      timeseries({
        title: 'Rule group duration',
        description: 'Last evaluation time per rule group (must stay below 15 s).',
        unit: 's',
        queries: [q(`prometheus_rule_group_last_duration_seconds{${ENV}}`, '{{rule_group}}')],
      }),
      timeseries({
        title: 'Config reloads OK',
        description: '1 when the last configuration reload succeeded.',
        unit: 'bool',
        queries: [
          q(`prometheus_config_last_reload_successful{${ENV}}`, 'prometheus'),
          q(`alertmanager_config_last_reload_successful{${ENV}}`, 'alertmanager'),
        ],
      }),
      timeseries({
        title: 'Alerts sent to Alertmanager',
        description: 'Alerts Prometheus sent and failed to send per second.',
        unit: 'suffix: alerts/s',
        queries: [
          q(`sum(rate(prometheus_notifications_sent_total{${ENV}}[${RI}]))`, 'sent'),
          q(`sum(rate(prometheus_notifications_errors_total{${ENV}}[${RI}]))`, 'errors'),
        ],
      }),
      timeseries({
        title: 'Alertmanager notifications',
        description: 'Notifications per second by integration, and failures.',
        unit: 'suffix: notifications/s',
        queries: [
          q(`sum by (integration) (rate(alertmanager_notifications_total{${ENV}}[${RI}]))`, '{{integration}}'),
          q(
            `sum by (integration) (rate(alertmanager_notifications_failed_total{${ENV}}[${RI}]))`,
            'failed {{integration}}',
          ),
        ],
      }),
      timeseries({
        title: 'Alertmanager alerts',
        description: 'Alerts held by Alertmanager, by state.',
        unit: 'none',
        queries: [q(`sum by (state) (alertmanager_alerts{${ENV}})`, '{{state}}')],
      }),
      timeseries({
        title: 'Postgres',
        description: 'Postgres reachable (pg_up) and connections in use.',
        unit: 'none',
        queries: [q(`pg_up{${ENV}}`, 'up'), q(`sum(pg_stat_database_numbackends{${ENV}})`, 'connections')],
      }),
      timeseries({
        title: 'Host CPU busy',
        description: 'Share of CPU time not idle on the host.',
        unit: 'percentunit',
        queries: [q(`1 - avg(rate(node_cpu_seconds_total{${ENV},mode="idle"}[${RI}]))`, 'busy')],
      }),
      timeseries({
        title: 'Host memory available',
        description: 'Share of memory available on the host.',
        unit: 'percentunit',
        queries: [q(`node_memory_MemAvailable_bytes{${ENV}} / node_memory_MemTotal_bytes{${ENV}}`, 'available')],
      }),
      timeseries({
        title: 'Host disk free',
        description: 'Free space per filesystem.',
        unit: 'percentunit',
        queries: [
          q(
            `node_filesystem_avail_bytes{${ENV},fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{${ENV},fstype!~"tmpfs|overlay"}`,
            '{{mountpoint}}',
          ),
        ],
      }),
    ],
  });
}

/** Every dashboard, keyed by its output file name (grafana/dashboards/<key>.json). */
export function allDashboards(): Record<string, Dashboard> {
  return {
    overview: overview(),
    api: api(),
    business: business(),
    models: models(),
    drift: drift(),
    'workers-kafka': workers(),
    collector: collector(),
    'self-health': selfHealth(),
  };
}
