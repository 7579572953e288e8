/**
 * OpenTelemetry bootstrap. Must run before pino is imported (entry points start telemetry, then
 * import the app dynamically) so its instrumentation can patch it.
 *
 * Only catalog metrics leave the process: "one metric, one path" means nothing uncatalogued may
 * reach the Collector (an instrumentation added later may bring instruments of its own), so the
 * exporter is wrapped in a filter on the catalog.
 */
import { register } from 'node:module';
import { diag, DiagLogLevel, metrics, trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  PeriodicExportingMetricReader,
  type InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { logRecordProcessor } from './log-export.js';
import { cacheRelativeResolution } from './resolve-cache.js';
import { METRICS } from './metrics/catalog.js';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  environment: string;
  endpoint: string;
  metricExportIntervalMs: number;
  disabled: boolean;
}

export interface Telemetry {
  /** Flushes pending spans and metrics, then stops the SDK. Safe to call twice. */
  shutdown(): Promise<void>;
  readonly enabled: boolean;
}

const OTLP_METRIC_NAMES = new Set(METRICS.filter((m) => m.path === 'otlp').map((m) => m.name));

/** Keeps only catalog metrics in each export batch. */
export class CatalogFilteringExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly allowed: ReadonlySet<string> = OTLP_METRIC_NAMES,
  ) {}

  export(batch: ResourceMetrics, done: (result: ExportResult) => void): void {
    const scopeMetrics = batch.scopeMetrics
      .map((sm) => ({ ...sm, metrics: sm.metrics.filter((m) => this.allowed.has(m.descriptor.name)) }))
      .filter((sm) => sm.metrics.length > 0);
    this.inner.export({ ...batch, scopeMetrics }, done);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return this.inner.selectAggregationTemporality?.(type) ?? AggregationTemporality.CUMULATIVE;
  }
}

let hookRegistered = false;

export function startTelemetry(opts: TelemetryOptions): Telemetry {
  if (opts.disabled) return { enabled: false, shutdown: async () => {} };
  if (!hookRegistered) {
    // ESM imports bypass require(); import-in-the-middle's hook lets the pino instrumentation
    // patch pino when it is imported after this point.
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
    cacheRelativeResolution();
    hookRegistered = true;
  }
  diag.setLogger(
    {
      error: (msg, ...args) => process.stderr.write(`otel error: ${msg} ${args.map(String).join(' ')}\n`),
      warn: (msg, ...args) => process.stderr.write(`otel warn: ${msg} ${args.map(String).join(' ')}\n`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: opts.serviceName,
    [ATTR_SERVICE_VERSION]: opts.serviceVersion,
    'service.namespace': 'pynomaly',
    'deployment.environment': opts.environment,
    'deployment.environment.name': opts.environment,
  });
  const metricExporter = new CatalogFilteringExporter(
    new OTLPMetricExporter({ url: opts.endpoint, temporalityPreference: AggregationTemporality.CUMULATIVE }),
  );
  // No HTTP, fastify, pg or kafkajs instrumentation: the API opens its server spans from fastify's
  // hooks (services/api/src/plugins/server-spans.ts), which know the route and cost a fraction of
  // patching every server; the pool's clients open the query spans (db/traced-client.ts); the
  // Kafka client opens a producer span per message and the consumers a span per message processed
  // (kafka/index.ts), where the kafkajs instrumentation wrapped every send and opened a second
  // consumer span around each of ours. The workers serve only scrapes and probes, not traced.
  const sdk = new NodeSDK({
    resource,
    traceExporter: new OTLPTraceExporter({ url: opts.endpoint }),
    logRecordProcessors: [logRecordProcessor(opts.endpoint)],
    metricReaders: [
      new PeriodicExportingMetricReader({
        exporter: metricExporter,
        exportIntervalMillis: opts.metricExportIntervalMs,
        exportTimeoutMillis: Math.min(opts.metricExportIntervalMs, 10_000),
      }),
    ],
    instrumentations: [
      // Log sending: every pino record also goes to the Logs API (log-export.ts), with trace context.
      new PinoInstrumentation({ disableLogSending: false }),
    ],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => {
      stopped ??= sdk.shutdown().catch((err: unknown) => {
        process.stderr.write(`otel shutdown failed: ${String(err)}\n`);
      });
      return stopped;
    },
  };
}

export function tracer() {
  return trace.getTracer('pynomaly');
}

export function meter() {
  return metrics.getMeter('pynomaly');
}
