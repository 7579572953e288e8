/**
 * One service life cycle for the API and both workers: the dependencies every service opens
 * (logger, migrated pool, Kafka, producer, outbox relay), retries while a dependency is not there
 * yet, and an ordered shutdown in which every step runs and is logged even when an earlier one
 * fails, telemetry is flushed last, and a hard deadline ends a shutdown that hangs.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from './config.js';
import { createPool, migrate, type Pool } from './db/pool.js';
import { topicNames, type Topics } from './events/index.js';
import { createKafka, ensureTopics, EventProducer, kafkaCredentialProblem } from './kafka/index.js';
import { createLogger, type Logger } from './logging.js';
import { ScrapeMetrics } from './metrics/scrape.js';
import { OutboxRelay } from './outbox/relay.js';
import type { Telemetry } from './telemetry.js';

export interface ServiceCore {
  config: Config;
  logger: Logger;
  pool: Pool;
  topics: Topics;
  kafka: Kafka;
  producer: EventProducer;
  relay: OutboxRelay;
  /** The service's scrape registry; a gauge that cannot be collected is logged and left out. */
  scrape: ScrapeMetrics;
}

/** Opens what every service needs; Postgres must be reachable (migrations run here), Kafka need not be. */
export async function openServiceCore(config: Config): Promise<ServiceCore> {
  const clientId = `pynomaly-${config.service}`;
  const logger = createLogger({
    service: config.service,
    level: config.log.level,
    dir: config.log.dir,
    version: config.version,
    environment: config.environment,
  });
  const pool = createPool(config.database.url, config.database.poolMax, clientId, (err) =>
    // The query in flight (if any) fails with this error and is handled there; this is the event.
    logger.warn({ err }, 'postgres connection lost; the pool opens a new one on demand'),
  );
  await migrate(pool, logger);
  const topics = topicNames(config.kafka.topicPrefix);
  const kafka = createKafka({
    brokers: config.kafka.brokers,
    clientId,
    logger,
    tls: config.kafka.tls,
    ...(config.kafka.sasl ? { sasl: config.kafka.sasl } : {}),
  });
  await refuseBadKafkaCredentials(kafka, logger);
  const producer = new EventProducer(kafka);
  const relay = new OutboxRelay({ pool, sender: producer, logger });
  const scrape = new ScrapeMetrics({
    emitter: config.service,
    version: config.version,
    environment: config.environment,
    onCollectError: (metric, err) => logger.warn({ err, metric }, 'scrape gauge not collected'),
  });
  return { config, logger, pool, topics, kafka, producer, relay, scrape };
}

/** Creates the topics (idempotent) with the configured partitions and replication. */
export function ensureServiceTopics(core: ServiceCore): Promise<void> {
  const k = core.config.kafka;
  return ensureTopics(core.kafka, Object.values(core.topics), {
    numPartitions: k.partitions,
    replicationFactor: k.replicationFactor,
    minInsyncReplicas: k.minInsyncReplicas,
  });
}

/**
 * Wrong credentials are a configuration error, not an outage: stop with a message naming the
 * settings (exit 78, like a bad variable) instead of retrying forever. Kafka being unreachable is
 * not decided here; the services wait for it.
 */
function exitOnCredentialProblem(logger: Logger, err: unknown): void {
  const problem = kafkaCredentialProblem(err);
  if (!problem) return;
  logger.fatal({ err }, problem);
  logger.flush();
  process.stderr.write(`${problem}\n`);
  process.exit(78);
}

/** One connection attempt at start-up, so bad credentials stop the process before it serves. */
async function refuseBadKafkaCredentials(kafka: Kafka, logger: Logger): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
  } catch (err) {
    exitOnCredentialProblem(logger, err);
    logger.warn({ err }, 'Kafka not reachable at start-up; continuing and retrying in the background');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface RetryOptions {
  /** Upper bound of the linear back-off between attempts. */
  maxDelayMs?: number;
  /** Stops retrying (resolves undefined) once this returns true, e.g. when shutting down. */
  cancelled?: () => boolean;
}

/**
 * Runs `attempt` until it succeeds, backing off linearly up to `maxDelayMs`: a dependency that
 * comes up after us is waited for rather than crash-looped on.
 */
export async function retryUntilDone<T>(
  logger: Logger,
  what: string,
  attempt: () => Promise<T>,
  opts: RetryOptions = {},
): Promise<T | undefined> {
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  for (let n = 1; ; n++) {
    if (opts.cancelled?.()) return undefined;
    try {
      return await attempt();
    } catch (err) {
      exitOnCredentialProblem(logger, err);
      logger.warn({ err, attempt: n }, `could not ${what} yet; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(maxDelayMs, 1000 * n)));
    }
  }
}

export interface ShutdownStep {
  name: string;
  run: () => unknown;
}

export interface GracefulShutdownOptions {
  logger: Logger;
  telemetry: Pick<Telemetry, 'shutdown'>;
  /** Run in order; each one runs even when an earlier one failed. */
  steps: ShutdownStep[];
  /** After this the process exits with 1 whatever is still pending. */
  deadlineMs?: number;
  /** What the in-flight work is told at the first signal (logged). */
  drainMessage?: string;
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

export interface GracefulShutdown {
  /** Runs the shutdown once; later calls return the same promise. */
  shutdown: (reason: string) => Promise<void>;
  stopping: () => boolean;
}

export function installGracefulShutdown(opts: GracefulShutdownOptions): GracefulShutdown {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const deadlineMs = opts.deadlineMs ?? 25_000;
  let running: Promise<void> | undefined;

  const run = async (reason: string): Promise<void> => {
    const { logger } = opts;
    logger.info({ reason }, opts.drainMessage ?? 'shutting down');
    const hardStop = setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown deadline passed; exiting');
      logger.flush();
      exit(1);
    }, deadlineMs);
    hardStop.unref();
    let failed = 0;
    for (const step of opts.steps) {
      const started = Date.now();
      try {
        await step.run();
        logger.info({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
      } catch (err) {
        failed++;
        logger.error({ err, step: step.name, ms: Date.now() - started }, 'shutdown step failed; continuing');
      }
    }
    // Last, so the spans and log lines of the steps above are exported too.
    try {
      await opts.telemetry.shutdown();
    } catch (err) {
      failed++;
      logger.error({ err }, 'telemetry flush failed');
    }
    clearTimeout(hardStop);
    logger.info({ failedSteps: failed }, 'shutdown complete');
    logger.flush();
    exit(failed === 0 ? 0 : 1);
  };

  const shutdown = (reason: string) => (running ??= run(reason));
  for (const signal of opts.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => void shutdown(signal));
  return { shutdown, stopping: () => running !== undefined };
}
