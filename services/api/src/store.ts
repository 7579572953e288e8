/**
 * What the routes need from the system of record, as an interface so the HTTP layer can be tested
 * with an in-memory fake. PgStore is the real one: every write that must reach Kafka goes into the
 * same transaction as its outbox row.
 */
import { randomUUID } from 'node:crypto';
import {
  enqueueEvent,
  makeEvent,
  repo,
  withTransaction,
  type AlertRecord,
  type DatasetMeta,
  type Detector,
  type DriftReport,
  type Job,
  type ModelRecord,
  type Payload,
  type Pool,
  type Topics,
} from '@pynomaly/shared';
import type { Matrix } from '@pynomaly/algorithms';
import { ModelCache } from './model-cache.js';

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
  latestModel(detectorId: string): Promise<ModelRecord | undefined>;
  /** Queues detections.scored for the drift worker. */
  recordDetections(detectorId: string, payload: Payload<'detections.scored'>): Promise<void>;
  listDriftReports(detectorId: string, limit: number): Promise<DriftReport[]>;
  insertAlerts(alerts: NewAlert[]): Promise<number>;
  listAlerts(opts: { limit: number; status?: 'firing' | 'resolved' | undefined }): Promise<AlertRecord[]>;
}

/** Target size of one detections.scored event: far below the broker's 1 MiB message limit. */
export const DETECTIONS_EVENT_BYTES = 256 * 1024;

/** Splits a large detect request into events of bounded size (in row order). */
export function chunkDetections(
  payload: Payload<'detections.scored'>,
  maxBytes = DETECTIONS_EVENT_BYTES,
): Payload<'detections.scored'>[] {
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

export class PgStore implements ApiStore {
  private readonly models = new ModelCache<ModelRecord>();

  constructor(
    private readonly pool: Pool,
    private readonly topics: Topics,
    /** Called after a commit that enqueued events, so the relay publishes without waiting. */
    private readonly onEnqueued: () => void = () => {},
  ) {}

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
    return repo.insertDetector(this.pool, { id: randomUUID(), ...d });
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
    });
    this.onEnqueued();
    return job;
  }

  getJob(id: string) {
    return repo.getJob(this.pool, id);
  }
  cancelJob(id: string) {
    return repo.cancelJob(this.pool, id);
  }
  async latestModel(detectorId: string): Promise<ModelRecord | undefined> {
    const ref = await repo.getLatestModelRef(this.pool, detectorId);
    if (!ref) return undefined;
    const cached = this.models.get(ref.id);
    if (cached) return cached;
    const model = await repo.getModel(this.pool, ref.id);
    if (model) this.models.set(ref.id, model);
    return model;
  }

  async recordDetections(detectorId: string, payload: Payload<'detections.scored'>): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      for (const part of chunkDetections(payload)) {
        await enqueueEvent(client, this.topics['detections.scored'], makeEvent('detections.scored', detectorId, part));
      }
    });
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
}
