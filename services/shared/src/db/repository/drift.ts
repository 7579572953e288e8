/** Drift windows (rows waiting for a full window), processed-event ids and drift reports. */
import type { Queryable } from '../pool.js';

/** Records that a consumer group handled an event; false if it already had (a redelivery). */
export async function markEventProcessed(q: Queryable, consumerGroup: string, eventId: string): Promise<boolean> {
  const r = await q.query(
    `INSERT INTO processed_events (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    [consumerGroup, eventId],
  );
  return (r.rowCount ?? 0) === 1;
}

/**
 * markEventProcessed for many events in one statement: returns the ids not processed before (the
 * ones to handle). Ids repeated within `eventIds` count once.
 */
export async function markEventsProcessed(
  q: Queryable,
  consumerGroup: string,
  eventIds: string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const r = await q.query<{ id: string }>(
    `INSERT INTO processed_events (consumer_group, event_id)
     SELECT $1, id FROM unnest($2::uuid[]) AS t(id) GROUP BY id
     ON CONFLICT DO NOTHING RETURNING event_id::text AS id`,
    [consumerGroup, eventIds],
  );
  return new Set(r.rows.map((x) => x.id.toLowerCase()));
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

/** Removes and returns the oldest `size` rows (one full window; null: all), in scoring order. */
export async function takeDriftWindow(
  q: Queryable,
  detectorId: string,
  modelId: string,
  size: number | null,
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

/**
 * insertDriftReport for consecutive windows of one detector in one statement (and one update of
 * its completed-window count). Returns the stored reports in the order given.
 */
export async function insertDriftReports(
  q: Queryable,
  detectorId: string,
  reports: Omit<DriftReport, 'createdAt'>[],
): Promise<DriftReport[]> {
  if (reports.length === 0) return [];
  const col = <K extends keyof Omit<DriftReport, 'createdAt'>>(k: K) => reports.map((d) => d[k]);
  const r = await q.query<DriftReport>(
    `INSERT INTO drift_reports (id, detector_id, model_id, model_version, window_index, window_rows, dataset_drift,
       drift_share, score_drift, anomaly_rate_drift, result)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::int[], $7::boolean[],
       $8::float8[], $9::boolean[], $10::boolean[], $11::jsonb[])
     RETURNING ${reportCols}`,
    [
      col('id'),
      col('detectorId'),
      col('modelId'),
      col('modelVersion'),
      col('windowIndex'),
      col('windowRows'),
      col('datasetDrift'),
      col('driftShare'),
      col('scoreDrift'),
      col('anomalyRateDrift'),
      reports.map((d) => JSON.stringify(d.result)),
    ],
  );
  await q.query(
    `UPDATE drift_windows SET windows_completed = windows_completed + $2, updated_at = now() WHERE detector_id = $1`,
    [detectorId, reports.length],
  );
  const byId = new Map(r.rows.map((x) => [x.id, x]));
  return reports.map((d) => byId.get(d.id)!);
}

/**
 * Dataset and per-feature drift of the latest `limit` windows of one model, newest first: the
 * history the persistence rule (k of the last m windows) needs.
 */
export async function recentDriftSignals(
  q: Queryable,
  detectorId: string,
  modelId: string,
  limit: number,
): Promise<{ datasetDrift: boolean; driftedFeatures: string[] }[]> {
  if (limit <= 0) return [];
  const r = await q.query<{ datasetDrift: boolean; driftedFeatures: string[] }>(
    `SELECT dataset_drift AS "datasetDrift",
       COALESCE((SELECT jsonb_agg(f->>'name') FROM jsonb_array_elements(result->'features') f
                 WHERE (f->>'drifted')::boolean), '[]'::jsonb) AS "driftedFeatures"
     FROM drift_reports WHERE detector_id = $1 AND model_id = $2 ORDER BY window_index DESC LIMIT $3`,
    [detectorId, modelId, limit],
  );
  return r.rows;
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
