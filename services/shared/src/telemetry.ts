/**
 * OpenTelemetry bootstrap. Must run before fastify, pg and kafkajs are imported (entry points
 * start telemetry, then import the app dynamically) so the instrumentations can patch them.
 *
 * Only catalog metrics leave the process: the instrumentations also create instruments of their
 * own (db.client.*, messaging.*, http.client.*), and "one metric, one path" means nothing
 * uncatalogued may reach the Collector, so the exporter is wrapped in a filter on the catalog.
 */
import { register } from 'node:module';
import { context, createNoopMeter, diag, DiagLogLevel, metrics, trace, type MeterProvider } from '@opentelemetry/api';
import { getRPCMetadata, RPCType, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  createAllowListAttributesProcessor,
  PeriodicExportingMetricReader,
  type InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { logRecordProcessor } from './log-export.js';
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

/**
 * The OTel attributes kept on the instrumentation-emitted catalog metric: the ones whose Prometheus
 * translation is the catalog's label list. Everything else the instrumentation adds (url.scheme,
 * network.protocol.version, server.*) would only multiply series.
 */
export const INSTRUMENTATION_METRIC_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  'http.server.request.duration': ['http.request.method', 'http.response.status_code', 'http.route'],
};

/**
 * Instruments the instrumentations create that the catalog does not hold (pool and query
 * durations, Kafka client counters, outgoing HTTP). The exporter would drop them anyway; a drop
 * view with no attributes spares the per-call aggregation and attribute hashing on the hot path.
 */
export const DROPPED_INSTRUMENTATION_METRICS: readonly string[] = ['db.client.*', 'messaging.*', 'http.client.*'];

/**
 * For the instrumentations none of whose metrics are in the catalog (pg, kafkajs): a view that
 * drops an instrument still hashes and processes every recording, on every query and message;
 * instruments from a no-op meter cost nothing. The drop views stay for the HTTP instrumentation,
 * whose server duration is kept and whose client duration is not.
 */
const NO_METRICS: MeterProvider = { getMeter: () => createNoopMeter() };

let hookRegistered = false;

export function startTelemetry(opts: TelemetryOptions): Telemetry {
  if (opts.disabled) return { enabled: false, shutdown: async () => {} };
  if (!hookRegistered) {
    // ESM imports bypass require(); import-in-the-middle's hook lets the instrumentations patch
    // fastify/pg/kafkajs/pino when they are imported after this point.
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
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
  const http = new HttpInstrumentation({
    // Scrapes and probes would drown the traces of real work.
    ignoreIncomingRequestHook: (req) => /^\/(health|metrics|api\/metrics)/.test(req.url ?? ''),
  });
  // No fastify instrumentation: its span per hook and handler said nothing the server span does
  // not, and cost a fifth of the API's tracing; recordHttpRoute names the route instead. Pool
  // checkouts are not traced either (the query spans show the time spent).
  const pg = new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true });
  const kafkajs = new KafkaJsInstrumentation();
  const sdk = new NodeSDK({
    resource,
    views: [
      ...Object.entries(INSTRUMENTATION_METRIC_ATTRIBUTES).map(([instrumentName, keys]) => ({
        instrumentName,
        attributesProcessors: [createAllowListAttributesProcessor([...keys])],
      })),
      ...DROPPED_INSTRUMENTATION_METRICS.map((instrumentName) => ({
        instrumentName,
        aggregation: { type: AggregationType.DROP },
        attributesProcessors: [createAllowListAttributesProcessor([])],
      })),
    ],
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
      http,
      pg,
      kafkajs,
      // Log sending: every pino record also goes to the Logs API (log-export.ts), with trace context.
      new PinoInstrumentation({ disableLogSending: false }),
    ],
  });
  sdk.start();
  // After start, which hands every instrumentation the global meter provider.
  for (const i of [pg, kafkajs]) i.setMeterProvider(NO_METRICS);
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

/**
 * Tells the HTTP instrumentation which route the current request matched: it names the server
 * span `METHOD route` and puts `http.route` on the span and on http.server.request.duration.
 * Call it from the web framework's first request hook (inside the server span's context).
 */
export function recordHttpRoute(route: string | undefined): void {
  if (!route) return;
  const rpc = getRPCMetadata(context.active());
  if (rpc?.type === RPCType.HTTP) rpc.route = route;
}

export function tracer() {
  return trace.getTracer('pynomaly');
}

export function meter() {
  return metrics.getMeter('pynomaly');
}
