/**
 * What was deleted, kept for as long as Kafka may still deliver events about it: a consumer that
 * meets an event for a deleted detector or model drops it instead of dead-lettering it.
 */
import type { Queryable } from '../pool.js';

export type DeletedKind = 'detector' | 'model';

export async function recordDeleted(q: Queryable, kind: DeletedKind, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(`INSERT INTO deleted_resources (kind, id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`, [
    kind,
    ids,
  ]);
}

/** True when the detector, or the model (when given), was deleted. */
export async function wasDeleted(q: Queryable, detectorId: string, modelId?: string): Promise<boolean> {
  const r = await q.query(
    `SELECT 1 FROM deleted_resources WHERE (kind = 'detector' AND id = $1) OR (kind = 'model' AND id = $2) LIMIT 1`,
    [detectorId, modelId ?? null],
  );
  return (r.rowCount ?? 0) > 0;
}
