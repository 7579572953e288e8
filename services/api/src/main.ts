/**
 * API entry point. Telemetry starts before fastify/pg/kafkajs are imported (they are loaded by the
 * dynamic import below) so the instrumentations can patch them.
 */
import { loadConfigOrExit, startTelemetry } from '@pynomaly/shared';

const config = loadConfigOrExit('api');
const telemetry = startTelemetry({
  serviceName: 'pynomaly-api',
  serviceVersion: config.version,
  environment: config.environment,
  endpoint: config.otel.endpoint,
  metricExportIntervalMs: config.otel.metricExportIntervalMs,
  disabled: config.otel.disabled,
});
const { runApi } = await import('./server.js');
await runApi(config, telemetry);
