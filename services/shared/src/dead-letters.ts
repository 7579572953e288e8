/**
 * Dead letters kept where an operator can act on them. The consumer's DLQ sender writes the
 * Kafka DLQ copy and then records the message in Postgres (dead_letters); replaying one enqueues
 * its original bytes in the outbox, for the topic it came from, inside the caller's trace.
 */
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';
import type { Pool, Queryable } from './db/pool.js';
import { withTransaction } from './db/pool.js';
import { enqueueOutbox } from './db/repository/outbox.js';
import { recordDeadLetter, resolveDeadLetter, getDeadLetter, type DeadLetter } from './db/repository/dead-letters.js';
import { injectTraceHeaders, type MessageSender, type OutgoingMessage } from './kafka/index.js';
import { instruments } from './metrics/instruments.js';
import type { Topics } from './events/index.js';

const DLQ_HEADER = /^dlq-/;
/** Trace headers of the original message: a replay carries the replaying request's instead. */
const TRACE_HEADERS = new Set(['traceparent', 'tracestate']);

function headerText(v: IHeaders[string] | string | Buffer): string | undefined {
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return undefined;
  return Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/**
 * Text Postgres can store: text and jsonb refuse NUL and lone surrogates, and a poison message
 * brings exactly those (its key, its headers, the parser's error quoting its bytes). The original
 * bytes stay intact in the bytea `value`.
 */
export function storableText(s: string): string {
  return s.replace(NOT_STORABLE, '\uFFFD');
}
// eslint-disable-next-line no-control-regex -- NUL is exactly what Postgres' text refuses
const NOT_STORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A DLQ copy (OutgoingMessage with dlq-* headers, see dlqHeaders) as a dead_letters row. */
export function deadLetterOf(m: OutgoingMessage) {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const text = headerText(v);
    if (text !== undefined) all[storableText(k)] = storableText(text);
  }
  const own = Object.fromEntries(Object.entries(all).filter(([k]) => !DLQ_HEADER.test(k)));
  return {
    id: randomUUID(),
    consumerGroup: all['dlq-consumer-group'] ?? 'unknown',
    originTopic: all['dlq-origin-topic'] ?? 'unknown',
    originPartition: Number(all['dlq-origin-partition'] ?? -1),
    originOffset: all['dlq-origin-offset'] ?? '-1',
    key: m.key === '' || m.key === null || m.key === undefined ? null : storableText(String(m.key)),
    value: Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value, 'utf8'),
    headers: own,
    reason: all['dlq-reason'] ?? 'unknown',
    error: all['dlq-error'] ?? '',
    attempts: Number(all['dlq-attempts'] ?? 0),
  };
}

/** Postgres' class 22 (data exception): this row can never be stored as it is, retrying won't help. */
const isDataException = (err: unknown) => /^22/.test(String((err as { code?: unknown }).code ?? ''));

/**
 * The consumers' DLQ sender: the Kafka copy first, then the Postgres record. Either failing
 * rejects, so the message is not committed and comes back; the record is keyed by the message's
 * position, so the second time it is recorded once. A record Postgres refuses for its content is
 * stored without its headers, key and error text (the bytes and the Kafka copy keep them): a
 * rejection there would bring the message back forever and stall its partition.
 */
export function recordingDlq(kafka: MessageSender, db: Queryable): MessageSender {
  return {
    async send(messages) {
      await kafka.send(messages);
      for (const m of messages) {
        const row = deadLetterOf(m);
        try {
          await recordDeadLetter(db, row);
        } catch (err) {
          if (!isDataException(err)) throw err;
          const code = String((err as { code?: unknown }).code);
          await recordDeadLetter(db, { ...row, key: null, headers: {}, error: `not storable as text (${code})` });
        }
      }
    },
  };
}

/**
 * The action counter's series exist from start-up at 0, for every topic a worker consumes (the
 * ones that can dead-letter): a rate over a counter that appears only at its first replay shows
 * nothing for that first one, and an API restart would hide the series until the next action.
 */
export function startDeadLetterActionSeries(topics: Topics): void {
  const consumed = [topics['training.requested'], topics['training.completed'], topics['detections.scored']];
  for (const action of ['replayed', 'discarded'] as const)
    for (const topic of consumed) instruments().deadLetterActions.add(0, { action, topic });
}

export type ReplayOutcome =
  | { outcome: 'replayed'; deadLetter: DeadLetter; eventId: string }
  | { outcome: 'not_found' }
  | { outcome: 'already_resolved'; deadLetter: DeadLetter }
  | { outcome: 'not_utf8'; deadLetter: DeadLetter };

/**
 * Puts a pending dead letter back on its topic, once: the row turns `replayed` and the original
 * bytes and key enter the outbox in one transaction, with the trace context of a `dead-letter
 * replay` span, so the relay's publish and the consumer's processing join the replaying trace.
 * The envelope (and its event id) is unchanged, so a consumer that already processed it skips it.
 */
export async function replayDeadLetter(pool: Pool, id: string, onEnqueued: () => void): Promise<ReplayOutcome> {
  return trace.getTracer('pynomaly').startActiveSpan('dead-letter replay', async (span) => {
    try {
      span.setAttribute('pynomaly.dead_letter_id', id);
      const result = await withTransaction(pool, async (client): Promise<ReplayOutcome> => {
        const current = await getDeadLetter(client, id);
        if (!current) return { outcome: 'not_found' };
        if (current.state !== 'pending') return { outcome: 'already_resolved', deadLetter: current };
        // The outbox holds text; a message that is not UTF-8 cannot go through it unchanged.
        const text = current.value.toString('utf8');
        if (!Buffer.from(text, 'utf8').equals(current.value)) return { outcome: 'not_utf8', deadLetter: current };
        const eventId = randomUUID();
        const resolved = await resolveDeadLetter(client, id, 'replayed', eventId);
        if (!resolved) {
          const now = (await getDeadLetter(client, id))!;
          return { outcome: 'already_resolved', deadLetter: now };
        }
        const own = Object.fromEntries(Object.entries(current.headers).filter(([k]) => !TRACE_HEADERS.has(k)));
        await enqueueOutbox(client, {
          eventId,
          topic: current.originTopic,
          key: current.key ?? '',
          value: text,
          headers: injectTraceHeaders({ ...own, 'replay-of-dead-letter': id }),
        });
        return { outcome: 'replayed', deadLetter: resolved, eventId };
      });
      span.setAttribute('pynomaly.replay.outcome', result.outcome);
      if (result.outcome === 'replayed') {
        span.setAttribute('messaging.destination.name', result.deadLetter.originTopic);
        instruments().deadLetterActions.add(1, { action: 'replayed', topic: result.deadLetter.originTopic });
        onEnqueued();
      }
      return result;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** pending → discarded (counted); undefined when unknown, the row as it is when already resolved. */
export async function discardDeadLetter(
  pool: Pool,
  id: string,
): Promise<{ outcome: 'discarded' | 'already_resolved'; deadLetter: DeadLetter } | { outcome: 'not_found' }> {
  const resolved = await resolveDeadLetter(pool, id, 'discarded');
  if (resolved) {
    instruments().deadLetterActions.add(1, { action: 'discarded', topic: resolved.originTopic });
    return { outcome: 'discarded', deadLetter: resolved };
  }
  const current = await getDeadLetter(pool, id);
  return current ? { outcome: 'already_resolved', deadLetter: current } : { outcome: 'not_found' };
}
