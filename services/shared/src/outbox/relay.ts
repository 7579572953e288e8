/**
 * Transactional outbox relay. State changes and the events announcing them are written in one
 * Postgres transaction (enqueueOutbox); this loop publishes pending rows to Kafka and marks them
 * sent. While Kafka is down the rows stay pending and the loop keeps retrying with backoff, so an
 * accepted request's event is delivered once the broker is back. Delivery is at-least-once (a
 * crash between send and mark re-sends); consumers are idempotent by event id / job state.
 */
import type pg from 'pg';
import type { Logger } from '../logging.js';
import { instruments } from '../metrics/instruments.js';
import {
  claimOutbox,
  enqueueOutbox,
  markOutboxDead,
  markOutboxFailed,
  markOutboxSent,
  type OutboxMessage,
  type OutboxRow,
} from '../db/repository.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import type { Envelope } from '../events/index.js';
import { eventHeaders, type MessageSender, type OutgoingMessage } from '../kafka/index.js';

export interface RelayOptions {
  pool: pg.Pool;
  sender: MessageSender & { reset?: () => Promise<void> };
  logger: Logger;
  batchSize?: number;
  idleIntervalMs?: number;
  maxBackoffMs?: number;
  /**
   * How long a pass woken by a commit waits for more commits before it claims (default 10 ms),
   * as a Kafka producer's linger.ms does: under load one pass (four statements and one produce
   * request) then carries the events of several requests instead of one each.
   */
  lingerMs?: number;
}

/** Writes an event to the outbox inside the caller's transaction (trace context captured now). */
/** The outbox row of an event; its headers carry the active trace context. */
export function outboxMessage(topic: string, event: Envelope): OutboxMessage {
  return {
    eventId: event.id,
    topic,
    key: event.detectorId,
    value: JSON.stringify(event),
    headers: eventHeaders(event),
  };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

function toMessage(r: OutboxRow): OutgoingMessage {
  return { topic: r.topic, key: r.key, value: r.value, headers: r.headers };
}

export async function enqueueEvent(q: Queryable, topic: string, event: Envelope): Promise<void> {
  await enqueueOutbox(q, outboxMessage(topic, event));
}

/**
 * kafkajs marks broker errors that retrying cannot fix (MESSAGE_TOO_LARGE, INVALID_RECORD…) as
 * non-retriable protocol errors, possibly wrapped by the producer's retrier. A lost connection is
 * never one of them, so a broker outage keeps rows pending.
 */
export function isPermanentKafkaError(err: unknown): boolean {
  for (
    let e = err as { name?: string; retriable?: boolean; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (e.name === 'KafkaJSProtocolError' && e.retriable === false) return true;
    e = e.cause as typeof e;
  }
  return false;
}

export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failures = 0;
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly maxBackoffMs: number;
  private readonly lingerMs: number;

  constructor(private readonly o: RelayOptions) {
    this.batchSize = o.batchSize ?? 100;
    this.idleMs = o.idleIntervalMs ?? 500;
    this.maxBackoffMs = o.maxBackoffMs ?? 5000;
    this.lingerMs = o.lingerMs ?? 10;
  }

  /**
   * Publishes up to one batch in id order and returns how many rows were sent. The batch goes out
   * in one send (one produce request per topic); if that fails, row by row, to tell a row Kafka
   * refuses for good (a non-retriable broker error such as "message too large", set aside as
   * dead) from a transient failure (recorded on its row; it ends the batch, so order is kept and
   * the caller retries later). A row the failed batch send had already written is written again
   * (delivery is at-least-once). Outcomes are committed before a failure is rethrown.
   */
  async relayOnce(): Promise<number> {
    const outcome = await withTransaction(this.o.pool, async (client) => {
      const rows = await claimOutbox(client, this.batchSize);
      if (rows.length === 0) return { sent: 0 };
      try {
        await this.o.sender.send(rows.map(toMessage));
        await markOutboxSent(
          client,
          rows.map((r) => r.id),
        );
        for (const [topic, n] of countBy(rows, (r) => r.topic))
          instruments().outboxRelayed.add(n, { topic, outcome: 'sent' });
        return { sent: rows.length };
      } catch {
        return this.rowByRow(client, rows);
      }
    });
    if (outcome.error) throw outcome.error;
    return outcome.sent;
  }

  private async rowByRow(client: Queryable, rows: OutboxRow[]): Promise<{ sent: number; error?: Error }> {
    // Rows Kafka took are marked in one statement when the batch ends (same transaction, so the
    // same at-least-once guarantee as marking each row as it goes, one round trip instead of n).
    const sentIds: number[] = [];
    const markSent = async () => {
      if (sentIds.length > 0) await markOutboxSent(client, sentIds);
    };
    for (const r of rows) {
      try {
        await this.o.sender.send([toMessage(r)]);
      } catch (err) {
        instruments().outboxRelayed.add(1, { topic: r.topic, outcome: 'failed' });
        if (isPermanentKafkaError(err)) {
          await markOutboxDead(client, [r.id], (err as Error).message);
          this.o.logger.error(
            { err, eventId: r.eventId, topic: r.topic },
            'Kafka refused an outbox event for good; set aside',
          );
          continue;
        }
        await markSent();
        await markOutboxFailed(client, [r.id], (err as Error).message);
        return { sent: sentIds.length, error: err as Error };
      }
      sentIds.push(r.id);
      instruments().outboxRelayed.add(1, { topic: r.topic, outcome: 'sent' });
    }
    await markSent();
    return { sent: sentIds.length };
  }

  /** Wakes the loop now (called after a commit that enqueued events). */
  notify(): void {
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delay = this.idleMs;
      try {
        const sent = await this.relayOnce();
        if (this.failures > 0) this.o.logger.info({ sent }, 'outbox relay recovered');
        this.failures = 0;
        if (sent === this.batchSize) delay = 0;
      } catch (err) {
        this.failures += 1;
        delay = Math.min(this.maxBackoffMs, this.idleMs * 2 ** Math.min(this.failures, 10));
        this.o.logger.warn(
          { err, failures: this.failures, retryInMs: delay },
          'outbox relay failed; events stay pending',
        );
        await this.o.sender.reset?.();
      }
      if (delay > 0 && this.running) {
        const woken = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), delay);
          this.wake = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        this.wake = undefined;
        if (woken && this.running && this.lingerMs > 0) await new Promise((r) => setTimeout(r, this.lingerMs));
      }
    }
  }

  /** Stops after the current batch, then makes one last attempt to flush what is pending. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.relayOnce().catch((err: unknown) =>
      this.o.logger.warn({ err }, 'final outbox flush failed; rows stay pending'),
    );
  }
}
