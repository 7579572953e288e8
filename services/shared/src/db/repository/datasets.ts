/** Datasets: named numeric tables stored as little-endian float64 bytes. */
import type { Matrix } from '@pynomaly/algorithms';
import type { Queryable } from '../pool.js';
import { deleteDetector, detectorIdsOfDataset } from './detectors.js';
import { bytesToMatrix, matrixToBytes } from './matrix-bytes.js';

export interface DatasetMeta {
  id: string;
  name: string;
  featureNames: string[];
  rowCount: number;
  sourceFormat: 'json' | 'csv';
  createdAt: Date;
}

const datasetMetaCols = `id, name, feature_names AS "featureNames", row_count AS "rowCount",
  source_format AS "sourceFormat", created_at AS "createdAt"`;

export async function insertDataset(
  q: Queryable,
  d: { id: string; name: string; featureNames: string[]; matrix: Matrix; sourceFormat: 'json' | 'csv' },
): Promise<DatasetMeta> {
  const r = await q.query<DatasetMeta>(
    `INSERT INTO datasets (id, name, feature_names, row_count, data, source_format)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${datasetMetaCols}`,
    [d.id, d.name, d.featureNames, d.matrix.rows, matrixToBytes(d.matrix), d.sourceFormat],
  );
  return r.rows[0]!;
}

export async function getDatasetMeta(q: Queryable, id: string): Promise<DatasetMeta | undefined> {
  const r = await q.query<DatasetMeta>(`SELECT ${datasetMetaCols} FROM datasets WHERE id = $1`, [id]);
  return r.rows[0];
}

export async function getDatasetMatrix(
  q: Queryable,
  id: string,
): Promise<{ meta: DatasetMeta; matrix: Matrix } | undefined> {
  const r = await q.query<DatasetMeta & { data: Buffer }>(
    `SELECT ${datasetMetaCols}, data FROM datasets WHERE id = $1`,
    [id],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const { data, ...meta } = row;
  return { meta, matrix: bytesToMatrix(data, meta.rowCount, meta.featureNames.length) };
}

export async function listDatasets(q: Queryable, limit = 100): Promise<DatasetMeta[]> {
  const r = await q.query<DatasetMeta>(`SELECT ${datasetMetaCols} FROM datasets ORDER BY created_at DESC LIMIT $1`, [
    limit,
  ]);
  return r.rows;
}

export type DeleteDatasetResult =
  | { outcome: 'deleted'; detectors: number }
  | { outcome: 'not_found' }
  | { outcome: 'has_detectors'; detectorIds: string[] }
  | { outcome: 'jobs_in_flight'; detectorId: string; jobIds: string[] };

/**
 * Deletes a dataset. Detectors trained on it are deleted too only with `cascade` (each by the
 * rules of deleteDetector); without it a dataset in use is refused. Run inside a transaction.
 */
export async function deleteDataset(q: Queryable, id: string, cascade: boolean): Promise<DeleteDatasetResult> {
  const found = await q.query(`SELECT 1 FROM datasets WHERE id = $1 FOR UPDATE`, [id]);
  if ((found.rowCount ?? 0) === 0) return { outcome: 'not_found' };
  const detectorIds = await detectorIdsOfDataset(q, id);
  if (detectorIds.length > 0 && !cascade) return { outcome: 'has_detectors', detectorIds };
  for (const detectorId of detectorIds) {
    const r = await deleteDetector(q, detectorId);
    if (r.outcome === 'jobs_in_flight') return { outcome: 'jobs_in_flight', detectorId, jobIds: r.jobIds };
  }
  await q.query(`DELETE FROM datasets WHERE id = $1`, [id]);
  return { outcome: 'deleted', detectors: detectorIds.length };
}
