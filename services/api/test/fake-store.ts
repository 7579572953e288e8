import { randomUUID } from 'node:crypto';
import type {
  AlertRecord,
  DatasetMeta,
  DeleteDatasetResult,
  DeleteDetectorResult,
  DeleteModelResult,
  Detector,
  DriftReport,
  Job,
  ModelRecord,
  ModelSummary,
  Payload,
} from '@pynomaly/shared';
import type { ApiStore, NewAlert, NewDataset, NewDetector } from '../src/store.js';

/** In-memory ApiStore that counts writes, so tests can assert "nothing was written". */
export class FakeStore implements ApiStore {
  datasets = new Map<string, DatasetMeta & { data: Float64Array }>();
  detectors = new Map<string, Detector>();
  jobs = new Map<string, Job>();
  models = new Map<string, ModelRecord>();
  detections: { detectorId: string; payload: Payload<'detections.scored'> }[] = [];
  alerts: AlertRecord[] = [];
  writes = 0;

  async ping() {}
  async createDataset(d: NewDataset) {
    this.writes++;
    const meta: DatasetMeta = {
      id: randomUUID(),
      name: d.name,
      featureNames: d.featureNames,
      rowCount: d.matrix.rows,
      sourceFormat: d.sourceFormat,
      createdAt: new Date(),
    };
    this.datasets.set(meta.id, { ...meta, data: d.matrix.data });
    return meta;
  }
  async getDataset(id: string) {
    const d = this.datasets.get(id);
    if (!d) return undefined;
    const { data: _data, ...meta } = d;
    return meta;
  }
  async listDatasets() {
    return [...this.datasets.values()];
  }
  async createDetector(d: NewDetector) {
    this.writes++;
    const det: Detector = { ...d, id: randomUUID(), createdAt: new Date() };
    this.detectors.set(det.id, det);
    return det;
  }
  async getDetector(id: string) {
    return this.detectors.get(id);
  }
  async listDetectors() {
    return [...this.detectors.values()];
  }
  async requestTraining(detector: Detector) {
    this.writes++;
    const now = new Date();
    const job: Job = {
      id: randomUUID(),
      type: 'training',
      detectorId: detector.id,
      state: 'queued',
      reason: null,
      modelId: null,
      attempts: 0,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    this.jobs.set(job.id, job);
    return job;
  }
  async getJob(id: string) {
    return this.jobs.get(id);
  }
  async cancelJob(id: string) {
    const job = this.jobs.get(id);
    if (!job || (job.state !== 'queued' && job.state !== 'running')) return undefined;
    this.writes++;
    const now = new Date();
    const cancelled: Job = {
      ...job,
      state: 'cancelled',
      reason: 'cancelled on request',
      finishedAt: now,
      updatedAt: now,
    };
    this.jobs.set(id, cancelled);
    return cancelled;
  }
  async latestModel(detectorId: string) {
    this.modelBodyLoads++;
    return [...this.models.values()]
      .filter((m) => m.detectorId === detectorId)
      .sort((a, b) => b.version - a.version)[0];
  }
  async detectorForScoring(id: string) {
    const detector = await this.getDetector(id);
    return detector ? { detector, model: await this.latestModel(id) } : undefined;
  }
  /** Counts body loads, so tests can assert that listings never load a model body. */
  modelBodyLoads = 0;
  async latestModelSummaries(detectorIds: readonly string[]) {
    const out = new Map<string, ModelSummary>();
    for (const id of detectorIds) {
      const m = [...this.models.values()].filter((x) => x.detectorId === id).sort((a, b) => b.version - a.version)[0];
      if (m) {
        const { id: modelId, version, jobId, algorithm, threshold, trainedRows, createdAt } = m;
        out.set(id, { id: modelId, detectorId: id, version, jobId, algorithm, threshold, trainedRows, createdAt });
      }
    }
    return out;
  }
  async recordDetections(detectorId: string, payload: Payload<'detections.scored'>) {
    this.writes++;
    this.detections.push({ detectorId, payload });
  }
  async listDriftReports(): Promise<DriftReport[]> {
    return [];
  }
  async insertAlerts(alerts: NewAlert[]) {
    this.writes++;
    for (const a of alerts) this.alerts.push({ ...a, id: randomUUID(), receivedAt: new Date() });
    return alerts.length;
  }
  async listAlerts() {
    return this.alerts;
  }
  async listModels(detectorId: string): Promise<ModelSummary[]> {
    return [...this.models.values()]
      .filter((m) => m.detectorId === detectorId)
      .sort((a, b) => b.version - a.version)
      .map(({ model: _m, referenceProfile: _r, featureNames: _f, ...summary }) => summary);
  }
  // The same cascade rules as the repository, in memory.
  async deleteDetector(id: string): Promise<DeleteDetectorResult> {
    if (!this.detectors.has(id)) return { outcome: 'not_found' };
    const jobs = [...this.jobs.values()].filter((j) => j.detectorId === id);
    const inFlight = jobs.filter((j) => j.state === 'queued' || j.state === 'running');
    if (inFlight.length > 0) return { outcome: 'jobs_in_flight', jobIds: inFlight.map((j) => j.id) };
    this.writes++;
    const models = [...this.models.values()].filter((m) => m.detectorId === id);
    for (const m of models) this.models.delete(m.id);
    for (const j of jobs) this.jobs.delete(j.id);
    this.detectors.delete(id);
    return { outcome: 'deleted', models: models.length, jobs: jobs.length, driftReports: 0 };
  }
  async deleteDataset(id: string, cascade: boolean): Promise<DeleteDatasetResult> {
    if (!this.datasets.has(id)) return { outcome: 'not_found' };
    const detectorIds = [...this.detectors.values()].filter((d) => d.datasetId === id).map((d) => d.id);
    if (detectorIds.length > 0 && !cascade) return { outcome: 'has_detectors', detectorIds };
    for (const detectorId of detectorIds) {
      const busy = [...this.jobs.values()].filter(
        (j) => j.detectorId === detectorId && (j.state === 'queued' || j.state === 'running'),
      );
      if (busy.length > 0) return { outcome: 'jobs_in_flight', detectorId, jobIds: busy.map((j) => j.id) };
    }
    for (const detectorId of detectorIds) await this.deleteDetector(detectorId);
    this.writes++;
    this.datasets.delete(id);
    return { outcome: 'deleted', detectors: detectorIds.length };
  }
  async deleteModel(id: string): Promise<DeleteModelResult> {
    const m = this.models.get(id);
    if (!m) return { outcome: 'not_found' };
    const latest = await this.latestModel(m.detectorId);
    if (latest?.id === id) return { outcome: 'latest', detectorId: m.detectorId, version: m.version };
    this.writes++;
    this.models.delete(id);
    return { outcome: 'deleted', detectorId: m.detectorId, version: m.version, driftReports: 0 };
  }
}
