/**
 * API entry point. Telemetry starts before the app is imported (the dynamic import below) so the
 * pino instrumentation can patch pino, and every module finds the SDK's providers in place.
 */
// Only the boot module here: anything that loads pino (the logger, the app) must come after telemetry starts.
import { boot } from '@pynomaly/shared/boot';

const { config, telemetry } = boot('api');
const { runApi } = await import('./server.js');
await runApi(config, telemetry);
