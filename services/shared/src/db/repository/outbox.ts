/** The transactional outbox: events written with the state change, relayed to Kafka later. */
import type { Queryable } from '../pool.js';

export interface OutboxMessage {
  eventId: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface OutboxRow extends OutboxMessage {
  id: number;
  attempts: number;
}

export async function enqueueOutbox(q: Queryable, m: OutboxMessage): Promise<void> {
  await q.query(`INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5)`, [
    m.eventId,
    m.topic,
    m.key,
    m.value,
    JSON.stringify(m.headers),
  ]);
}

/** enqueueOutbox for many messages in one statement, in the order given. */
export async function enqueueOutboxMany(q: Queryable, ms: OutboxMessage[]): Promise<void> {
  if (ms.length === 0) return;
  await q.query(
    `INSERT INTO outbox (event_id, topic, key, value, headers)
     SELECT e, t, k, v, h FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
       WITH ORDINALITY AS m(e, t, k, v, h, i) ORDER BY i`,
    [
      ms.map((m) => m.eventId),
      ms.map((m) => m.topic),
      ms.map((m) => m.key),
      ms.map((m) => m.value),
      ms.map((m) => JSON.stringify(m.headers)),
    ],
  );
}

/** Claims pending rows for this transaction; other relays skip them rather than wait. */
export async function claimOutbox(q: Queryable, limit: number): Promise<OutboxRow[]> {
  const r = await q.query<OutboxRow>(
    `SELECT id, event_id AS "eventId", topic, key, value, headers, attempts FROM outbox
     WHERE sent_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return r.rows;
}

export async function markOutboxSent(q: Queryable, ids: number[]): Promise<void> {
  await q.query(
    `UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])`,
    [ids],
  );
}

export async function markOutboxFailed(q: Queryable, ids: number[], error: string): Promise<void> {
  await q.query(`UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`, [
    ids,
    error.slice(0, 2000),
  ]);
}

/** Sets a row aside that Kafka will never accept, so it stops blocking the rows behind it. */
export async function markOutboxDead(q: Queryable, ids: number[], error: string): Promise<void> {
  await q.query(
    `UPDATE outbox SET dead_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
    [ids, error.slice(0, 2000)],
  );
}
