/**
 * API entry point. Telemetry starts before fastify/pg/kafkajs are imported (they are loaded by the
 * dynamic import below) so the instrumentations can patch them.
 */
// Only config and telemetry here: anything that loads fastify, pg or kafkajs must come after start.
import { loadConfigOrExit } from '@pynomaly/shared/config';
import { startTelemetry } from '@pynomaly/shared/telemetry';

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
