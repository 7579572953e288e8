/**
 * The services' log records over OTLP to the Collector (its logs pipeline stores them in the log
 * store). pino keeps writing stdout and LOG_DIR files (logging.ts); the pino instrumentation adds
 * a second stream that hands every record to the OTel Logs API, with the active span's trace and
 * span ids, and this processor batches them to the Collector with the service's resource.
 */
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { BatchLogRecordProcessor, type LogRecordProcessor } from '@opentelemetry/sdk-logs';

/**
 * Bounded in memory: when the Collector is unreachable for long, the oldest unsent records are
 * dropped here (the files and stdout still have them) instead of growing the heap.
 */
export const LOG_EXPORT_LIMITS = {
  maxQueueSize: 4096,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10_000,
} as const;

export function logRecordProcessor(endpoint: string): LogRecordProcessor {
  return new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: endpoint }), ...LOG_EXPORT_LIMITS });
}
