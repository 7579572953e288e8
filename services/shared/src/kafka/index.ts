/**
 * Kafka client (kafkajs): a producer that stamps W3C trace context and event headers, a consumer
 * that commits only after its handler succeeded, retries with backoff and dead-letters what keeps
 * failing (with the reason and origin in headers, per docs/CONVENTIONS.md), and topic creation.
 */
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Consumer,
  type IHeaders,
  type KafkaConfig,
  type KafkaMessage,
  type SASLOptions,
  type Producer,
  type logCreator,
} from 'kafkajs';
import type { Logger } from '../logging.js';
import type { Envelope } from '../events/index.js';
import { instruments } from '../metrics/instruments.js';
import { extractTraceContext, headerString, injectTraceHeaders } from './trace.js';

export { extractTraceContext, injectTraceHeaders, headerString } from './trace.js';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** PEM texts; `enabled` with no CA uses the system trust store (managed Kafka). */
  tls?: { enabled: boolean; ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/** Per-topic settings a production cluster needs (replicas on other brokers, durable writes). */
export interface TopicSettings {
  numPartitions: number;
  replicationFactor: number;
  /** With acks=all (the idempotent producer), a write needs this many in-sync replicas. */
  minInsyncReplicas: number;
}

function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _t, ...extra } = log;
      const child = { component: 'kafkajs', namespace, ...extra };
      if (level === KafkaLogLevel.ERROR) logger.error(child, message);
      else if (level === KafkaLogLevel.WARN) logger.warn(child, message);
      else if (level === KafkaLogLevel.INFO) logger.debug(child, message);
    };
}

function tlsOptions(tls: KafkaSettings['tls']): KafkaConfig['ssl'] {
  if (!tls?.enabled) return undefined;
  if (!tls.ca && !tls.cert) return true;
  return {
    ...(tls.ca ? { ca: [tls.ca] } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
  };
}

function saslOptions(sasl: KafkaSettings['sasl']): SASLOptions | undefined {
  if (!sasl) return undefined;
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/**
 * A Kafka error no retry can fix: the broker refused our credentials or our TLS settings. Returns
 * a message naming the settings to check, or undefined for errors worth retrying (Kafka down).
 */
export function kafkaCredentialProblem(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
    const name = e.name;
    // kafkajs re-wraps errors keeping only the message, hence the message test too.
    if (name === 'KafkaJSSASLAuthenticationError' || /^SASL \S+( SHA\d+)? authentication failed/.test(e.message))
      return `Kafka refused the SASL credentials: check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM (${e.message})`;
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID)$/.test(
        code,
      )
    )
      return `Kafka's TLS certificate was not accepted: check KAFKA_TLS_CA_FILE and KAFKA_BROKERS (${code}: ${e.message})`;
    e = (e as { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

export function createKafka(s: KafkaSettings): Kafka {
  const ssl = tlsOptions(s.tls);
  const sasl = saslOptions(s.sasl);
  return new Kafka({
    clientId: s.clientId,
    brokers: s.brokers,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(s.logger),
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    connectionTimeout: 3000,
  });
}

/** Creates the topics that do not exist yet (idempotent; safe to race with other services). */
export async function ensureTopics(kafka: Kafka, topics: string[], settings: TopicSettings): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        topics: missing.map((topic) => ({
          topic,
          numPartitions: settings.numPartitions,
          replicationFactor: settings.replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(settings.minInsyncReplicas) }],
        })),
        waitForLeaders: true,
      });
    } catch (err) {
      // Another service may have created them between list and create.
      if (!/already exists/i.test(String((err as Error).message))) throw err;
    }
  } finally {
    await admin.disconnect();
  }
}

export interface OutgoingMessage {
  topic: string;
  key: string;
  value: string | Buffer;
  headers?: Record<string, string | Buffer>;
}

/** The minimal producer surface the rest of the code needs (fakeable in unit tests). */
export interface MessageSender {
  send(messages: OutgoingMessage[]): Promise<void>;
}

export function eventHeaders(event: Envelope): Record<string, string> {
  return injectTraceHeaders({ 'content-type': 'application/json', 'event-type': event.type });
}

export class EventProducer implements MessageSender {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * Sends in order, one produce request per run of messages to the same topic. Each message gets
   * its own producer span (`send <topic>`, as the messaging conventions name it): a child of the
   * trace context the message already carries (an outbox row written during a request, a DLQ
   * copy), else of the active context, and its context goes into the message's headers so the
   * consumer's span continues it. One produce request carries messages of many traces, so
   * tracing is suppressed around the client call: an instrumentation of kafkajs, were one
   * installed, would tie them all to the one active context.
   */
  async send(messages: OutgoingMessage[]): Promise<void> {
    let i = 0;
    while (i < messages.length) {
      const topic = messages[i]!.topic;
      let j = i + 1;
      while (j < messages.length && messages[j]!.topic === topic) j++;
      await this.sendTopic(topic, messages.slice(i, j));
      i = j;
    }
  }

  private async sendTopic(topic: string, batch: OutgoingMessage[]): Promise<void> {
    const tracer = trace.getTracer('pynomaly');
    const spans: Span[] = [];
    try {
      await this.connect();
      const records = batch.map((m) => {
        const parent = headerString(m.headers as IHeaders | undefined, 'traceparent')
          ? extractTraceContext(m.headers as IHeaders)
          : context.active();
        const span = tracer.startSpan(
          `send ${topic}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              'messaging.system': 'kafka',
              'messaging.destination.name': topic,
              'messaging.operation.name': 'send',
              'messaging.operation.type': 'send',
              'messaging.kafka.message.key': m.key,
            },
          },
          parent,
        );
        spans.push(span);
        const headers = injectTraceHeaders(
          { ...(m.headers ?? {}) } as Record<string, string>,
          trace.setSpan(parent, span),
        );
        return { key: m.key, value: m.value, headers };
      });
      await context.with(suppressTracing(context.active()), () =>
        this.producer.send({ topic, acks: -1, messages: records }),
      );
      instruments().messagesProduced.add(batch.length, { topic, outcome: 'sent' });
    } catch (err) {
      for (const span of spans) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      }
      instruments().messagesProduced.add(batch.length, { topic, outcome: 'failed' });
      throw err;
    } finally {
      for (const span of spans) span.end();
    }
  }

  /** Drops the connection so the next send reconnects (used after the broker was unreachable). */
  async reset(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect().catch(() => {});
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.connected = false;
  }
}

/** A failure that retrying cannot fix (bad input): goes to the DLQ at once. */
export class PermanentError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Failures of the infrastructure under the handler (Postgres restarting, a dropped connection) say
 * nothing about the message: the consumer waits them out instead of dead-lettering good data.
 */
export function isTransientInfrastructureError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
    return true;
  // SQLSTATE classes 08 (connection exception), 57P0x (operator intervention: shutdown, restart), 53 (resources).
  if (/^(08|53)...$/.test(code) || /^57P0[1-4]$/.test(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i.test(
    message,
  );
}

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 250, maxBackoffMs: 4000 };
/** Longest wait between attempts while the infrastructure is down. */
const MAX_INFRA_BACKOFF_MS = 5000;

export interface ProcessOptions {
  groupId: string;
  dlqTopic: string;
  dlq: MessageSender;
  logger: Logger;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  /** Called between attempts so a long retry does not cost the group membership. */
  heartbeat?: () => Promise<void>;
  /**
   * Called once a message is in the DLQ, before its offset is committed, so the state the message
   * stood for (a job) can be ended where the dead-letter decision is made. A failure is logged, not
   * retried: the DLQ copy exists, and the training worker's reaper ends a job left running.
   */
  onDeadLetter?: DeadLetterHook;
}

export type DeadLetterHook = (msg: ConsumedMessage, reason: string, error: string) => Promise<void>;

export interface HandlerContext {
  /** Keeps the group membership during long work (kafkajs heartbeats only between messages). */
  heartbeat: () => Promise<void>;
}

export type MessageHandler = (msg: ConsumedMessage, ctx: HandlerContext) => Promise<void>;

const noHeartbeat = async () => {};

export type ProcessOutcome =
  { outcome: 'processed'; attempts: number } | { outcome: 'dead_lettered'; attempts: number; reason: string };

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function dlqHeaders(
  msg: ConsumedMessage,
  groupId: string,
  reason: string,
  error: string,
  attempts: number,
): IHeaders {
  return {
    ...msg.headers,
    'dlq-reason': reason,
    'dlq-error': error.slice(0, 2000),
    'dlq-origin-topic': msg.topic,
    'dlq-origin-partition': String(msg.partition),
    'dlq-origin-offset': msg.offset,
    'dlq-consumer-group': groupId,
    'dlq-attempts': String(attempts),
  };
}

/** The semantic-convention attributes of a message's `process` span, alone or in a batch. */
function processSpanAttributes(msg: ConsumedMessage, groupId: string): Attributes {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': msg.topic,
    'messaging.consumer.group.name': groupId,
    'messaging.destination.partition.id': String(msg.partition),
    'messaging.kafka.offset': Number(msg.offset),
    ...(msg.key ? { 'messaging.kafka.message.key': msg.key } : {}),
  };
}

/**
 * Runs the handler for one message inside a CONSUMER span parented on the producer's context,
 * retrying transient failures with exponential backoff; a permanent failure or the last failed
 * attempt sends the original bytes and headers to the DLQ. Resolves once the message may be
 * committed; rejects only if the DLQ itself cannot be written (then the message is redelivered).
 */
export async function processMessage(
  msg: ConsumedMessage,
  handler: MessageHandler,
  o: ProcessOptions,
): Promise<ProcessOutcome> {
  const policy = o.retry ?? DEFAULT_RETRY;
  const sleep = o.sleep ?? sleepMs;
  const remote = extractTraceContext(msg.headers);
  const remoteSpan = trace.getSpanContext(remote);
  const links: Link[] = remoteSpan ? [{ context: remoteSpan }] : [];
  const tracer = trace.getTracer('pynomaly');
  const started = performance.now();
  const labels = { topic: msg.topic, consumer_group: o.groupId };

  return tracer.startActiveSpan(
    `${msg.topic} process`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: processSpanAttributes(msg, o.groupId),
    },
    remote,
    async (span) => {
      let attempts = 0;
      let infraWaits = 0;
      let lastError: Error | undefined;
      let reason = 'processing_failed';
      try {
        while (attempts < policy.maxAttempts) {
          attempts += 1;
          try {
            await handler(msg, { heartbeat: o.heartbeat ?? noHeartbeat });
            instruments().messagesConsumed.add(1, { ...labels, outcome: 'processed' });
            return { outcome: 'processed', attempts } as const;
          } catch (err) {
            lastError = err as Error;
            if (err instanceof PermanentError) {
              reason = err.reason;
              break;
            }
            if (isTransientInfrastructureError(err)) {
              // Not the message's fault: do not spend its attempts; wait and try again.
              infraWaits += 1;
              attempts -= 1;
              o.logger.warn(
                { err, topic: msg.topic, offset: msg.offset, infraWaits },
                'infrastructure unavailable; retrying',
              );
              await sleep(Math.min(MAX_INFRA_BACKOFF_MS, policy.initialBackoffMs * 2 ** Math.min(infraWaits, 8)));
              await o.heartbeat?.();
              continue;
            }
            o.logger.warn({ err, topic: msg.topic, offset: msg.offset, attempt: attempts }, 'message handler failed');
            if (attempts < policy.maxAttempts) {
              await sleep(Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempts - 1)));
              await o.heartbeat?.();
            }
          }
        }
        const error = lastError?.message ?? 'unknown error';
        span.recordException(lastError ?? new Error(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${reason}: ${error}` });
        await o.dlq.send([
          {
            topic: o.dlqTopic,
            key: msg.key ?? '',
            value: msg.value ?? Buffer.alloc(0),
            headers: dlqHeaders(msg, o.groupId, reason, error, attempts) as Record<string, string | Buffer>,
          },
        ]);
        instruments().messagesDeadLettered.add(1, { topic: msg.topic, reason });
        instruments().messagesConsumed.add(1, { ...labels, outcome: 'dead_lettered' });
        o.logger.error({ topic: msg.topic, offset: msg.offset, reason, error, attempts }, 'message sent to the DLQ');
        if (o.onDeadLetter) {
          await o
            .onDeadLetter(msg, reason, error)
            .catch((err: unknown) =>
              o.logger.error({ err, topic: msg.topic, offset: msg.offset }, 'dead-letter hook failed'),
            );
        }
        return { outcome: 'dead_lettered', attempts, reason } as const;
      } finally {
        instruments().messageProcessingDuration.record((performance.now() - started) / 1000, labels);
        span.end();
      }
    },
  );
}

/** A message of a batch with the context of its own CONSUMER span (parented on its producer). */
export interface BatchItem {
  msg: ConsumedMessage;
  /** Active context for work done on behalf of this message (logs and spans join its trace). */
  context: Context;
}

/**
 * Handles consecutive messages of one partition together, all or nothing (one transaction). If it
 * throws, nothing of it may have taken effect: the messages are then handled one by one by the
 * per-message handler, with its retries and dead-lettering, so a bad message costs its batch only
 * the speed-up.
 */
export type BatchHandler = (items: BatchItem[], ctx: HandlerContext) => Promise<void>;

export interface BatchOptions {
  handler: BatchHandler;
  /** Topics handled in batches; messages of other topics go through the per-message handler. */
  topics: ReadonlySet<string>;
  /** The most messages one batch call gets (bounds the transaction and the memory it holds). */
  maxMessages: number;
}

/**
 * Runs a batch handler over consecutive messages of one partition. Every message gets its own
 * CONSUMER span parented on its producer's context, as processMessage gives it, so each trace
 * still shows its message consumed; a batch that fails falls back to processMessage per message.
 */
export async function processBatch(
  msgs: ConsumedMessage[],
  batch: BatchOptions,
  handler: MessageHandler,
  o: ProcessOptions,
): Promise<'batched' | 'one_by_one'> {
  if (msgs.length === 0) return 'batched';
  const tracer = trace.getTracer('pynomaly');
  const started = performance.now();
  const items = msgs.map((msg) => {
    const remote = extractTraceContext(msg.headers);
    const remoteSpan = trace.getSpanContext(remote);
    const span = tracer.startSpan(
      `${msg.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        ...(remoteSpan ? { links: [{ context: remoteSpan }] } : {}),
        attributes: { ...processSpanAttributes(msg, o.groupId), 'messaging.batch.message_count': msgs.length },
      },
      remote,
    );
    return { msg, span, context: trace.setSpan(remote, span) };
  });
  try {
    await batch.handler(items, { heartbeat: o.heartbeat ?? noHeartbeat });
  } catch (err) {
    for (const it of items) {
      it.span.addEvent('batch failed; handled one by one');
      it.span.end();
    }
    o.logger.warn(
      { err, topic: msgs[0]!.topic, partition: msgs[0]!.partition, offset: msgs[0]!.offset, messages: msgs.length },
      'batch failed; handling its messages one by one',
    );
    for (const msg of msgs) await processMessage(msg, handler, o);
    return 'one_by_one';
  }
  const seconds = (performance.now() - started) / 1000;
  const labels = { topic: msgs[0]!.topic, consumer_group: o.groupId };
  instruments().messagesConsumed.add(msgs.length, { ...labels, outcome: 'processed' });
  // Each message of the batch took the batch's time from fetch to commit.
  for (const it of items) {
    instruments().messageProcessingDuration.record(seconds, labels);
    it.span.end();
  }
  return 'batched';
}

export interface ConsumerSettings extends Omit<ProcessOptions, 'heartbeat'> {
  kafka: Kafka;
  topics: string[];
  handler: MessageHandler;
  /** Handle these topics' messages in batches (see BatchHandler); the rest one by one. */
  batch?: BatchOptions;
  partitionsConsumedConcurrently?: number;
}

export function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value,
    headers: m.headers ?? {},
  };
}

/**
 * Starts a consumer group member; offsets are committed after the work they cover was handled:
 * per message, or per batch of consecutive messages of one partition when `batch` is given.
 */
export async function startConsumer(s: ConsumerSettings): Promise<Consumer> {
  const consumer = s.kafka.consumer({ groupId: s.groupId, sessionTimeout: 30_000, heartbeatInterval: 3000 });
  await consumer.connect();
  await consumer.subscribe({ topics: s.topics, fromBeginning: true });
  const partitionsConsumedConcurrently = s.partitionsConsumedConcurrently ?? 3;
  const batching = s.batch;
  if (!batching) {
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        await processMessage(toConsumed(topic, partition, message), s.handler, { ...s, heartbeat });
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    return consumer;
  }
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const { topic, partition } = batch;
      const o = { ...s, heartbeat };
      const step = batching.topics.has(topic) ? batching.maxMessages : 1;
      for (let i = 0; i < batch.messages.length; i += step) {
        // Stopping or rebalanced away: what is not committed is redelivered to the next owner.
        if (!isRunning() || isStale()) break;
        const chunk = batch.messages.slice(i, i + step).map((m) => toConsumed(topic, partition, m));
        if (step === 1) await processMessage(chunk[0]!, s.handler, o);
        else await processBatch(chunk, batching, s.handler, o);
        const last = chunk[chunk.length - 1]!.offset;
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
        resolveOffset(last);
        await heartbeat();
      }
    },
  });
  return consumer;
}
