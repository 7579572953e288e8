import { randomUUID } from 'node:crypto';
import type { ApiKeyEntry, ModelRecord } from '@pynomaly/shared';
import { ScrapeMetrics } from '@pynomaly/shared';
import { fitIsolationForest, buildReferenceProfile, scoreIsolationForest } from '@pynomaly/algorithms';
import { buildApp, type AppDeps } from '../src/app.js';
import { FakeOperatorStore } from './fake-operator-store.js';
import { FakeStore } from './fake-store.js';

/** A key with every ordinary scope (admin includes write and read). */
export const API_KEY = 'unit-test-key-admin';
/** The Alertmanager webhook's credential: alerts:write and nothing else. */
export const ALERTS_KEY = 'unit-test-key-alertmanager';
export const TEST_KEYS: ApiKeyEntry[] = [
  { name: 'unit-admin', scopes: ['admin'], keys: [API_KEY] },
  { name: 'unit-alertmanager', scopes: ['alerts:write'], keys: [ALERTS_KEY] },
];

export async function testApp(overrides: Partial<AppDeps> = {}) {
  const store = (overrides.store as FakeStore | undefined) ?? new FakeStore();
  const app = await buildApp({
    store,
    operator: new FakeOperatorStore(store),
    auth: { apiKeys: TEST_KEYS, authDisabled: false, scrapeTokens: [] },
    scrape: new ScrapeMetrics({ emitter: 'api', version: 'test', environment: 'test', runtimeMetrics: false }),
    readiness: { postgres: async () => {} },
    version: 'test',
    logger: false,
    rateLimit: false,
    ...overrides,
  });
  return { app, store };
}

/** Seeds a dataset + detector, optionally with a trained model, straight into the fake store. */
export async function seed(store: FakeStore, trained: boolean) {
  const rows: number[][] = Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i), i % 7]);
  const data = Float64Array.from(rows.flat());
  const matrix = { data, rows: rows.length, cols: 3 };
  const ds = await store.createDataset({ name: 'seed', featureNames: ['a', 'b', 'c'], matrix, sourceFormat: 'json' });
  const det = await store.createDetector({
    name: 'seed',
    datasetId: ds.id,
    algorithm: 'isolation_forest',
    parameters: { nEstimators: 20, seed: 1 },
    driftThresholds: {},
  });
  if (trained) {
    const model = fitIsolationForest(matrix, { nEstimators: 20, seed: 1 });
    const record: ModelRecord = {
      id: randomUUID(),
      detectorId: det.id,
      version: 1,
      jobId: randomUUID(),
      algorithm: 'isolation_forest',
      featureNames: ['a', 'b', 'c'],
      threshold: model.threshold,
      trainedRows: rows.length,
      model,
      referenceProfile: buildReferenceProfile(matrix, scoreIsolationForest(model, matrix), {
        threshold: model.threshold,
      }),
      createdAt: new Date(),
    };
    store.models.set(record.id, record);
  }
  store.writes = 0;
  return { dataset: ds, detector: det };
}
