/** Wires the real dependencies: Postgres (migrated), Kafka, the outbox relay, scrape metrics. */
import {
  ensureServiceTopics,
  installGracefulShutdown,
  openServiceCore,
  repo,
  RetentionJob,
  startDeadLetterActionSeries,
  retryUntilDone,
  type Config,
  type Telemetry,
} from '@pynomaly/shared';
import { buildApp } from './app.js';
import { defineApiGauges } from './state-metrics.js';
import { PgOperatorStore } from './operator-store.js';
import { PgStore } from './store.js';

export async function runApi(config: Config, telemetry: Telemetry): Promise<void> {
  const core = await openServiceCore(config);
  const { logger, pool, topics, producer, relay, scrape } = core;
  // Topic creation must not block start-up: with Kafka down the API still accepts work (outbox).
  void retryUntilDone(logger, 'ensure Kafka topics', () => ensureServiceTopics(core));
  relay.start();

  defineApiGauges(scrape, () => repo.stateSnapshot(pool));
  startDeadLetterActionSeries(topics);

  const app = await buildApp({
    store: new PgStore(pool, topics, () => relay.notify(), {
      cacheBytes: config.api.limits.modelCacheBytes,
      maxStoredBytes: config.api.limits.modelMaxBytes,
    }),
    operator: new PgOperatorStore(pool, topics, () => relay.notify()),
    auth: {
      apiKeys: config.api.apiKeys,
      authDisabled: config.api.authDisabled,
      scrapeTokens: config.scrapeTokens,
      failuresPerMinute: config.api.authFailuresPerMinute,
    },
    trustProxy: config.api.trustProxy,
    scrape,
    // Ready means "can serve": every request needs Postgres; none needs Kafka, because events wait
    // in the outbox while the broker is away. Kafka's state shows in the outbox gauges and alert.
    readiness: { postgres: async () => void (await pool.query('SELECT 1')) },
    version: config.version,
    logger,
    limits: config.api.limits,
    trainingBudget: config.training.budget,
    rateLimit: config.api.rateLimitPerMinute > 0 ? { max: config.api.rateLimitPerMinute, timeWindowMs: 60_000 } : false,
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  // The API always runs, so it hosts the retention job; an advisory lock keeps replicas from
  // running it at the same time.
  const retention = new RetentionJob({ pool, logger, settings: config.retention });
  retention.start();
  logger.info({ host: config.api.host, port: config.api.port }, 'api listening');

  installGracefulShutdown({
    logger,
    telemetry,
    drainMessage: 'shutting down: draining requests',
    steps: [
      { name: 'http server', run: () => app.close() },
      { name: 'retention job', run: () => retention.stop() },
      { name: 'outbox relay', run: () => relay.stop() },
      { name: 'kafka producer', run: () => producer.disconnect() },
      { name: 'postgres pool', run: () => pool.end() },
    ],
  });
}
