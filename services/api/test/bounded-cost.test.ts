/**
 * Every request has a bounded cost whatever its body: hostile bodies at the default limits get a
 * small 4xx naming the limit, listings never load model bodies, uploads are streamed and bounded
 * in number. (Table of ordinary bad input: bad-input.test.ts.)
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_API_LIMITS } from '@pynomaly/shared';
import { readCsvDataset } from '../src/csv-dataset.js';
import { jsonShapeViolation } from '../src/json-body.js';
import { ALERTS_KEY, API_KEY, seed, testApp } from './helpers.js';
import { FakeStore } from './fake-store.js';

let app: FastifyInstance;
let store: FakeStore;
let trainedId: string;

beforeAll(async () => {
  ({ app, store } = await testApp());
  trainedId = (await seed(store, true)).detector.id;
});
afterAll(() => app.close());

async function multipart(content: string | Buffer) {
  const fd = new FormData();
  fd.append('file', new Blob([content], { type: 'text/csv' }), 'data.csv');
  const req = new Request('http://localhost/', { method: 'POST', body: fd });
  return { payload: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type')! };
}

type Case = {
  name: string;
  url: () => string;
  raw?: () => string;
  csv?: () => string;
  status: number;
  message: RegExp;
  /** Issues listed in the response, when it lists them. */
  issues?: number;
};

const MiB = 1024 * 1024;
const { maxIssues, errorMessageBytes } = DEFAULT_API_LIMITS;

const cases: Case[] = [
  {
    name: 'a million string cells in a dataset',
    url: () => '/api/v1/datasets',
    raw: () =>
      `{"name":"x","featureNames":["a","b","c","d","e"],"rows":[${Array(200_000).fill('["x","x","x","x","x"]')}]}`,
    status: 400,
    message: /body\.rows\[0\]\[0\]: expected number, received string.*\(and 999980 more issues\)/,
    issues: maxIssues,
  },
  {
    name: '800 000 nulls as rows of a detect request',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    raw: () => `{"rows":[${Array(800_000).fill('null')}]}`,
    status: 413,
    message: /more than 200000 entries/,
  },
  {
    name: 'more rows than allowed, each valid',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    raw: () => `{"rows":[${Array(150_000).fill('[1,2,3]')}]}`,
    status: 400,
    message: /body\.rows: must have at most 10000 rows \(has 150000\)/,
    issues: 1,
  },
  {
    name: 'three million values in a dataset of allowed rows and columns',
    url: () => '/api/v1/datasets',
    raw: () =>
      `{"name":"x","featureNames":[${Array.from({ length: 500 }, (_, i) => `"f${i}"`)}],"rows":[${Array(6000).fill(`[${Array(500).fill(1)}]`)}]}`,
    status: 400,
    message: /body\.rows: must have at most 2000000 values in all \(has 3000000; API_MAX_CELLS\)/,
    issues: 1,
  },
  {
    name: 'a CSV of more values than allowed',
    url: () => '/api/v1/datasets/upload',
    csv: () =>
      Array.from({ length: 100 }, (_, i) => `c${i}`).join(',') + '\n' + `${Array(100).fill(7)}\n`.repeat(25_000),
    status: 422,
    message: /has more than 2000000 values \(API_MAX_CELLS\)/,
  },
  {
    name: 'a row wider than the feature limit',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    raw: () => `{"rows":[[${Array(100_000).fill(1)}]]}`,
    status: 400,
    message: /body\.rows\[0\]: must have at most 500 values \(has 100000\)/,
    issues: 1,
  },
  {
    name: '5000 non-finite values: 20 listed, the rest counted',
    url: () => `/api/v1/detectors/${trainedId}/detect`,
    raw: () => `{"rows":[${Array(5000).fill('[1e999,1,1]')}]}`,
    status: 400,
    message: /body\.rows\[0\]\[0\]: must be a finite number.*\(and 4980 more issues\)/,
    issues: maxIssues,
  },
  {
    name: 'a million feature names',
    url: () => '/api/v1/datasets',
    raw: () => `{"name":"x","featureNames":[${Array(150_000).fill('7')}],"rows":[[1]]}`,
    status: 400,
    message: /body\.featureNames: must have at most 500 items \(has 150000\)/,
  },
  {
    name: 'an alert webhook of 100 000 empty alerts',
    url: () => '/api/v1/alerts/webhook',
    raw: () =>
      `{"version":"4","groupKey":"g","status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"x","alerts":[${Array(100_000).fill('{}')}]}`,
    status: 400,
    message: /body\.alerts: must have at most 1000 items/,
  },
  {
    name: 'a 100 000-deep array',
    url: () => '/api/v1/datasets',
    raw: () => '['.repeat(100_000) + ']'.repeat(100_000),
    status: 413,
    message: /nested deeper than 8 levels \(API_JSON_MAX_DEPTH\)/,
  },
  {
    name: 'deep nesting inside a valid-looking field',
    url: () => '/api/v1/detectors',
    raw: () => `{"name":"d","parameters":${'{"a":'.repeat(50)}1${'}'.repeat(50)}}`,
    status: 413,
    message: /API_JSON_MAX_DEPTH/,
  },
  {
    name: 'an object with 205 000 keys',
    url: () => '/api/v1/detectors',
    raw: () => `{${Array(205_000).fill('"":0')}}`,
    status: 413,
    message: /more than 200000 entries/,
  },
  {
    name: 'brackets and commas inside strings do not count',
    url: () => '/api/v1/datasets',
    raw: () => JSON.stringify({ name: '[[[[[[[[[[,,,,'.repeat(1000), featureNames: ['a'], rows: [[1]] }),
    status: 400,
    message: /body\.name: /,
  },
  {
    name: 'a key of 100 000 characters',
    url: () => '/api/v1/detectors',
    raw: () => `{"${'k'.repeat(100_000)}":1}`,
    status: 400,
    message: /body/,
  },
  {
    name: 'a CSV of many tiny lines (row limit)',
    url: () => '/api/v1/datasets/upload',
    csv: () => 'a\n' + '1\n'.repeat(250_000),
    status: 422,
    message: /has more than 200000 data rows \(API_DATASET_MAX_ROWS\)/,
  },
  {
    name: 'a CSV cell of 1000 characters',
    url: () => '/api/v1/datasets/upload',
    csv: () => `a,b\n1,${'9'.repeat(1000)}\n`,
    status: 422,
    message: /row 1, column 2: a cell has 1000 characters, the limit is 256 \(API_CSV_MAX_CELL_CHARS\)/,
  },
  {
    name: 'a CSV cell of 900 KB (one record longer than the widest row)',
    url: () => '/api/v1/datasets/upload',
    csv: () => `a,b\n1,"${'x'.repeat(900_000)}"\n`,
    status: 422,
    message: /a line is longer than 500 cells of 256 characters/,
  },
  {
    name: 'a CSV header of 5000 columns',
    url: () => '/api/v1/datasets/upload',
    csv: () => Array.from({ length: 5000 }, (_, i) => `c${i}`).join(',') + '\n' + Array(5000).fill(1).join(',') + '\n',
    status: 422,
    message: /has 5000 columns, the limit is 500 \(API_MAX_FEATURES\)/,
  },
  {
    name: 'a CSV over the byte limit',
    url: () => '/api/v1/datasets/upload',
    // Long cells, so the bytes run out before the rows or values do.
    csv: () => 'a,b\n' + `${'1'.padEnd(100, '0')},${'2'.padEnd(100, '0')}\n`.repeat(90_000),
    status: 413,
    message: /larger than the limit of 16777216 bytes \(API_UPLOAD_LIMIT_BYTES\)/,
  },
  {
    name: 'an unknown route with a 50 000-character path',
    url: () => `/api/v1/${'x'.repeat(50_000)}`,
    status: 404,
    message: /^route GET \/api\/v1\/x+…$/,
  },
];

describe('hostile bodies have a bounded cost', () => {
  it.each(cases)('$name → $status', async (c) => {
    // The webhook takes only the alerts credential; every other route the admin key.
    const headers: Record<string, string> = { 'x-api-key': c.url().endsWith('/webhook') ? ALERTS_KEY : API_KEY };
    let payload: string | Buffer | undefined;
    if (c.csv) {
      const mp = await multipart(c.csv());
      payload = mp.payload;
      headers['content-type'] = mp.contentType;
    } else if (c.raw) {
      payload = c.raw();
      headers['content-type'] = 'application/json';
    }
    const writes = store.writes;
    const r = await app.inject({ method: payload === undefined ? 'GET' : 'POST', url: c.url(), headers, payload });
    const body = r.json();
    expect({ status: r.statusCode, message: body.message }).toMatchObject({
      status: c.status,
      message: expect.stringMatching(c.message),
    });
    expect(Buffer.byteLength(body.message)).toBeLessThanOrEqual(errorMessageBytes);
    // The whole answer stays small: listed issues are capped and each is cut short.
    expect(r.rawPayload.length).toBeLessThan(errorMessageBytes + maxIssues * 500);
    if (c.issues !== undefined) expect(body.issues).toHaveLength(c.issues);
    expect(store.writes).toBe(writes);
  });

  it('the byte limits still come first (a 17 MiB dataset body is refused unread)', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/datasets',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      payload: Buffer.alloc(17 * MiB, 0x20),
    });
    expect(r.statusCode).toBe(413);
    expect(r.json().message).toBe('body: is larger than the limit of 16777216 bytes for this endpoint');
  });
});

describe('listings and model reads', () => {
  it('listing detectors and reading one never loads a model body', async () => {
    const loads = store.modelBodyLoads;
    const list = await app.inject({ url: '/api/v1/detectors?limit=500', headers: { 'x-api-key': API_KEY } });
    const one = await app.inject({ url: `/api/v1/detectors/${trainedId}`, headers: { 'x-api-key': API_KEY } });
    expect(list.statusCode).toBe(200);
    const model = [...store.models.values()].find((m) => m.detectorId === trainedId)!;
    const expected = { id: model.id, version: model.version, threshold: model.threshold };
    expect(list.json().items.find((d: { id: string }) => d.id === trainedId).latestModel).toMatchObject(expected);
    expect(one.json().latestModel).toMatchObject(expected);
    expect(store.modelBodyLoads).toBe(loads);
  });
});

describe('CSV uploads are streamed', () => {
  const limits = { maxRows: 100, maxFeatures: 500, maxCells: 10_000, maxCellChars: 256 };
  const tooLarge = () => new Error('too large');

  it('stops reading an endless file at the row limit', async () => {
    let pulled = 0;
    const endless = Readable.from(
      (function* () {
        yield 'a,b\n';
        for (;;) {
          pulled++;
          yield '1,2\n'.repeat(1000);
        }
      })(),
    );
    await expect(readCsvDataset(endless, limits, tooLarge)).rejects.toThrow(/more than 100 data rows/);
    // Refused after the first chunks, not after reading "the whole file" (which never ends).
    expect(pulled).toBeLessThan(50);
    expect(endless.destroyed).toBe(true);
  });

  it('stops at an endless line without keeping it', async () => {
    let pulled = 0;
    const endless = Readable.from(
      (function* () {
        yield 'a\n';
        for (;;) {
          pulled++;
          yield '9'.repeat(64 * 1024);
        }
      })(),
    );
    await expect(readCsvDataset(endless, limits, tooLarge)).rejects.toThrow(/a line is longer than/);
    expect(pulled).toBeLessThan(50);
  });

  it('reads a file split anywhere into chunks into one matrix', async () => {
    const text = '\ufeffx, y\n1,2\n\n3.5 ,-4e2\n';
    const chunks = text.split('').map((ch) => ch); // one character per chunk
    const { featureNames, matrix } = await readCsvDataset(Readable.from(chunks), limits, tooLarge);
    expect(featureNames).toEqual(['x', 'y']);
    expect({ rows: matrix.rows, cols: matrix.cols, data: [...matrix.data] }).toEqual({
      rows: 2,
      cols: 2,
      data: [1, 2, 3.5, -400],
    });
  });
});

describe('concurrent uploads are bounded', () => {
  it('refuses uploads beyond API_MAX_CONCURRENT_UPLOADS with 429 and takes them again after', async () => {
    const slow = new FakeStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const createDataset = slow.createDataset.bind(slow);
    slow.createDataset = async (d) => {
      await gate;
      return createDataset(d);
    };
    const { app: limited } = await testApp({ store: slow, limits: { maxConcurrentUploads: 2 } });
    try {
      const post = () =>
        limited.inject({
          method: 'POST',
          url: '/api/v1/datasets',
          headers: { 'x-api-key': API_KEY },
          payload: { name: 'x', featureNames: ['a'], rows: [[1]] },
        });
      const held = [post(), post()];
      await new Promise((r) => setTimeout(r, 50));
      const refused = await post();
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('2');
      expect(refused.json().message).toMatch(/2 dataset uploads are already being processed/);
      release();
      expect((await Promise.all(held)).map((r) => r.statusCode)).toEqual([201, 201]);
      expect((await post()).statusCode).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe('jsonShapeViolation', () => {
  const limits = { maxDepth: 3, maxItems: 4 };
  it.each([
    ['[[[1]]]', undefined],
    ['[[[[1]]]]', /deeper than 3/],
    ['[1,2,3,4]', undefined],
    ['[1,2,3,4,5]', /more than 4 entries/],
    ['{"a":1,"b":2,"c":3,"d":4,"e":5}', /more than 4 entries/],
    ['[[1,2],[3,4],[5,6],[7,8]]', undefined],
    ['["[[[[[", ",,,,,,", "\\"[[[[", 1]', undefined],
    ['[1,2,3', undefined], // malformed: left for the parser to report
  ])('%s', (text, expected) => {
    const v = jsonShapeViolation(text, limits);
    if (expected === undefined) expect(v).toBeUndefined();
    else expect(v).toMatch(expected);
  });
});
