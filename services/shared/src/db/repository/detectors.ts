/** Detectors: an algorithm and its parameters bound to a dataset. */
import type { Queryable } from '../pool.js';

export type Algorithm = 'isolation_forest' | 'robust_zscore';

export interface Detector {
  id: string;
  name: string;
  datasetId: string;
  algorithm: Algorithm;
  parameters: Record<string, unknown>;
  driftThresholds: Record<string, unknown>;
  createdAt: Date;
}

const detectorCols = `id, name, dataset_id AS "datasetId", algorithm, parameters,
  drift_thresholds AS "driftThresholds", created_at AS "createdAt"`;

export async function insertDetector(q: Queryable, d: Omit<Detector, 'createdAt'>): Promise<Detector> {
  const r = await q.query<Detector>(
    `INSERT INTO detectors (id, name, dataset_id, algorithm, parameters, drift_thresholds)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${detectorCols}`,
    [d.id, d.name, d.datasetId, d.algorithm, JSON.stringify(d.parameters), JSON.stringify(d.driftThresholds)],
  );
  return r.rows[0]!;
}

export async function getDetector(q: Queryable, id: string): Promise<Detector | undefined> {
  const r = await q.query<Detector>(`SELECT ${detectorCols} FROM detectors WHERE id = $1`, [id]);
  return r.rows[0];
}

/**
 * A detector and the id of its latest model, in one round trip: what scoring a request needs
 * before it can use a cached model body.
 */
export async function getDetectorWithLatestModelId(
  q: Queryable,
  id: string,
): Promise<{ detector: Detector; latestModelId: string | null } | undefined> {
  const r = await q.query<Detector & { latestModelId: string | null }>(
    `SELECT ${detectorCols}, (SELECT m.id FROM models m WHERE m.detector_id = detectors.id
       ORDER BY m.version DESC LIMIT 1) AS "latestModelId"
     FROM detectors WHERE id = $1`,
    [id],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const { latestModelId, ...detector } = row;
  return { detector, latestModelId };
}

export async function listDetectors(q: Queryable, limit = 100): Promise<Detector[]> {
  const r = await q.query<Detector>(`SELECT ${detectorCols} FROM detectors ORDER BY created_at DESC LIMIT $1`, [limit]);
  return r.rows;
}

export type DeleteDetectorResult =
  | { outcome: 'deleted'; models: number; jobs: number; driftReports: number }
  | { outcome: 'not_found' }
  | { outcome: 'jobs_in_flight'; jobIds: string[] };

/**
 * Deletes a detector with everything that exists only for it: its models, its jobs, its drift
 * window and reports. Refused while one of its jobs is queued or running (the training worker would
 * write a model for a detector that is gone). Run inside a transaction; the detector's row lock
 * serialises it with training and with a concurrent delete.
 */
export async function deleteDetector(q: Queryable, id: string): Promise<DeleteDetectorResult> {
  const found = await q.query(`SELECT 1 FROM detectors WHERE id = $1 FOR UPDATE`, [id]);
  if ((found.rowCount ?? 0) === 0) return { outcome: 'not_found' };
  const inFlight = await q.query<{ id: string }>(
    `SELECT id FROM jobs WHERE detector_id = $1 AND state IN ('queued', 'running') ORDER BY created_at`,
    [id],
  );
  if (inFlight.rows.length > 0) return { outcome: 'jobs_in_flight', jobIds: inFlight.rows.map((r) => r.id) };
  const models = await q.query<{ id: string }>(`SELECT id FROM models WHERE detector_id = $1`, [id]);
  await q.query(`DELETE FROM drift_window_rows WHERE detector_id = $1`, [id]);
  await q.query(`DELETE FROM drift_windows WHERE detector_id = $1`, [id]);
  const reports = await q.query(`DELETE FROM drift_reports WHERE detector_id = $1`, [id]);
  // jobs.model_id and models.job_id point at each other: cut one side first.
  await q.query(`UPDATE jobs SET model_id = NULL WHERE detector_id = $1 AND model_id IS NOT NULL`, [id]);
  await q.query(`DELETE FROM models WHERE detector_id = $1`, [id]);
  const jobs = await q.query(`DELETE FROM jobs WHERE detector_id = $1`, [id]);
  await q.query(`DELETE FROM detectors WHERE id = $1`, [id]);
  await q.query(
    `INSERT INTO deleted_resources (kind, id)
     SELECT 'detector', $1::uuid UNION ALL SELECT 'model', unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
    [id, models.rows.map((m) => m.id)],
  );
  return {
    outcome: 'deleted',
    models: models.rows.length,
    jobs: jobs.rowCount ?? 0,
    driftReports: reports.rowCount ?? 0,
  };
}

export async function detectorIdsOfDataset(q: Queryable, datasetId: string): Promise<string[]> {
  const r = await q.query<{ id: string }>(`SELECT id FROM detectors WHERE dataset_id = $1 ORDER BY created_at`, [
    datasetId,
  ]);
  return r.rows.map((row) => row.id);
}
