/**
 * The common life cycle of the Kafka workers: Postgres (migrated), topics, a producer for the DLQ
 * and the outbox relay, a consumer group member, the /metrics endpoint, and a graceful SIGTERM
 * (stop consuming after the in-flight message is committed, flush the outbox, flush telemetry).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Consumer } from 'kafkajs';
import type { Config } from './config.js';
import { recordingDlq } from './dead-letters.js';
import { findCredential, presentedSecret, scrapeTokenCredentials } from './credentials.js';
import type { Logger } from './logging.js';
import type { Pool } from './db/pool.js';
import type { Topics } from './events/index.js';
import { startConsumer, type BatchOptions, type DeadLetterHook, type MessageHandler } from './kafka/index.js';
import {
  ensureServiceTopics,
  installGracefulShutdown,
  openServiceCore,
  retryUntilDone,
  type ShutdownStep,
} from './lifecycle.js';
import type { ScrapeMetrics } from './metrics/scrape.js';
import type { OutboxRelay } from './outbox/relay.js';
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
  /** Topics whose messages are handled in batches, and how (see BatchHandler). */
  batch?: (ctx: WorkerContext) => BatchOptions;
  /** Defines the worker's own state gauges on its scrape registry. */
  gauges: (scrape: ScrapeMetrics, ctx: WorkerContext) => void;
  /** Ends what a dead-lettered message stood for (see ProcessOptions.onDeadLetter). */
  onDeadLetter?: (ctx: WorkerContext) => DeadLetterHook;
  /**
   * Work of the worker's own besides the consumer (periodic tasks, in-flight computations); each
   * one's stop runs first at shutdown, before the consumer waits for its in-flight message.
   */
  tasks?: (ctx: WorkerContext) => ShutdownStep[];
}

/**
 * Serves /metrics (Prometheus text or OpenMetrics) and liveness/readiness for one worker. With
 * scrape tokens configured, /metrics answers only `Authorization: Bearer <token>` (401 otherwise);
 * the probes stay open, they reveal nothing.
 */
export function startMetricsServer(
  host: string,
  port: number,
  scrape: ScrapeMetrics,
  ready: () => boolean,
  logger: Logger,
  scrapeTokens: readonly string[] = [],
): Promise<Server> {
  const tokens = scrapeTokenCredentials(scrapeTokens);
  const authorised = (req: IncomingMessage) => {
    if (tokens.length === 0) return true;
    const presented = presentedSecret(req.headers);
    return presented !== undefined && findCredential(presented, tokens) !== undefined;
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/metrics') {
      if (!authorised(req)) {
        logger.warn({ auth: { key: 'unknown', scope: 'metrics:read', outcome: 'unauthenticated' } }, 'auth decision');
        res
          .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
          .end('metrics require Authorization: Bearer <scrape token>\n');
        return;
      }
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
    server.listen(port, host, () => {
      server.off('error', reject);
      // After listening, an 'error' (a failed accept, say) is logged, never thrown at the process.
      server.on('error', (err) => logger.error({ err }, 'metrics server error'));
      resolve(server);
    });
  });
}

export async function runWorker(config: Config, telemetry: Telemetry, spec: WorkerSpec): Promise<void> {
  const core = await openServiceCore(config);
  const { logger, pool, topics, producer, relay, scrape } = core;
  const ctx: WorkerContext = { config, logger, pool, topics, relay };
  spec.gauges(scrape, ctx);

  // Read by the readiness probe and the shutdown before the consumer exists.
  const running: { consumer?: Consumer | undefined } = {};
  const server = await startMetricsServer(
    config.metrics.host,
    config.metrics.port,
    scrape,
    () => running.consumer !== undefined,
    logger,
    config.scrapeTokens,
  );
  logger.info({ host: config.metrics.host, port: config.metrics.port }, 'metrics endpoint listening');
  relay.start();
  const tasks = spec.tasks?.(ctx) ?? [];

  const lifecycle = installGracefulShutdown({
    logger,
    telemetry,
    drainMessage: 'shutting down: finishing the in-flight message',
    steps: [
      ...tasks,
      { name: 'kafka consumer', run: () => running.consumer?.disconnect() },
      { name: 'outbox relay', run: () => relay.stop() },
      { name: 'kafka producer', run: () => producer.disconnect() },
      { name: 'metrics server', run: () => new Promise<void>((r) => server.close(() => r())) },
      { name: 'postgres pool', run: () => pool.end() },
    ],
  });

  // Kafka may come up after us, or go away for longer than kafkajs retries: keep trying rather
  // than crash-looping, and rather than living on as a process that consumes nothing.
  const handler = spec.handler(ctx);
  const onDeadLetter = spec.onDeadLetter?.(ctx);
  const batch = spec.batch?.(ctx);
  const start = async (): Promise<void> => {
    const consumer = await retryUntilDone(
      logger,
      'start the consumer',
      async () => {
        await ensureServiceTopics(core);
        return startConsumer({
          kafka: core.kafka,
          groupId: spec.groupId,
          topics: spec.subscribe(topics),
          handler,
          dlqTopic: topics.dlq,
          // The Kafka copy and the row an operator lists, inspects and replays (dead-letters.ts).
          dlq: recordingDlq(producer, pool),
          logger,
          ...(onDeadLetter ? { onDeadLetter } : {}),
          ...(batch ? { batch } : {}),
        });
      },
      { cancelled: lifecycle.stopping },
    );
    if (!consumer) return;
    running.consumer = consumer;
    logger.info({ groupId: spec.groupId }, 'consumer running');
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts the consumer itself after a retriable error; otherwise it stays stopped.
      if (payload.restart || lifecycle.stopping()) return;
      logger.error({ err: payload.error }, 'kafka consumer stopped for good; starting a new one');
      running.consumer = undefined;
      void consumer
        .disconnect()
        .catch(() => {})
        .then(start)
        .catch((err: unknown) => logger.error({ err }, 'could not restart the kafka consumer'));
    });
  };
  await start();
}
