/**
 * Bounded deletes of finished data for the retention job. Each function deletes at most `limit`
 * rows in one short statement and returns how many it deleted, so the caller loops until a batch
 * comes back short and no statement holds locks for long.
 */
import type { Queryable } from '../pool.js';

async function deleted(q: Queryable, sql: string, params: unknown[]): Promise<number> {
  const r = await q.query(sql, params);
  return r.rowCount ?? 0;
}

/** Outbox rows Kafka acknowledged before `before` (they hold whole event payloads). */
export function deleteSentOutbox(q: Queryable, before: Date, limit: number): Promise<number> {
  return deleted(
    q,
    `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at < $1 ORDER BY sent_at LIMIT $2)`,
    [before, limit],
  );
}

/** Outbox rows set aside as undeliverable before `before`. */
export function deleteDeadOutbox(q: Queryable, before: Date, limit: number): Promise<number> {
  return deleted(
    q,
    `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE dead_at < $1 ORDER BY dead_at LIMIT $2)`,
    [before, limit],
  );
}

/** Processed-event ids recorded before `before`: only safe once Kafka cannot redeliver them. */
export function deleteProcessedEvents(q: Queryable, before: Date, limit: number): Promise<number> {
  return deleted(
    q,
    `DELETE FROM processed_events WHERE (consumer_group, event_id) IN (
       SELECT consumer_group, event_id FROM processed_events WHERE processed_at < $1 ORDER BY processed_at LIMIT $2)`,
    [before, limit],
  );
}

/** Tombstones of deleted detectors and models (same horizon as processed-event ids). */
export function deleteTombstones(q: Queryable, before: Date, limit: number): Promise<number> {
  return deleted(
    q,
    `DELETE FROM deleted_resources WHERE (kind, id) IN (
       SELECT kind, id FROM deleted_resources WHERE deleted_at < $1 ORDER BY deleted_at LIMIT $2)`,
    [before, limit],
  );
}

/**
 * Window rows scored with a model their detector's window has moved past (or whose window is
 * gone). The drift worker never evaluates them: a window only moves forward to newer models and
 * drops older rows when it does, so deleting them loses no report. Age does not matter.
 */
export function deleteSupersededWindowRows(q: Queryable, limit: number): Promise<number> {
  return deleted(
    q,
    `DELETE FROM drift_window_rows WHERE seq IN (
       SELECT r.seq FROM drift_window_rows r LEFT JOIN drift_windows w ON w.detector_id = r.detector_id
       WHERE w.model_id IS DISTINCT FROM r.model_id LIMIT $1)`,
    [limit],
  );
}

/** Drift reports created before `before`, except each detector's latest (the drift gauges read it). */
export function deleteDriftReports(q: Queryable, before: Date, limit: number): Promise<number> {
  return deleted(
    q,
    `DELETE FROM drift_reports WHERE id IN (
       SELECT r.id FROM drift_reports r WHERE r.created_at < $1
         AND EXISTS (SELECT 1 FROM drift_reports n WHERE n.detector_id = r.detector_id
                     AND (n.created_at, n.window_index) > (r.created_at, r.window_index))
       ORDER BY r.created_at LIMIT $2)`,
    [before, limit],
  );
}

/** Alert notifications received before `before`. */
export function deleteAlerts(q: Queryable, before: Date, limit: number): Promise<number> {
  return deleted(
    q,
    `DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE received_at < $1 ORDER BY received_at LIMIT $2)`,
    [before, limit],
  );
}

/** Records a complete run of a maintenance job (read by the scrape gauge and its alert). */
export async function recordMaintenanceRun(q: Queryable, job: string, deletedRows: Record<string, number>) {
  await q.query(
    `INSERT INTO maintenance_runs (job, last_success_at, last_deleted) VALUES ($1, now(), $2)
     ON CONFLICT (job) DO UPDATE SET last_success_at = now(), last_deleted = EXCLUDED.last_deleted`,
    [job, JSON.stringify(deletedRows)],
  );
}

/** Unix time of a maintenance job's last complete run, if it has one. */
export async function lastMaintenanceRun(q: Queryable, job: string): Promise<number | null> {
  const r = await q.query<{ t: number }>(
    `SELECT EXTRACT(EPOCH FROM last_success_at)::float8 AS t FROM maintenance_runs WHERE job = $1`,
    [job],
  );
  return r.rows[0]?.t ?? null;
}
