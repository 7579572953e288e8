/**
 * Table-driven bad input: each request gets the right 4xx with a message naming the problem, and
 * nothing is written (the fake store counts writes).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ALERTS_KEY, API_KEY, seed, testApp } from './helpers.js';
import type { FakeStore } from './fake-store.js';

let app: FastifyInstance;
let store: FakeStore;
let trainedId: string;
let untrainedId: string;
let datasetId: string;

beforeAll(async () => {
  ({ app, store } = await testApp({ limits: { datasetJsonBytes: 4096, detectBytes: 2048, uploadBytes: 2048 } }));
  const trained = await seed(store, true);
  const untrained = await seed(store, false);
  trainedId = trained.detector.id;
  untrainedId = untrained.detector.id;
  datasetId = trained.dataset.id;
  store.writes = 0;
});
afterAll(() => app.close());

async function multipart(fields: Record<string, string>, file: { name: string; content: string; type?: string }) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([file.content], { type: file.type ?? 'text/csv' }), file.name);
  const req = new Request('http://localhost/', { method: 'POST', body: fd });
  return { payload: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type')! };
}

type Case = {
  name: string;
  method?: 'GET' | 'POST';
  url: () => string;
  headers?: Record<string, string>;
  body?: unknown | (() => unknown);
  raw?: string | Buffer;
  contentType?: string;
  csv?: string;
  status: number;
  message: RegExp;
};

const json = 'application/json';
const cases: Case[] = [
  {
    name: 'malformed JSON',
    url: () => '/api/v1/datasets',
    raw: '{"name": "x", "rows": [[1,',
    contentType: json,
    status: 400,
    message: /malformed JSON/,
  },
  { name: 'empty JSON body', url: () => '/api/v1/datasets', raw: '', contentType: json, status: 400, message: /body/ },
  {
    name: 'wrong type',
    url: () => '/api/v1/datasets',
    body: { name: 42, featureNames: ['a'], rows: [[1]] },
    status: 400,
    message: /body\.name: .*expected string/,
  },
  {
    name: 'string cell',
    url: () => '/api/v1/datasets',
    body: { name: 'x', featureNames: ['a'], rows: [['1']] },
    status: 400,
    message: /body\.rows\[0\]\[0\]: .*expected number/,
  },
  {
    name: 'missing field',
    url: () => '/api/v1/datasets',
    body: { name: 'x', featureNames: ['a'] },
    status: 400,
    message: /body\.rows: /,
  },
  {
    name: 'duplicate feature names',
    url: () => '/api/v1/datasets',
    body: { name: 'x', featureNames: ['a', 'a'], rows: [[1, 2]] },
    status: 400,
    message: /body\.featureNames: feature names must be unique/,
  },
  {
    name: 'ragged rows',
    url: () => '/api/v1/datasets',
    body: { name: 'x', featureNames: ['a', 'b'], rows: [[1, 2], [3]] },
    status: 422,
    message: /body\.rows\[1\]: has 1 values but there are 2 features/,
  },
  {
    name: 'Infinity (1e999)',
    url: () => '/api/v1/datasets',
    raw: '{"name":"x","featureNames":["a"],"rows":[[1],[1e999]]}',
    contentType: json,
    status: 422,
    message: /body\.rows\[1\]\[0\]: must be a finite number/,
  },
  {
    name: 'NaN literal',
    url: () => '/api/v1/datasets',
    raw: '{"name":"x","featureNames":["a"],"rows":[[NaN]]}',
    contentType: json,
    status: 400,
    message: /malformed JSON/,
  },
  {
    name: 'oversize body',
    url: () => '/api/v1/datasets',
    raw: JSON.stringify({ name: 'x', featureNames: ['a'], rows: Array.from({ length: 2000 }, () => [1.5]) }),
    contentType: json,
    status: 413,
    message: /larger than the limit/,
  },
  {
    name: 'wrong content type',
    url: () => '/api/v1/datasets',
    raw: 'a,b\n1,2',
    contentType: 'text/csv',
    status: 415,
    message: /content-type text\/csv is not supported/,
  },
  {
    name: 'text/plain',
    url: () => '/api/v1/datasets',
    raw: 'hello',
    contentType: 'text/plain',
    status: 415,
    message: /text\/plain/,
  },
  {
    name: 'JSON to the CSV upload',
    url: () => '/api/v1/datasets/upload',
    body: { name: 'x' },
    status: 415,
    message: /multipart\/form-data/,
  },
  {
    name: 'a body that claims to be multipart but is not',
    url: () => '/api/v1/datasets/upload',
    raw: 'this is not a multipart body',
    contentType: 'multipart/form-data; boundary=x',
    status: 400,
    message: /malformed multipart\/form-data/,
  },
  {
    name: 'CSV with NaN',
    url: () => '/api/v1/datasets/upload',
    csv: 'a,b\n1,2\nNaN,3\n',
    status: 422,
    message: /row 2, column a: "NaN" is not a finite number/,
  },
  {
    name: 'CSV with text',
    url: () => '/api/v1/datasets/upload',
    csv: 'a,b\n1,x\n',
    status: 422,
    message: /row 1, column b: "x" is not a finite number/,
  },
  {
    name: 'CSV ragged',
    url: () => '/api/v1/datasets/upload',
    csv: 'a,b\n1,2\n3\n',
    status: 422,
    message: /not valid CSV/,
  },
  {
    name: 'CSV oversize',
    url: () => '/api/v1/datasets/upload',
    csv: 'a,b\n' + '1.25,2.5\n'.repeat(400),
    status: 413,
    message: /larger than the limit/,
  },
  {
    name: 'CSV cell over the character limit',
    url: () => '/api/v1/datasets/upload',
    csv: `a\n${'1'.repeat(300)}\n`,
    status: 422,
    message: /row 1, column 1: a cell has 300 characters, the limit is 256 \(API_CSV_MAX_CELL_CHARS\)/,
  },
  {
    name: 'JSON nested too deep',
    url: () => '/api/v1/datasets',
    raw: '{"name":"x","featureNames":["a"],"rows":[[[[[[[[1]]]]]]]]}',
    contentType: json,
    status: 413,
    message: /nested deeper than 8 levels \(API_JSON_MAX_DEPTH\)/,
  },
  {
    name: 'many invalid cells: listed up to the limit, the rest counted',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    body: { rows: Array.from({ length: 30 }, () => ['x', 'y', 'z']) },
    status: 400,
    message: /body\.rows\[0\]\[0\]: expected number, received string; .*\(and 70 more issues\)$/,
  },
  {
    name: 'missing API key',
    url: () => '/api/v1/datasets',
    headers: { 'x-api-key': '' },
    body: { name: 'x', featureNames: ['a'], rows: [[1]] },
    status: 401,
    message: /missing API key/,
  },
  {
    name: 'wrong API key',
    url: () => '/api/v1/datasets',
    headers: { 'x-api-key': 'wrong' },
    body: { name: 'x', featureNames: ['a'], rows: [[1]] },
    status: 401,
    message: /API key is not valid/,
  },
  {
    name: 'unknown dataset',
    url: () => '/api/v1/detectors',
    body: { name: 'd', datasetId: randomUUID(), algorithm: 'isolation_forest' },
    status: 404,
    message: /dataset [0-9a-f-]{36} not found/,
  },
  {
    name: 'unknown algorithm',
    url: () => '/api/v1/detectors',
    body: () => ({ name: 'd', datasetId, algorithm: 'lof' }),
    status: 400,
    message: /body\.algorithm/,
  },
  {
    name: 'unknown parameter',
    url: () => '/api/v1/detectors',
    body: () => ({ name: 'd', datasetId, algorithm: 'isolation_forest', parameters: { trees: 5 } }),
    status: 400,
    message: /body\.parameters: .*trees/,
  },
  {
    name: 'contamination out of range',
    url: () => '/api/v1/detectors',
    body: () => ({ name: 'd', datasetId, algorithm: 'isolation_forest', parameters: { contamination: 0.9 } }),
    status: 400,
    message: /body\.parameters\.contamination/,
  },
  {
    name: 'drift falseAlarmRate out of range',
    url: () => '/api/v1/detectors',
    body: () => ({ name: 'd', datasetId, algorithm: 'isolation_forest', driftThresholds: { falseAlarmRate: 0.5 } }),
    status: 400,
    message: /body\.driftThresholds\.falseAlarmRate/,
  },
  {
    name: 'drift persistence that can never be met',
    url: () => '/api/v1/detectors',
    body: () => ({
      name: 'd',
      datasetId,
      algorithm: 'robust_zscore',
      driftThresholds: { persistenceWindows: 2, persistenceRequired: 3 },
    }),
    status: 400,
    message: /body\.driftThresholds\.persistenceRequired: persistenceRequired must not exceed persistenceWindows/,
  },
  {
    name: 'maxSamples above rows',
    url: () => '/api/v1/detectors',
    body: () => ({ name: 'd', datasetId, algorithm: 'isolation_forest', parameters: { maxSamples: 5000 } }),
    status: 422,
    message: /body\.parameters\.maxSamples: 5000 exceeds/,
  },
  {
    name: 'malformed id',
    method: 'GET',
    url: () => '/api/v1/jobs/not-a-uuid',
    status: 400,
    message: /params\.id: must be a UUID/,
  },
  {
    name: 'unknown job',
    method: 'GET',
    url: () => `/api/v1/jobs/${randomUUID()}`,
    status: 404,
    message: /job [0-9a-f-]{36} not found/,
  },
  {
    name: 'unknown detector (train)',
    url: () => `/api/v1/detectors/${randomUUID()}/train`,
    status: 404,
    message: /detector [0-9a-f-]{36} not found/,
  },
  {
    name: 'unknown detector (detect)',
    url: () => `/api/v1/detectors/${randomUUID()}/detect`,
    body: { rows: [[1, 2, 3]] },
    status: 404,
    message: /detector .* not found/,
  },
  {
    name: 'untrained detector',
    url: () => `/api/v1/detectors/${untrainedId}/detect`,
    body: { rows: [[1, 2, 3]] },
    status: 409,
    message: /has no trained model yet/,
  },
  {
    name: 'feature-count mismatch',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    body: {
      rows: [
        [1, 2, 3],
        [1, 2],
      ],
    },
    status: 422,
    message: /body\.rows\[1\]: has 2 values but the model was trained on 3 features \(a, b, c\)/,
  },
  {
    name: 'detect Infinity',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    raw: '{"rows":[[1,-1e999,3]]}',
    contentType: json,
    status: 422,
    message: /body\.rows\[0\]\[1\]: must be a finite number/,
  },
  {
    name: 'detect empty rows',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    body: { rows: [] },
    status: 400,
    message: /body\.rows/,
  },
  {
    name: 'detect oversize',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    body: { rows: Array.from({ length: 300 }, () => [1.5, 2.5, 3.5]) },
    status: 413,
    message: /larger than the limit/,
  },
  {
    name: 'train with unexpected body',
    url: () => `/api/v1/detectors/${trainedId}/train`,
    body: { force: true },
    status: 400,
    message: /body: .*force/,
  },
  {
    name: 'webhook without alerts',
    url: () => '/api/v1/alerts/webhook',
    headers: { 'x-api-key': ALERTS_KEY },
    body: { version: '4', status: 'firing' },
    status: 400,
    message: /body\.groupKey/,
  },
  { name: 'bad limit', method: 'GET', url: () => '/api/v1/alerts?limit=0', status: 400, message: /querystring\.limit/ },
  {
    name: 'unknown route',
    method: 'GET',
    url: () => '/api/v1/nothing-here',
    status: 404,
    message: /route GET \/api\/v1\/nothing-here not found/,
  },
];

describe('bad input', () => {
  it.each(cases)('$name → $status', async (c) => {
    const headers: Record<string, string> = { 'x-api-key': API_KEY, ...c.headers };
    if (headers['x-api-key'] === '') delete headers['x-api-key'];
    let payload: string | Buffer | undefined;
    if (c.csv !== undefined) {
      const mp = await multipart({ name: 'upload' }, { name: 'data.csv', content: c.csv });
      payload = mp.payload;
      headers['content-type'] = mp.contentType;
    } else if (c.raw !== undefined) {
      payload = c.raw;
      if (c.contentType) headers['content-type'] = c.contentType;
    } else if (c.body !== undefined) {
      payload = JSON.stringify(typeof c.body === 'function' ? (c.body as () => unknown)() : c.body);
      headers['content-type'] = json;
    }
    const before = store.writes;
    const r = await app.inject({
      method: c.method ?? 'POST',
      url: c.url(),
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    expect({ status: r.statusCode, message: r.json().message }).toMatchObject({
      status: c.status,
      message: expect.stringMatching(c.message),
    });
    expect(r.json()).toMatchObject({ statusCode: c.status, code: expect.any(String), error: expect.any(String) });
    expect(store.writes).toBe(before);
  });
});

describe('good input (the same routes do write)', () => {
  it('stores a CSV upload', async () => {
    const mp = await multipart({ name: 'from-csv' }, { name: 'data.csv', content: 'x,y\n1,2\n3.5,-4e2\n' });
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/datasets/upload',
      headers: { 'x-api-key': API_KEY, 'content-type': mp.contentType },
      payload: mp.payload,
    });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ name: 'from-csv', featureNames: ['x', 'y'], rowCount: 2, sourceFormat: 'csv' });
    expect([...store.datasets.get(r.json().id)!.data]).toEqual([1, 2, 3.5, -400]);
  });

  it('scores with the latest model and queues the detections for drift monitoring', async () => {
    const before = store.detections.length;
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/detectors/${trainedId}/detect`,
      headers: { 'x-api-key': API_KEY },
      payload: {
        rows: [
          [0, 1, 0],
          [50, -50, 99],
        ],
      },
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.scores).toHaveLength(2);
    expect(body.scores[1]).toBeGreaterThan(body.scores[0]);
    expect(body.labels[1]).toBe(1);
    expect(store.detections.length).toBe(before + 1);
    expect(store.detections.at(-1)!.payload).toMatchObject({
      rows: [
        [0, 1, 0],
        [50, -50, 99],
      ],
      scores: body.scores,
      labels: body.labels,
    });
  });

  it('answers 202 with a queued job for training', async () => {
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/detectors/${untrainedId}/train`,
      headers: { 'x-api-key': API_KEY },
    });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ state: 'queued', detectorId: untrainedId });
    expect(r.headers.location).toBe(`/api/v1/jobs/${r.json().id}`);
    const job = await app.inject({ url: r.headers.location as string, headers: { 'x-api-key': API_KEY } });
    expect(job.json().state).toBe('queued');
  });

  it('stores Alertmanager webhook alerts', async () => {
    const alert = {
      status: 'firing',
      labels: { alertname: 'DataDriftDetected', severity: 'warning', detector_id: trainedId },
      annotations: { summary: 'drift' },
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus/graph',
      fingerprint: 'abc123',
    };
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/webhook',
      headers: { authorization: `Bearer ${ALERTS_KEY}` },
      payload: {
        version: '4',
        groupKey: 'g',
        status: 'firing',
        receiver: 'pynomaly',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://am',
        alerts: [alert],
      },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ stored: 1 });
    const list = await app.inject({ url: '/api/v1/alerts', headers: { 'x-api-key': API_KEY } });
    expect(list.json().items[0]).toMatchObject({
      alertname: 'DataDriftDetected',
      severity: 'warning',
      status: 'firing',
      endsAt: null,
    });
  });
});
