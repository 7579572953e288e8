import { randomUUID } from 'node:crypto';
import type { AlertRecord, DatasetMeta, Detector, DriftReport, Job, ModelRecord, Payload } from '@pynomaly/shared';
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
    return [...this.models.values()]
      .filter((m) => m.detectorId === detectorId)
      .sort((a, b) => b.version - a.version)[0];
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
}
