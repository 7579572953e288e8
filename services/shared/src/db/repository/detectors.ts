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

export async function listDetectors(q: Queryable, limit = 100): Promise<Detector[]> {
  const r = await q.query<Detector>(`SELECT ${detectorCols} FROM detectors ORDER BY created_at DESC LIMIT $1`, [limit]);
  return r.rows;
}
