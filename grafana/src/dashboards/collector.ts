import { type DashboardBody, ENV, q, timeseries } from '../lib.js';
import { RI } from '../selectors.js';

export default function collector(): DashboardBody {
  const C = `${ENV},job="otel-collector"`;
  return {
    title: 'Pynomaly / Collector',
    description: 'The OpenTelemetry Collector: what it accepts, refuses, exports and queues, and its own resources.',
    panels: [
      timeseries({
        title: 'Accepted',
        description: 'Spans, metric points and log records accepted per second, by receiver.',
        unit: 'suffix: items/s',
        queries: [
          q(`sum by (receiver) (rate(otelcol_receiver_accepted_spans_total{${C}}[${RI}]))`, 'spans {{receiver}}'),
          q(
            `sum by (receiver) (rate(otelcol_receiver_accepted_metric_points_total{${C}}[${RI}]))`,
            'points {{receiver}}',
          ),
          q(
            `sum by (receiver) (rate(otelcol_receiver_accepted_log_records_total{${C}}[${RI}]))`,
            'log records {{receiver}}',
          ),
        ],
      }),
      timeseries({
        title: 'Refused',
        description: 'Spans, metric points and log records refused per second (memory limiter, full pipeline).',
        unit: 'suffix: items/s',
        queries: [
          q(`sum by (receiver) (rate(otelcol_receiver_refused_spans_total{${C}}[${RI}]))`, 'spans {{receiver}}'),
          q(
            `sum by (receiver) (rate(otelcol_receiver_refused_metric_points_total{${C}}[${RI}]))`,
            'points {{receiver}}',
          ),
          q(
            `sum by (receiver) (rate(otelcol_receiver_refused_log_records_total{${C}}[${RI}]))`,
            'log records {{receiver}}',
          ),
        ],
      }),
      timeseries({
        title: 'Exported',
        description:
          'Spans (Jaeger: otlp_grpc/traces, Zipkin: zipkin), metric points and log records (log store: otlp_http/logs) sent per second, by exporter.',
        unit: 'suffix: items/s',
        queries: [
          q(`sum by (exporter) (rate(otelcol_exporter_sent_spans_total{${C}}[${RI}]))`, 'spans {{exporter}}'),
          q(`sum by (exporter) (rate(otelcol_exporter_sent_metric_points_total{${C}}[${RI}]))`, 'points {{exporter}}'),
          q(
            `sum by (exporter) (rate(otelcol_exporter_sent_log_records_total{${C}}[${RI}]))`,
            'log records {{exporter}}',
          ),
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
          q(
            `sum by (exporter) (rate(otelcol_exporter_send_failed_log_records_total{${C}}[${RI}]))`,
            'send failed log records {{exporter}}',
          ),
          q(
            `sum by (exporter) (rate(otelcol_exporter_enqueue_failed_log_records_total{${C}}[${RI}]))`,
            'enqueue failed log records {{exporter}}',
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
  };
}
