/** DELETE routes and their cascade rules, on the in-memory store (the SQL is exercised in e2e). */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { ModelRecord } from '@pynomaly/shared';
import { API_KEY, seed, testApp } from './helpers.js';
import type { FakeStore } from './fake-store.js';

let app: FastifyInstance;
let store: FakeStore;
beforeAll(async () => {
  ({ app, store } = await testApp());
});
afterAll(() => app.close());

const call = (method: 'DELETE' | 'GET' | 'POST', url: string) =>
  app.inject({ method, url, headers: { 'x-api-key': API_KEY } });

describe('DELETE /api/v1/datasets/:id', () => {
  it('deletes an unused dataset (204), then 404', async () => {
    const ds = await store.createDataset({
      name: 'lone',
      featureNames: ['a'],
      matrix: { data: Float64Array.of(1, 2), rows: 2, cols: 1 },
      sourceFormat: 'json',
    });
    expect((await call('DELETE', `/api/v1/datasets/${ds.id}`)).statusCode).toBe(204);
    const again = await call('DELETE', `/api/v1/datasets/${ds.id}`);
    expect(again.statusCode).toBe(404);
    expect(again.json().message).toBe(`dataset ${ds.id} not found`);
  });

  it('refuses a dataset in use with 409 naming its detectors; cascade=true deletes them with it', async () => {
    const { dataset, detector } = await seed(store, true);
    const refused = await call('DELETE', `/api/v1/datasets/${dataset.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'in_use' });
    expect(refused.json().message).toContain(detector.id);
    expect(refused.json().message).toContain('cascade=true');
    expect(store.writes).toBe(0);
    expect((await call('DELETE', `/api/v1/datasets/${dataset.id}?cascade=true`)).statusCode).toBe(204);
    expect(store.detectors.has(detector.id)).toBe(false);
    expect([...store.models.values()].some((m) => m.detectorId === detector.id)).toBe(false);
    expect((await call('GET', `/api/v1/detectors/${detector.id}`)).statusCode).toBe(404);
  });

  it('says what is wrong with a bad cascade value or id', async () => {
    const { dataset } = await seed(store, false);
    const bad = await call('DELETE', `/api/v1/datasets/${dataset.id}?cascade=yes`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/cascade/);
    expect((await call('DELETE', '/api/v1/datasets/not-a-uuid')).statusCode).toBe(400);
  });
});

describe('DELETE /api/v1/detectors/:id', () => {
  it('refuses while a training job is queued or running (409 naming it), deletes once it finished', async () => {
    const { detector } = await seed(store, true);
    const train = await call('POST', `/api/v1/detectors/${detector.id}/train`);
    expect(train.statusCode).toBe(202);
    const jobId = train.json().id as string;
    const refused = await call('DELETE', `/api/v1/detectors/${detector.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'jobs_in_flight' });
    expect(refused.json().message).toContain(jobId);
    store.jobs.get(jobId)!.state = 'succeeded';
    expect((await call('DELETE', `/api/v1/detectors/${detector.id}`)).statusCode).toBe(204);
    expect(store.jobs.has(jobId)).toBe(false);
    expect((await call('DELETE', `/api/v1/detectors/${detector.id}`)).statusCode).toBe(404);
  });
});

describe('DELETE /api/v1/models/:id', () => {
  it("refuses the detector's latest model (409) and deletes an older version (204)", async () => {
    const { detector } = await seed(store, true);
    const v1 = [...store.models.values()].find((m) => m.detectorId === detector.id)!;
    const v2: ModelRecord = { ...v1, id: randomUUID(), version: 2, jobId: randomUUID() };
    store.models.set(v2.id, v2);
    const listed = await call('GET', `/api/v1/detectors/${detector.id}/models`);
    expect(listed.json().items.map((m: { version: number }) => m.version)).toEqual([2, 1]);
    expect(listed.json().items[0]).not.toHaveProperty('model');
    const refused = await call('DELETE', `/api/v1/models/${v2.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'latest_model' });
    expect(refused.json().message).toMatch(/version 2, the latest/);
    expect((await call('DELETE', `/api/v1/models/${v1.id}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/v1/models/${v1.id}`)).statusCode).toBe(404);
  });
});

describe('OpenAPI', () => {
  it('documents the DELETE routes with their 204, 404 and 409 answers', async () => {
    const doc = (await call('GET', '/docs/json')).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>>;
    };
    for (const path of ['/api/v1/datasets/{id}', '/api/v1/detectors/{id}', '/api/v1/models/{id}']) {
      expect(Object.keys(doc.paths[path]!.delete!.responses).sort(), path).toEqual(['204', '404', '409']);
    }
    expect(doc.paths['/api/v1/datasets/{id}']!.delete!.parameters!.map((p) => p.name)).toContain('cascade');
  });
});
