/**
 * API entry point. Telemetry starts before fastify/pg/kafkajs are imported (they are loaded by the
 * dynamic import below) so the instrumentations can patch them.
 */
// Only the boot module here: anything that loads fastify, pg or kafkajs must come after telemetry starts.
import { boot } from '@pynomaly/shared/boot';

const { config, telemetry } = boot('api');
const { runApi } = await import('./server.js');
await runApi(config, telemetry);
