/**
 * What the routes need from the system of record, as an interface so the HTTP layer can be tested
 * with an in-memory fake. PgStore is the real one: every write that must reach Kafka goes into the
 * same transaction as its outbox row.
 */
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_API_LIMITS,
  enqueueEvent,
  makeEvent,
  outboxMessage,
  repo,
  withTransaction,
  type AlertRecord,
  type DatasetMeta,
  type DeleteDatasetResult,
  type DeleteDetectorResult,
  type DeleteModelResult,
  type Detector,
  type DriftReport,
  type Job,
  type ModelRecord,
  type ModelSummary,
  type Payload,
  type Pool,
  type Topics,
} from '@pynomaly/shared';
import type { Matrix } from '@pynomaly/algorithms';
import { ApiError } from './errors.js';
import { HEAP_BYTES_PER_STORED_BYTE, ModelCache } from './model-cache.js';

export interface NewDataset {
  name: string;
  featureNames: string[];
  matrix: Matrix;
  sourceFormat: 'json' | 'csv';
}

export type NewDetector = Omit<Detector, 'id' | 'createdAt'>;
export type NewAlert = Omit<AlertRecord, 'id' | 'receivedAt'>;

export interface ApiStore {
  ping(): Promise<void>;
  createDataset(d: NewDataset): Promise<DatasetMeta>;
  getDataset(id: string): Promise<DatasetMeta | undefined>;
  listDatasets(limit: number): Promise<DatasetMeta[]>;
  createDetector(d: NewDetector): Promise<Detector>;
  getDetector(id: string): Promise<Detector | undefined>;
  listDetectors(limit: number): Promise<Detector[]>;
  /** Records a queued job and its training.requested event atomically. */
  requestTraining(detector: Detector): Promise<Job>;
  getJob(id: string): Promise<Job | undefined>;
  /** queued|running → cancelled; undefined when unknown or already finished. */
  cancelJob(id: string): Promise<Job | undefined>;
  /** A detector and its latest model with its body (one lookup round trip): what scoring needs. */
  detectorForScoring(id: string): Promise<{ detector: Detector; model: ModelRecord | undefined } | undefined>;
  /** Id, version and threshold of each detector's latest model, without bodies (for listings). */
  latestModelSummaries(detectorIds: readonly string[]): Promise<Map<string, ModelSummary>>;
  /** Queues detections.scored for the drift worker. */
  recordDetections(detectorId: string, payload: Payload<'detections.scored'>): Promise<void>;
  listDriftReports(detectorId: string, limit: number): Promise<DriftReport[]>;
  insertAlerts(alerts: NewAlert[]): Promise<number>;
  listAlerts(opts: { limit: number; status?: 'firing' | 'resolved' | undefined }): Promise<AlertRecord[]>;
  listModels(detectorId: string, limit: number): Promise<ModelSummary[]>;
  /** Cascade rules: repository deleteDataset / deleteDetector / deleteModel. */
  deleteDataset(id: string, cascade: boolean): Promise<DeleteDatasetResult>;
  deleteDetector(id: string): Promise<DeleteDetectorResult>;
  deleteModel(id: string): Promise<DeleteModelResult>;
}

/** Set when an insert's parent row was deleted meanwhile (a foreign key no longer holds). */
export class ParentGone extends Error {}

function parentGone(err: unknown): never {
  if ((err as { code?: string }).code === '23503') throw new ParentGone((err as Error).message);
  throw err;
}

/** Target size of one detections.scored event: far below the broker's 1 MiB message limit. */
export const DETECTIONS_EVENT_BYTES = 256 * 1024;

/**
 * The most bytes a finite JS number takes in JSON, with the comma after it: a sign, "0.00000" and
 * 17 significant digits (positional notation reaches down to 1e-6), e.g. "-0.0000012345678901234567".
 */
const MAX_NUMBER_JSON_BYTES = 26;

/**
 * An upper bound on the payload's JSON size, without serialising it: a 100-row request's numbers
 * cost as much to print as the request costs to score, and the event is serialised once anyway.
 */
export function detectionsJsonUpperBound(payload: Payload<'detections.scored'>): number {
  let numbers = payload.scores.length;
  for (const row of payload.rows) numbers += row.length;
  const labels = 2 * payload.labels.length; // 0 or 1, and a comma
  const brackets = 3 * payload.rows.length; // [ ] and a comma per row
  const fixed = 256; // keys, braces, the model id and version
  return (
    numbers * MAX_NUMBER_JSON_BYTES +
    labels +
    brackets +
    Buffer.byteLength(JSON.stringify(payload.featureNames)) +
    fixed
  );
}

/**
 * What the event schema checks of a detect request's payload beyond its validated body: the
 * computed scores are finite and line up with the rows. Far cheaper than parsing the rows again.
 */
export function assertScoredShape(p: Payload<'detections.scored'>): void {
  const n = p.rows.length;
  if (p.scores.length !== n || p.labels.length !== n)
    throw new Error(`detections: ${n} rows but ${p.scores.length} scores and ${p.labels.length} labels`);
  for (const s of p.scores) if (!Number.isFinite(s)) throw new Error(`detections: a score is not finite (${s})`);
}

/** Splits a large detect request into events of bounded size (in row order). */
export function chunkDetections(
  payload: Payload<'detections.scored'>,
  maxBytes = DETECTIONS_EVENT_BYTES,
): Payload<'detections.scored'>[] {
  if (detectionsJsonUpperBound(payload) <= maxBytes) return [payload];
  const size = Buffer.byteLength(JSON.stringify(payload));
  const parts = Math.ceil(size / maxBytes);
  if (parts <= 1) return [payload];
  const per = Math.ceil(payload.rows.length / parts);
  const out: Payload<'detections.scored'>[] = [];
  for (let i = 0; i < payload.rows.length; i += per) {
    out.push({
      ...payload,
      rows: payload.rows.slice(i, i + per),
      scores: payload.scores.slice(i, i + per),
      labels: payload.labels.slice(i, i + per),
    });
  }
  return out;
}

export interface ModelLimits {
  /** Estimated heap bytes of the cached models. */
  cacheBytes: number;
  /** Stored JSON bytes of the largest model loaded for scoring. */
  maxStoredBytes: number;
}

export class PgStore implements ApiStore {
  private readonly models: ModelCache<ModelRecord>;
  /** Loads in progress by model id: concurrent requests for one uncached model share its load. */
  private readonly loading = new Map<string, Promise<ModelRecord | undefined>>();
  /** Model loads run one at a time, so at most one body is in flight besides the cache. */
  private loadQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly topics: Topics,
    /** Called after a commit that enqueued events, so the relay publishes without waiting. */
    private readonly onEnqueued: () => void = () => {},
    private readonly modelLimits: ModelLimits = {
      cacheBytes: DEFAULT_API_LIMITS.modelCacheBytes,
      maxStoredBytes: DEFAULT_API_LIMITS.modelMaxBytes,
    },
  ) {
    this.models = new ModelCache<ModelRecord>(modelLimits.cacheBytes);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  createDataset(d: NewDataset): Promise<DatasetMeta> {
    return repo.insertDataset(this.pool, { id: randomUUID(), ...d });
  }
  getDataset(id: string) {
    return repo.getDatasetMeta(this.pool, id);
  }
  listDatasets(limit: number) {
    return repo.listDatasets(this.pool, limit);
  }
  createDetector(d: NewDetector) {
    return repo.insertDetector(this.pool, { id: randomUUID(), ...d }).catch(parentGone);
  }
  getDetector(id: string) {
    return repo.getDetector(this.pool, id);
  }
  listDetectors(limit: number) {
    return repo.listDetectors(this.pool, limit);
  }

  async requestTraining(detector: Detector): Promise<Job> {
    const job = await withTransaction(this.pool, async (client) => {
      const created = await repo.insertJob(client, { id: randomUUID(), detectorId: detector.id });
      const event = makeEvent('training.requested', detector.id, {
        jobId: created.id,
        datasetId: detector.datasetId,
        algorithm: detector.algorithm,
        parameters: detector.parameters,
      });
      await enqueueEvent(client, this.topics['training.requested'], event);
      return created;
    }).catch(parentGone);
    this.onEnqueued();
    return job;
  }

  getJob(id: string) {
    return repo.getJob(this.pool, id);
  }
  cancelJob(id: string) {
    return repo.cancelJob(this.pool, id);
  }
  async detectorForScoring(id: string): Promise<{ detector: Detector; model: ModelRecord | undefined } | undefined> {
    const found = await repo.getDetectorWithLatestModelId(this.pool, id);
    if (!found) return undefined;
    return {
      detector: found.detector,
      model: found.latestModelId ? await this.modelById(found.latestModelId) : undefined,
    };
  }

  /** A model body from the cache, else loaded once however many requests ask for it at a time. */
  private modelById(id: string): Promise<ModelRecord | undefined> {
    const cached = this.models.get(id);
    if (cached) return Promise.resolve(cached);
    let load = this.loading.get(id);
    if (!load) {
      load = this.loadQueue.then(() => this.loadModel(id));
      this.loadQueue = load.catch(() => undefined);
      this.loading.set(id, load);
      void load.finally(() => this.loading.delete(id)).catch(() => undefined);
    }
    return load;
  }

  private async loadModel(id: string): Promise<ModelRecord | undefined> {
    const cached = this.models.get(id);
    if (cached) return cached;
    // Sized before it is read: a body too large to hold is refused without being loaded.
    const stored = await repo.getModelStoredBytes(this.pool, id);
    if (stored === undefined) return undefined;
    if (stored > this.modelLimits.maxStoredBytes) {
      throw new ApiError(
        422,
        'model_too_large',
        `model ${id} is ${stored} bytes of JSON, more than the ${this.modelLimits.maxStoredBytes} bytes the API loads to score with (API_MODEL_MAX_BYTES)`,
      );
    }
    const model = await repo.getModel(this.pool, id);
    if (model) this.models.set(id, model, stored * HEAP_BYTES_PER_STORED_BYTE);
    return model;
  }

  async latestModelSummaries(detectorIds: readonly string[]): Promise<Map<string, ModelSummary>> {
    const rows = await repo.getLatestModelSummaries(this.pool, detectorIds);
    return new Map(rows.map((m) => [m.detectorId, m]));
  }

  async recordDetections(detectorId: string, payload: Payload<'detections.scored'>): Promise<void> {
    assertScoredShape(payload);
    const topic = this.topics['detections.scored'];
    // Built from the validated request body and the model's own scores and labels.
    const messages = chunkDetections(payload).map((part) =>
      outboxMessage(topic, makeEvent('detections.scored', detectorId, part, { prevalidated: true })),
    );
    // One statement is atomic on its own: every chunk is queued or none is, without a
    // transaction's BEGIN and COMMIT round trips on every /detect.
    await repo.enqueueOutboxMany(this.pool, messages);
    this.onEnqueued();
  }

  listDriftReports(detectorId: string, limit: number) {
    return repo.listDriftReports(this.pool, detectorId, limit);
  }

  async insertAlerts(alerts: NewAlert[]): Promise<number> {
    await withTransaction(this.pool, async (client) => {
      for (const a of alerts) await repo.insertAlert(client, { id: randomUUID(), ...a });
    });
    return alerts.length;
  }

  listAlerts(opts: { limit: number; status?: 'firing' | 'resolved' | undefined }) {
    return repo.listAlerts(this.pool, opts);
  }

  listModels(detectorId: string, limit: number) {
    return repo.listModels(this.pool, detectorId, limit);
  }
  deleteDataset(id: string, cascade: boolean) {
    return withTransaction(this.pool, (client) => repo.deleteDataset(client, id, cascade));
  }
  deleteDetector(id: string) {
    return withTransaction(this.pool, (client) => repo.deleteDetector(client, id));
  }
  deleteModel(id: string) {
    return withTransaction(this.pool, (client) => repo.deleteModel(client, id));
  }
}
