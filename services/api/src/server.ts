/** Wires the real dependencies: Postgres (migrated), Kafka, the outbox relay, scrape metrics. */
import {
  createKafka,
  createLogger,
  createPool,
  ensureTopics,
  EventProducer,
  migrate,
  OutboxRelay,
  repo,
  ScrapeMetrics,
  topicNames,
  type Config,
  type Telemetry,
} from '@pynomaly/shared';
import { buildApp } from './app.js';
import { defineApiGauges } from './state-metrics.js';
import { PgStore } from './store.js';

export async function runApi(config: Config, telemetry: Telemetry): Promise<void> {
  const logger = createLogger({
    service: 'api',
    level: config.log.level,
    dir: config.log.dir,
    version: config.version,
    environment: config.environment,
  });
  const pool = createPool(config.database.url, config.database.poolMax, 'pynomaly-api');
  await migrate(pool, logger);

  const topics = topicNames(config.kafka.topicPrefix);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'pynomaly-api', logger });
  // Topic creation must not block start-up: with Kafka down the API still accepts work (outbox).
  const ensure = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureTopics(kafka, Object.values(topics), config.kafka.partitions);
        return;
      } catch (err) {
        logger.warn({ err, attempt }, 'could not ensure Kafka topics yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * attempt)));
      }
    }
  };
  void ensure();

  const producer = new EventProducer(kafka);
  const relay = new OutboxRelay({ pool, sender: producer, logger });
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
    auth: { apiKeys: config.api.apiKeys, authDisabled: config.api.authDisabled, scrapeToken: config.api.scrapeToken },
    scrape,
    readiness: { postgres: async () => void (await pool.query('SELECT 1')), kafka: kafkaReady },
    version: config.version,
    logger,
    rateLimit: config.api.rateLimitPerMinute > 0 ? { max: config.api.rateLimitPerMinute, timeWindowMs: 60_000 } : false,
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  logger.info({ host: config.api.host, port: config.api.port }, 'api listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests');
    const hardStop = setTimeout(() => process.exit(1), 25_000);
    hardStop.unref();
    try {
      await app.close();
      await relay.stop();
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await pool.end();
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
    }
    await telemetry.shutdown();
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
