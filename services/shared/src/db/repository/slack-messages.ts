/** Messages Alertmanager's Slack receiver posted to the API's Slack-format sink. */
import type { Queryable } from '../pool.js';

export interface SlackMessage {
  id: string;
  receivedAt: Date;
  payload: Record<string, unknown>;
}

/** The sink keeps the newest this many messages; older ones are deleted as new ones arrive. */
export const SLACK_SINK_KEEP = 1000;

export async function insertSlackMessage(q: Queryable, id: string, payload: Record<string, unknown>): Promise<void> {
  await q.query(`INSERT INTO slack_messages (id, payload) VALUES ($1, $2)`, [id, JSON.stringify(payload)]);
  await q.query(
    `DELETE FROM slack_messages WHERE id IN (SELECT id FROM slack_messages ORDER BY received_at DESC OFFSET $1)`,
    [SLACK_SINK_KEEP],
  );
}

export async function listSlackMessages(q: Queryable, limit: number): Promise<SlackMessage[]> {
  const r = await q.query<SlackMessage>(
    `SELECT id, received_at AS "receivedAt", payload FROM slack_messages ORDER BY received_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return r.rows;
}
