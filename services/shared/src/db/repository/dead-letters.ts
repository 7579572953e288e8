/**
 * Dead letters as an operator sees them: each message a consumer gave up on, recorded when its
 * DLQ copy is written (see recordingDlq), then listed, inspected, and replayed (through the
 * outbox, to the topic it came from) or discarded. pending → replayed | discarded, once.
 */
import type { Queryable } from '../pool.js';
import type { ListCursor } from './jobs.js';

export type DeadLetterState = 'pending' | 'replayed' | 'discarded';
export const DEAD_LETTER_STATES: readonly DeadLetterState[] = ['pending', 'replayed', 'discarded'];

export interface NewDeadLetter {
  id: string;
  consumerGroup: string;
  originTopic: string;
  originPartition: number;
  originOffset: string;
  key: string | null;
  value: Buffer;
  /** The message's own headers (trace context, event type), without the dlq-* ones. */
  headers: Record<string, string>;
  reason: string;
  error: string;
  attempts: number;
}

export interface DeadLetter extends Omit<NewDeadLetter, 'originOffset'> {
  originOffset: number;
  state: DeadLetterState;
  deadLetteredAt: Date;
  resolvedAt: Date | null;
  replayEventId: string | null;
}

const cols = `id, consumer_group AS "consumerGroup", origin_topic AS "originTopic",
  origin_partition AS "originPartition", origin_offset AS "originOffset", message_key AS "key", value, headers,
  reason, error, attempts, state, dead_lettered_at AS "deadLetteredAt", resolved_at AS "resolvedAt",
  replay_event_id AS "replayEventId"`;

/** Records a dead letter; false when this message (group, topic, partition, offset) already was. */
export async function recordDeadLetter(q: Queryable, d: NewDeadLetter): Promise<boolean> {
  const r = await q.query(
    `INSERT INTO dead_letters (id, consumer_group, origin_topic, origin_partition, origin_offset, message_key, value,
       headers, reason, error, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (consumer_group, origin_topic, origin_partition, origin_offset) DO NOTHING`,
    [
      d.id,
      d.consumerGroup,
      d.originTopic,
      d.originPartition,
      d.originOffset,
      d.key,
      d.value,
      JSON.stringify(d.headers),
      d.reason,
      d.error.slice(0, 2000),
      d.attempts,
    ],
  );
  return (r.rowCount ?? 0) === 1;
}

export async function getDeadLetter(q: Queryable, id: string): Promise<DeadLetter | undefined> {
  const r = await q.query<DeadLetter>(`SELECT ${cols} FROM dead_letters WHERE id = $1`, [id]);
  return r.rows[0];
}

export interface DeadLetterFilter {
  state?: DeadLetterState | undefined;
  topic?: string | undefined;
  consumerGroup?: string | undefined;
  reason?: string | undefined;
  after?: ListCursor | undefined;
  limit: number;
}

/** Dead letters newest first, one keyset page at a time (see listJobs). */
export async function listDeadLetters(
  q: Queryable,
  f: DeadLetterFilter,
): Promise<{ items: DeadLetter[]; next: ListCursor | undefined }> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.state) where.push(`state = ${arg(f.state)}`);
  if (f.topic) where.push(`origin_topic = ${arg(f.topic)}`);
  if (f.consumerGroup) where.push(`consumer_group = ${arg(f.consumerGroup)}`);
  if (f.reason) where.push(`reason = ${arg(f.reason)}`);
  if (f.after)
    where.push(`(dead_lettered_at, id) < (${arg(f.after.createdAt)}::timestamptz, ${arg(f.after.id)}::uuid)`);
  const r = await q.query<DeadLetter & { cursorAt: string }>(
    `SELECT ${cols}, to_char(dead_lettered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt"
     FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY dead_lettered_at DESC, id DESC LIMIT ${arg(f.limit + 1)}`,
    args,
  );
  const more = r.rows.length > f.limit;
  const rows = r.rows.slice(0, f.limit);
  const last = rows.at(-1);
  return {
    items: rows.map(({ cursorAt: _c, ...d }) => d),
    next: more && last ? { createdAt: last.cursorAt, id: last.id } : undefined,
  };
}

/**
 * pending → replayed|discarded. Locks the row for the caller's transaction (the replay enqueues
 * its outbox row in the same one); undefined when it does not exist or was already resolved.
 */
export async function resolveDeadLetter(
  q: Queryable,
  id: string,
  state: Exclude<DeadLetterState, 'pending'>,
  replayEventId: string | null = null,
): Promise<DeadLetter | undefined> {
  const r = await q.query<DeadLetter>(
    `UPDATE dead_letters SET state = $2, resolved_at = now(), replay_event_id = $3
     WHERE id = $1 AND state = 'pending' RETURNING ${cols}`,
    [id, state, replayEventId],
  );
  return r.rows[0];
}

/** Dead letters an operator replayed or discarded before `before` (pending ones wait for an operator). */
export async function deleteResolvedDeadLetters(q: Queryable, before: Date, limit: number): Promise<number> {
  const r = await q.query(
    `DELETE FROM dead_letters WHERE id IN (
       SELECT id FROM dead_letters WHERE resolved_at < $1 ORDER BY resolved_at LIMIT $2)`,
    [before, limit],
  );
  return r.rowCount ?? 0;
}
