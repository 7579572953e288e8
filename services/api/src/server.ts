/** Wires the real dependencies: Postgres (migrated), Kafka, the outbox relay, scrape metrics. */
import {
  ensureServiceTopics,
  installGracefulShutdown,
  openServiceCore,
  repo,
  retryUntilDone,
  ScrapeMetrics,
  type Config,
  type Telemetry,
} from '@pynomaly/shared';
import { buildApp } from './app.js';
import { defineApiGauges } from './state-metrics.js';
import { PgStore } from './store.js';

export async function runApi(config: Config, telemetry: Telemetry): Promise<void> {
  const core = await openServiceCore(config);
  const { logger, pool, topics, kafka, producer, relay } = core;
  // Topic creation must not block start-up: with Kafka down the API still accepts work (outbox).
  void retryUntilDone(logger, 'ensure Kafka topics', () => ensureServiceTopics(core));
  relay.start();

  const admin = kafka.admin();
  let adminConnected = false;
  const kafkaReady = async () => {
    if (!adminConnected) {
      await admin.connect();
      adminConnected = true;
    }
    try {
      await admin.describeCluster();
    } catch (err) {
      adminConnected = false;
      await admin.disconnect().catch(() => {});
      throw err;
    }
  };

  const scrape = new ScrapeMetrics({
    emitter: 'api',
    version: config.version,
    environment: config.environment,
    onCollectError: (metric, err) => logger.warn({ err, metric }, 'scrape gauge not collected'),
  });
  defineApiGauges(scrape, () => repo.stateSnapshot(pool));

  const app = await buildApp({
    store: new PgStore(pool, topics, () => relay.notify()),
    auth: {
      apiKeys: config.api.apiKeys,
      authDisabled: config.api.authDisabled,
      scrapeTokens: config.scrapeTokens,
      failuresPerMinute: config.api.authFailuresPerMinute,
    },
    trustProxy: config.api.trustProxy,
    scrape,
    readiness: { postgres: async () => void (await pool.query('SELECT 1')), kafka: kafkaReady },
    version: config.version,
    logger,
    rateLimit: config.api.rateLimitPerMinute > 0 ? { max: config.api.rateLimitPerMinute, timeWindowMs: 60_000 } : false,
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  logger.info({ host: config.api.host, port: config.api.port }, 'api listening');

  installGracefulShutdown({
    logger,
    telemetry,
    drainMessage: 'shutting down: draining requests',
    steps: [
      { name: 'http server', run: () => app.close() },
      { name: 'outbox relay', run: () => relay.stop() },
      { name: 'kafka producer', run: () => producer.disconnect() },
      { name: 'kafka admin', run: () => admin.disconnect() },
      { name: 'postgres pool', run: () => pool.end() },
    ],
  });
}
