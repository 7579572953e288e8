/** Versioned models with their reference profiles. */
import type { IsolationForestModel, ReferenceProfile, RobustZModel } from '@pynomaly/algorithms';
import type { Queryable } from '../pool.js';
import type { Algorithm } from './detectors.js';

/** The fitted model body as stored (JSON), by algorithm. */
export type StoredModel = IsolationForestModel | RobustZModel;

export interface ModelRecord {
  id: string;
  detectorId: string;
  version: number;
  jobId: string;
  algorithm: Algorithm;
  featureNames: string[];
  threshold: number;
  trainedRows: number;
  model: StoredModel;
  referenceProfile: ReferenceProfile;
  createdAt: Date;
}

const modelCols = `id, detector_id AS "detectorId", version, job_id AS "jobId", algorithm,
  feature_names AS "featureNames", threshold, trained_rows AS "trainedRows", model,
  reference_profile AS "referenceProfile", created_at AS "createdAt"`;

/** Stores the next version of a detector's model (the detector row lock serialises versions). */
export async function insertModelVersion(
  q: Queryable,
  m: Omit<ModelRecord, 'version' | 'createdAt'>,
): Promise<ModelRecord> {
  await q.query('SELECT 1 FROM detectors WHERE id = $1 FOR UPDATE', [m.detectorId]);
  const r = await q.query<ModelRecord>(
    `INSERT INTO models (id, detector_id, version, job_id, algorithm, feature_names, threshold, trained_rows, model, reference_profile)
     SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9 FROM models WHERE detector_id = $2
     RETURNING ${modelCols}`,
    [
      m.id,
      m.detectorId,
      m.jobId,
      m.algorithm,
      m.featureNames,
      m.threshold,
      m.trainedRows,
      JSON.stringify(m.model),
      JSON.stringify(m.referenceProfile),
    ],
  );
  return r.rows[0]!;
}

export async function getModel(q: Queryable, id: string): Promise<ModelRecord | undefined> {
  const r = await q.query<ModelRecord>(`SELECT ${modelCols} FROM models WHERE id = $1`, [id]);
  return r.rows[0];
}

/** What the drift worker needs of a model: no fitted body, which can be megabytes. */
export type DriftModel = Pick<ModelRecord, 'id' | 'detectorId' | 'version' | 'featureNames' | 'referenceProfile'>;

/** A model's drift view and the stored JSON bytes of its reference profile (to size a cache). */
export async function getDriftModel(
  q: Queryable,
  id: string,
): Promise<{ model: DriftModel; storedBytes: number } | undefined> {
  const r = await q.query<DriftModel & { storedBytes: number }>(
    `SELECT id, detector_id AS "detectorId", version, feature_names AS "featureNames",
       reference_profile AS "referenceProfile", octet_length(reference_profile::text) AS "storedBytes"
     FROM models WHERE id = $1`,
    [id],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const { storedBytes, ...model } = row;
  return { model, storedBytes: Number(storedBytes) };
}

/** Which of `ids` still exist (a cached model may have been deleted since). */
export async function existingModelIds(q: Queryable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const r = await q.query<{ id: string }>(`SELECT id FROM models WHERE id = ANY($1::uuid[])`, [ids]);
  return new Set(r.rows.map((x) => x.id));
}

/** Id and version of a detector's latest model: the cheap question a cache of model bodies asks first. */
export async function getLatestModelRef(
  q: Queryable,
  detectorId: string,
): Promise<{ id: string; version: number } | undefined> {
  const r = await q.query<{ id: string; version: number }>(
    `SELECT id, version FROM models WHERE detector_id = $1 ORDER BY version DESC LIMIT 1`,
    [detectorId],
  );
  return r.rows[0];
}

/** What a listing shows of a model: never its body or reference profile. */
export interface ModelSummary {
  id: string;
  detectorId: string;
  version: number;
  jobId: string;
  algorithm: Algorithm;
  threshold: number;
  trainedRows: number;
  createdAt: Date;
}

/** A detector's model versions, newest first, without their bodies. */
export async function listModels(q: Queryable, detectorId: string, limit = 100): Promise<ModelSummary[]> {
  const r = await q.query<ModelSummary>(
    `SELECT id, detector_id AS "detectorId", version, job_id AS "jobId", algorithm, threshold,
       trained_rows AS "trainedRows", created_at AS "createdAt"
     FROM models WHERE detector_id = $1 ORDER BY version DESC LIMIT $2`,
    [detectorId, limit],
  );
  return r.rows;
}

export type DeleteModelResult =
  | { outcome: 'deleted'; detectorId: string; version: number; driftReports: number }
  | { outcome: 'not_found' }
  | { outcome: 'latest'; detectorId: string; version: number };

/**
 * Deletes an older model version with its drift reports and window rows; the job that trained it
 * stays (succeeded, without a model). The detector's latest model is refused: detect scores with
 * it, and versions are never reused. Run inside a transaction; the detector's row lock serialises
 * it with a training that stores a new version.
 */
export async function deleteModel(q: Queryable, id: string): Promise<DeleteModelResult> {
  const m = await q.query<{ detectorId: string; version: number }>(
    `SELECT detector_id AS "detectorId", version FROM models WHERE id = $1`,
    [id],
  );
  const found = m.rows[0];
  if (!found) return { outcome: 'not_found' };
  await q.query('SELECT 1 FROM detectors WHERE id = $1 FOR UPDATE', [found.detectorId]);
  const latest = await getLatestModelRef(q, found.detectorId);
  if (!latest || latest.id === id) return { outcome: 'latest', ...found };
  await q.query(`DELETE FROM drift_window_rows WHERE model_id = $1`, [id]);
  await q.query(`DELETE FROM drift_windows WHERE model_id = $1`, [id]);
  const reports = await q.query(`DELETE FROM drift_reports WHERE model_id = $1`, [id]);
  await q.query(`UPDATE jobs SET model_id = NULL WHERE model_id = $1`, [id]);
  await q.query(`DELETE FROM models WHERE id = $1`, [id]);
  await q.query(`INSERT INTO deleted_resources (kind, id) VALUES ('model', $1) ON CONFLICT DO NOTHING`, [id]);
  return { outcome: 'deleted', ...found, driftReports: reports.rowCount ?? 0 };
}

/** The latest model of each detector in `detectorIds` (detectors without one are absent). */
export async function getLatestModelSummaries(q: Queryable, detectorIds: readonly string[]): Promise<ModelSummary[]> {
  if (detectorIds.length === 0) return [];
  const r = await q.query<ModelSummary>(
    `SELECT DISTINCT ON (detector_id) id, detector_id AS "detectorId", version, job_id AS "jobId", algorithm,
       threshold, trained_rows AS "trainedRows", created_at AS "createdAt"
     FROM models WHERE detector_id = ANY($1::uuid[]) ORDER BY detector_id, version DESC`,
    [detectorIds],
  );
  return r.rows;
}

/** Stored JSON size of a model's body and reference profile, asked before loading them. */
export async function getModelStoredBytes(q: Queryable, id: string): Promise<number | undefined> {
  const r = await q.query<{ bytes: number }>(
    `SELECT octet_length(model::text)::bigint + octet_length(reference_profile::text) AS bytes FROM models WHERE id = $1`,
    [id],
  );
  return r.rows[0]?.bytes;
}
