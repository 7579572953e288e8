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
