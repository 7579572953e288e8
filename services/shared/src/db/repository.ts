/**
 * Repository functions over the schema in services/shared/migrations. Each takes a Queryable so
 * it runs either on the pool or inside a caller's transaction.
 */
import type { Queryable } from './pool.js';

export type Algorithm = 'isolation_forest' | 'robust_zscore';
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export function matrixToBytes(m: Matrix): Buffer {
  const buf = Buffer.alloc(m.data.length * 8);
  for (let i = 0; i < m.data.length; i++) buf.writeDoubleLE(m.data[i]!, i * 8);
  return buf;
}

export function bytesToMatrix(buf: Buffer, rows: number, cols: number): Matrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = buf.readDoubleLE(i * 8);
  return { data, rows, cols };
}

// ---- datasets -------------------------------------------------------------------------------

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

// ---- detectors ------------------------------------------------------------------------------

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

// ---- jobs -----------------------------------------------------------------------------------

export interface Job {
  id: string;
  type: 'training';
  detectorId: string;
  state: JobState;
  reason: string | null;
  modelId: string | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

const jobCols = `id, type, detector_id AS "detectorId", state, reason, model_id AS "modelId", attempts,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt", updated_at AS "updatedAt"`;

export async function insertJob(q: Queryable, j: { id: string; detectorId: string; type?: 'training' }): Promise<Job> {
  const r = await q.query<Job>(
    `INSERT INTO jobs (id, type, detector_id, state) VALUES ($1, $2, $3, 'queued') RETURNING ${jobCols}`,
    [j.id, j.type ?? 'training', j.detectorId],
  );
  return r.rows[0]!;
}

export async function getJob(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(`SELECT ${jobCols} FROM jobs WHERE id = $1`, [id]);
  return r.rows[0];
}

/**
 * queued|running → running. Returns undefined when the job is already finished (a redelivered
 * event), which callers treat as "nothing to do". Re-entering running is allowed so a worker that
 * crashed mid-training can be replaced.
 */
export async function markJobRunning(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'running', started_at = now(), attempts = attempts + 1, updated_at = now()
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id],
  );
  return r.rows[0];
}

export async function markJobSucceeded(q: Queryable, id: string, modelId: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'succeeded', model_id = $2, finished_at = now(), updated_at = now(), reason = NULL
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id, modelId],
  );
  return r.rows[0];
}

export async function markJobFailed(q: Queryable, id: string, reason: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'failed', reason = $2, finished_at = now(), updated_at = now()
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id, reason.slice(0, 2000)],
  );
  return r.rows[0];
}

// ---- models ---------------------------------------------------------------------------------

export interface ModelRecord {
  id: string;
  detectorId: string;
  version: number;
  jobId: string;
  algorithm: Algorithm;
  featureNames: string[];
  threshold: number;
  trainedRows: number;
  model: unknown;
  referenceProfile: unknown;
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

export async function getModelByJob(q: Queryable, jobId: string): Promise<ModelRecord | undefined> {
  const r = await q.query<ModelRecord>(`SELECT ${modelCols} FROM models WHERE job_id = $1`, [jobId]);
  return r.rows[0];
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

export async function getLatestModel(q: Queryable, detectorId: string): Promise<ModelRecord | undefined> {
  const r = await q.query<ModelRecord>(
    `SELECT ${modelCols} FROM models WHERE detector_id = $1 ORDER BY version DESC LIMIT 1`,
    [detectorId],
  );
  return r.rows[0];
}

// ---- drift windows and reports --------------------------------------------------------------

/** Records that a consumer group handled an event; false if it already had (a redelivery). */
export async function markEventProcessed(q: Queryable, consumerGroup: string, eventId: string): Promise<boolean> {
  const r = await q.query(
    `INSERT INTO processed_events (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    [consumerGroup, eventId],
  );
  return (r.rowCount ?? 0) === 1;
}

export interface DriftWindowState {
  detectorId: string;
  modelId: string;
  windowsCompleted: number;
}

/** Locks (creating if needed) the detector's window row; callers hold it for the transaction. */
export async function lockDriftWindow(q: Queryable, detectorId: string, modelId: string): Promise<DriftWindowState> {
  await q.query(
    `INSERT INTO drift_windows (detector_id, model_id) VALUES ($1, $2) ON CONFLICT (detector_id) DO NOTHING`,
    [detectorId, modelId],
  );
  const r = await q.query<DriftWindowState>(
    `SELECT detector_id AS "detectorId", model_id AS "modelId", windows_completed AS "windowsCompleted"
     FROM drift_windows WHERE detector_id = $1 FOR UPDATE`,
    [detectorId],
  );
  return r.rows[0]!;
}

/** Starts a fresh window for a new model: rows scored with older models are discarded. */
export async function resetDriftWindow(q: Queryable, detectorId: string, modelId: string): Promise<void> {
  await lockDriftWindow(q, detectorId, modelId);
  await q.query(
    `UPDATE drift_windows SET model_id = $2, windows_completed = 0, updated_at = now() WHERE detector_id = $1`,
    [detectorId, modelId],
  );
  await q.query(`DELETE FROM drift_window_rows WHERE detector_id = $1 AND model_id <> $2`, [detectorId, modelId]);
}

export async function appendDriftWindowRows(
  q: Queryable,
  detectorId: string,
  modelId: string,
  rows: number[][],
  scores: number[],
  labels: number[],
): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO drift_window_rows (detector_id, model_id, features, score, label)
     SELECT $1, $2, (SELECT array_agg(v::float8) FROM jsonb_array_elements_text(f) AS v), s, l
     FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS r(f, i)
     JOIN unnest($4::float8[], $5::smallint[]) WITH ORDINALITY AS x(s, l, j) ON i = j
     ORDER BY i`,
    [detectorId, modelId, JSON.stringify(rows), scores, labels],
  );
}

export async function countDriftWindowRows(q: Queryable, detectorId: string, modelId: string): Promise<number> {
  const r = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM drift_window_rows WHERE detector_id = $1 AND model_id = $2`,
    [detectorId, modelId],
  );
  return r.rows[0]?.n ?? 0;
}

/** Removes and returns the oldest `size` rows (one full window), in scoring order. */
export async function takeDriftWindow(
  q: Queryable,
  detectorId: string,
  modelId: string,
  size: number,
): Promise<{ features: number[][]; scores: number[]; labels: number[] }> {
  const r = await q.query<{ seq: number; features: number[]; score: number; label: number }>(
    `DELETE FROM drift_window_rows WHERE seq IN (
       SELECT seq FROM drift_window_rows WHERE detector_id = $1 AND model_id = $2 ORDER BY seq LIMIT $3)
     RETURNING seq, features, score, label`,
    [detectorId, modelId, size],
  );
  // DELETE ... RETURNING does not promise an order.
  const rows = [...r.rows].sort((a, b) => a.seq - b.seq);
  return { features: rows.map((x) => x.features), scores: rows.map((x) => x.score), labels: rows.map((x) => x.label) };
}

export async function driftWindowSizes(q: Queryable): Promise<{ detectorId: string; rows: number }[]> {
  const r = await q.query<{ detectorId: string; rows: number }>(
    `SELECT w.detector_id AS "detectorId", count(r.seq)::int AS rows
     FROM drift_windows w LEFT JOIN drift_window_rows r ON r.detector_id = w.detector_id AND r.model_id = w.model_id
     GROUP BY w.detector_id`,
  );
  return r.rows;
}

export interface DriftReport {
  id: string;
  detectorId: string;
  modelId: string;
  modelVersion: number;
  windowIndex: number;
  windowRows: number;
  datasetDrift: boolean;
  driftShare: number;
  scoreDrift: boolean;
  anomalyRateDrift: boolean;
  result: unknown;
  createdAt: Date;
}

const reportCols = `id, detector_id AS "detectorId", model_id AS "modelId", model_version AS "modelVersion",
  window_index AS "windowIndex", window_rows AS "windowRows", dataset_drift AS "datasetDrift",
  drift_share AS "driftShare", score_drift AS "scoreDrift", anomaly_rate_drift AS "anomalyRateDrift",
  result, created_at AS "createdAt"`;

export async function insertDriftReport(q: Queryable, d: Omit<DriftReport, 'createdAt'>): Promise<DriftReport> {
  const r = await q.query<DriftReport>(
    `INSERT INTO drift_reports (id, detector_id, model_id, model_version, window_index, window_rows, dataset_drift,
       drift_share, score_drift, anomaly_rate_drift, result)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${reportCols}`,
    [
      d.id,
      d.detectorId,
      d.modelId,
      d.modelVersion,
      d.windowIndex,
      d.windowRows,
      d.datasetDrift,
      d.driftShare,
      d.scoreDrift,
      d.anomalyRateDrift,
      JSON.stringify(d.result),
    ],
  );
  await q.query(
    `UPDATE drift_windows SET windows_completed = windows_completed + 1, updated_at = now() WHERE detector_id = $1`,
    [d.detectorId],
  );
  return r.rows[0]!;
}

export async function listDriftReports(q: Queryable, detectorId: string, limit = 50): Promise<DriftReport[]> {
  const r = await q.query<DriftReport>(
    `SELECT ${reportCols} FROM drift_reports WHERE detector_id = $1 ORDER BY created_at DESC, window_index DESC LIMIT $2`,
    [detectorId, limit],
  );
  return r.rows;
}

export async function latestDriftReports(q: Queryable): Promise<DriftReport[]> {
  const r = await q.query<DriftReport>(
    `SELECT DISTINCT ON (detector_id) ${reportCols} FROM drift_reports ORDER BY detector_id, created_at DESC, window_index DESC`,
  );
  return r.rows;
}

// ---- alerts ---------------------------------------------------------------------------------

export interface AlertRecord {
  id: string;
  fingerprint: string;
  alertname: string;
  status: 'firing' | 'resolved';
  severity: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date | null;
  endsAt: Date | null;
  generatorUrl: string | null;
  receiver: string | null;
  groupKey: string | null;
  receivedAt: Date;
}

const alertCols = `id, fingerprint, alertname, status, severity, labels, annotations, starts_at AS "startsAt",
  ends_at AS "endsAt", generator_url AS "generatorUrl", receiver, group_key AS "groupKey", received_at AS "receivedAt"`;

export async function insertAlert(q: Queryable, a: Omit<AlertRecord, 'receivedAt'>): Promise<void> {
  await q.query(
    `INSERT INTO alerts (id, fingerprint, alertname, status, severity, labels, annotations, starts_at, ends_at,
       generator_url, receiver, group_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      a.id,
      a.fingerprint,
      a.alertname,
      a.status,
      a.severity,
      JSON.stringify(a.labels),
      JSON.stringify(a.annotations),
      a.startsAt,
      a.endsAt,
      a.generatorUrl,
      a.receiver,
      a.groupKey,
    ],
  );
}

export async function listAlerts(
  q: Queryable,
  opts: { limit?: number; status?: 'firing' | 'resolved' | undefined } = {},
): Promise<AlertRecord[]> {
  const r = await q.query<AlertRecord>(
    `SELECT ${alertCols} FROM alerts WHERE ($1::text IS NULL OR status = $1) ORDER BY received_at DESC LIMIT $2`,
    [opts.status ?? null, opts.limit ?? 100],
  );
  return r.rows;
}

// ---- outbox ---------------------------------------------------------------------------------

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

export async function countOutboxPending(q: Queryable): Promise<number> {
  const r = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL`,
  );
  return r.rows[0]?.n ?? 0;
}

// ---- state for the scrape gauges ------------------------------------------------------------

export interface StateSnapshot {
  datasets: number;
  detectors: { algorithm: string; status: 'trained' | 'untrained'; count: number }[];
  jobs: { type: string; state: string; count: number }[];
  oldestQueuedAgeSeconds: { type: string; seconds: number }[];
  outboxPending: number;
  models: { detectorId: string; version: number; ageSeconds: number }[];
  lastTrainingSuccess: number | null;
  drift: DriftReport[];
}

export async function stateSnapshot(q: Queryable): Promise<StateSnapshot> {
  const [datasets, detectors, jobs, oldest, outbox, models, lastSuccess, drift] = await Promise.all([
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
    q.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL`),
    q.query<{ detectorId: string; version: number; ageSeconds: number }>(
      `SELECT DISTINCT ON (detector_id) detector_id AS "detectorId", version,
         EXTRACT(EPOCH FROM now() - created_at)::float8 AS "ageSeconds"
       FROM models ORDER BY detector_id, version DESC`,
    ),
    q.query<{ t: number | null }>(
      `SELECT EXTRACT(EPOCH FROM max(finished_at))::float8 AS t FROM jobs WHERE state = 'succeeded' AND type = 'training'`,
    ),
    latestDriftReports(q),
  ]);
  return {
    datasets: datasets.rows[0]?.n ?? 0,
    detectors: detectors.rows,
    jobs: jobs.rows,
    oldestQueuedAgeSeconds: oldest.rows,
    outboxPending: outbox.rows[0]?.n ?? 0,
    models: models.rows,
    lastTrainingSuccess: lastSuccess.rows[0]?.t ?? null,
    drift,
  };
}
