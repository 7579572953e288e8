/**
 * The first lines of every service's main: read the configuration (exit with a readable message
 * when it is wrong) and start telemetry. This module loads nothing but config and the OTel SDK, so
 * the pino instrumentation is in place before pino is imported.
 */
import { loadConfigOrExit, type Config, type ServiceName } from './config.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

export function boot(service: ServiceName): { config: Config; telemetry: Telemetry } {
  const config = loadConfigOrExit(service);
  const telemetry = startTelemetry({
    serviceName: `pynomaly-${service}`,
    serviceVersion: config.version,
    environment: config.environment,
    endpoint: config.otel.endpoint,
    metricExportIntervalMs: config.otel.metricExportIntervalMs,
    disabled: config.otel.disabled,
  });
  return { config, telemetry };
}
