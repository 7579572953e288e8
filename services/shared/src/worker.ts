/**
 * The common life cycle of the Kafka workers: Postgres (migrated), topics, a producer for the DLQ
 * and the outbox relay, a consumer group member, the /metrics endpoint, and a graceful SIGTERM
 * (stop consuming after the in-flight message is committed, flush the outbox, flush telemetry).
 */
import { createServer, type Server } from 'node:http';
import type { Consumer } from 'kafkajs';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logging.js';
import { createPool, migrate, type Pool } from './db/pool.js';
import { topicNames, type Topics } from './events/index.js';
import { createKafka, ensureTopics, EventProducer, startConsumer, type MessageHandler } from './kafka/index.js';
import type { ScrapeMetrics } from './metrics/scrape.js';
import { OutboxRelay } from './outbox/relay.js';
import type { Telemetry } from './telemetry.js';

export interface WorkerContext {
  config: Config;
  logger: Logger;
  pool: Pool;
  topics: Topics;
  relay: OutboxRelay;
}

export interface WorkerSpec {
  groupId: string;
  subscribe: (topics: Topics) => string[];
  handler: (ctx: WorkerContext) => MessageHandler;
  scrape: (ctx: WorkerContext) => ScrapeMetrics;
}

/** Serves /metrics (Prometheus text or OpenMetrics) and liveness/readiness for one worker. */
export function startMetricsServer(
  host: string,
  port: number,
  scrape: ScrapeMetrics,
  ready: () => boolean,
  logger: Logger,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/metrics') {
      scrape.render('all', req.headers.accept).then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        (err: unknown) => {
          logger.error({ err }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
      return;
    }
    if (path === '/health/live') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/health/ready') {
      const ok = ready();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export async function runWorker(config: Config, telemetry: Telemetry, spec: WorkerSpec): Promise<void> {
  const logger = createLogger({
    service: config.service,
    level: config.log.level,
    dir: config.log.dir,
    version: config.version,
    environment: config.environment,
  });
  const pool = createPool(config.database.url, config.database.poolMax, `pynomaly-${config.service}`);
  await migrate(pool, logger);
  const topics = topicNames(config.kafka.topicPrefix);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: `pynomaly-${config.service}`, logger });
  const producer = new EventProducer(kafka);
  const relay = new OutboxRelay({ pool, sender: producer, logger });
  const ctx: WorkerContext = { config, logger, pool, topics, relay };
  const scrape = spec.scrape(ctx);

  let consumer: Consumer | undefined;
  const server = await startMetricsServer(
    config.metrics.host,
    config.metrics.port,
    scrape,
    () => consumer !== undefined,
    logger,
  );
  logger.info({ host: config.metrics.host, port: config.metrics.port }, 'metrics endpoint listening');
  relay.start();

  // Kafka may come up after us; keep trying rather than crash-looping.
  for (let attempt = 1; consumer === undefined; attempt++) {
    try {
      await ensureTopics(kafka, Object.values(topics), config.kafka.partitions);
      consumer = await startConsumer({
        kafka,
        groupId: spec.groupId,
        topics: spec.subscribe(topics),
        handler: spec.handler(ctx),
        dlqTopic: topics.dlq,
        dlq: producer,
        logger,
      });
    } catch (err) {
      logger.warn({ err, attempt }, 'could not start the consumer yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * attempt)));
    }
  }
  logger.info({ groupId: spec.groupId }, 'consumer running');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing the in-flight message');
    const hardStop = setTimeout(() => process.exit(1), 25_000);
    hardStop.unref();
    try {
      await consumer?.disconnect();
      await relay.stop();
      await producer.disconnect().catch(() => {});
      await new Promise<void>((r) => server.close(() => r()));
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
