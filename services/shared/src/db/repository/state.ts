/** One round of read-only queries behind the scrape-time gauges. */
import type { Queryable } from '../pool.js';
import { latestDriftReports, type DriftReport } from './drift.js';
import { lastMaintenanceRun } from './retention.js';

export interface StateSnapshot {
  datasets: number;
  detectors: { algorithm: string; status: 'trained' | 'untrained'; count: number }[];
  jobs: { type: string; state: string; count: number }[];
  oldestQueuedAgeSeconds: { type: string; seconds: number }[];
  outboxPending: number;
  /** Age of the oldest event not yet relayed to Kafka (0 when none). */
  outboxOldestPendingAgeSeconds: number;
  models: { detectorId: string; version: number; ageSeconds: number }[];
  lastTrainingSuccess: number | null;
  drift: DriftReport[];
  /** Unix time of the retention job's last complete run. */
  retentionLastSuccess: number | null;
}

export async function stateSnapshot(q: Queryable): Promise<StateSnapshot> {
  const [datasets, detectors, jobs, oldest, outbox, models, lastSuccess, drift, retention] = await Promise.all([
    q.query<{ n: number }>(`SELECT count(*)::int AS n FROM datasets`),
    q.query<{ algorithm: string; status: 'trained' | 'untrained'; count: number }>(
      `SELECT d.algorithm, CASE WHEN EXISTS (SELECT 1 FROM models m WHERE m.detector_id = d.id)
         THEN 'trained' ELSE 'untrained' END AS status, count(*)::int AS count
       FROM detectors d GROUP BY 1, 2`,
    ),
    q.query<{ type: string; state: string; count: number }>(
      `SELECT type, state, count(*)::int AS count FROM jobs GROUP BY 1, 2`,
    ),
    q.query<{ type: string; seconds: number }>(
      `SELECT type, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS seconds FROM jobs WHERE state = 'queued' GROUP BY 1`,
    ),
    q.query<{ n: number; age: number }>(
      `SELECT count(*)::int AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age
       FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL`,
    ),
    q.query<{ detectorId: string; version: number; ageSeconds: number }>(
      `SELECT DISTINCT ON (detector_id) detector_id AS "detectorId", version,
         EXTRACT(EPOCH FROM now() - created_at)::float8 AS "ageSeconds"
       FROM models ORDER BY detector_id, version DESC`,
    ),
    q.query<{ t: number | null }>(
      `SELECT EXTRACT(EPOCH FROM max(finished_at))::float8 AS t FROM jobs WHERE state = 'succeeded' AND type = 'training'`,
    ),
    latestDriftReports(q),
    lastMaintenanceRun(q, 'retention'),
  ]);
  return {
    datasets: datasets.rows[0]?.n ?? 0,
    detectors: detectors.rows,
    jobs: jobs.rows,
    oldestQueuedAgeSeconds: oldest.rows,
    outboxPending: outbox.rows[0]?.n ?? 0,
    outboxOldestPendingAgeSeconds: outbox.rows[0]?.age ?? 0,
    models: models.rows,
    lastTrainingSuccess: lastSuccess.rows[0]?.t ?? null,
    drift,
    retentionLastSuccess: retention,
  };
}
