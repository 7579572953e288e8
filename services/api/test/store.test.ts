import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeEvent, MAX_EVENT_BYTES, type Pool, type Topics } from '@pynomaly/shared';
import { assertScoredShape, chunkDetections, detectionsJsonUpperBound, PgStore } from '../src/store.js';

describe('chunkDetections', () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => [i * 1.000001, -i / 3, Math.PI * i]);
  const payload = {
    modelId: randomUUID(),
    modelVersion: 1,
    featureNames: ['a', 'b', 'c'],
    rows,
    scores: rows.map((_, i) => i / 10_000),
    labels: rows.map((_, i) => (i % 2) as 0 | 1),
  };

  it('keeps a small request as one event', () => {
    expect(
      chunkDetections({
        ...payload,
        rows: rows.slice(0, 3),
        scores: payload.scores.slice(0, 3),
        labels: payload.labels.slice(0, 3),
      }),
    ).toHaveLength(1);
  });

  it('splits a large request into valid events under the size limit, in order', () => {
    const parts = chunkDetections(payload, 64 * 1024);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((p) => p.rows)).toEqual(rows);
    expect(parts.flatMap((p) => p.scores)).toEqual(payload.scores);
    expect(parts.flatMap((p) => p.labels)).toEqual(payload.labels);
    for (const p of parts) {
      const encoded = JSON.stringify(makeEvent('detections.scored', randomUUID(), p));
      expect(Buffer.byteLength(encoded)).toBeLessThan(MAX_EVENT_BYTES['detections.scored']);
    }
  });
});

describe('PgStore model reads', () => {
  /** A pool that answers the three model queries from a table of models and counts body reads. */
  function fakePool(models: Record<string, { detectorId: string; storedBytes: number }>) {
    const reads: string[] = [];
    const query = async (sql: string, params: unknown[]) => {
      const arg = params[0] as string;
      if (sql.includes('"latestModelId"')) {
        const id = Object.keys(models).find((k) => models[k]!.detectorId === arg);
        return { rows: [{ id: arg, latestModelId: id ?? null }] };
      }
      if (sql.includes('octet_length')) return { rows: models[arg] ? [{ bytes: models[arg].storedBytes }] : [] };
      reads.push(arg);
      await new Promise((r) => setTimeout(r, 5));
      return { rows: [{ id: arg, detectorId: models[arg]!.detectorId, version: 1 }] };
    };
    return { pool: { query } as unknown as Pool, reads };
  }
  const topics = {} as Topics;
  const latestModel = async (store: PgStore, detectorId: string) => (await store.detectorForScoring(detectorId))?.model;

  it('refuses a model larger than API_MODEL_MAX_BYTES without reading its body', async () => {
    const { pool, reads } = fakePool({ m1: { detectorId: 'd1', storedBytes: 2000 } });
    const store = new PgStore(pool, topics, () => {}, { cacheBytes: 1e9, maxStoredBytes: 1000 });
    await expect(latestModel(store, 'd1')).rejects.toMatchObject({
      statusCode: 422,
      code: 'model_too_large',
      message: expect.stringMatching(/2000 bytes of JSON, more than the 1000 bytes .*API_MODEL_MAX_BYTES/),
    });
    expect(reads).toEqual([]);
  });

  it('reads an uncached model once for concurrent requests, then serves it from the cache', async () => {
    const { pool, reads } = fakePool({ m1: { detectorId: 'd1', storedBytes: 100 } });
    const store = new PgStore(pool, topics, () => {}, { cacheBytes: 1e6, maxStoredBytes: 1000 });
    const got = await Promise.all(Array.from({ length: 5 }, () => latestModel(store, 'd1')));
    expect(got.every((m) => m?.id === 'm1')).toBe(true);
    await latestModel(store, 'd1');
    expect(reads).toEqual(['m1']);
  });

  it('keeps models within the byte budget (stored bytes × the heap factor)', async () => {
    const { pool, reads } = fakePool({
      m1: { detectorId: 'd1', storedBytes: 100 },
      m2: { detectorId: 'd2', storedBytes: 100 },
    });
    // Room for one model of 100 stored bytes (400 estimated heap bytes), not two.
    const store = new PgStore(pool, topics, () => {}, { cacheBytes: 700, maxStoredBytes: 1000 });
    await latestModel(store, 'd1');
    await latestModel(store, 'd2');
    await latestModel(store, 'd1');
    expect(reads).toEqual(['m1', 'm2', 'm1']);
  });
});

describe('detectionsJsonUpperBound', () => {
  it('is never below the JSON size, for the longest numbers JSON prints', () => {
    // Computed, as literals this long would be rounded: -0.0000013141592653589793 is the longest.
    const extremes = [
      -(1e-6 + Math.PI * 1e-7),
      -Math.PI * 1e-300,
      -Number.MAX_VALUE,
      -Math.PI * 1e20,
      -Number.MIN_VALUE,
      0,
      1,
    ];
    expect(Math.max(...extremes.map((x) => JSON.stringify(x).length))).toBe(25);
    const rows = Array.from({ length: 50 }, (_, i) => extremes.map((x, j) => (i % 2 ? x : extremes[(j + i) % 7]!)));
    const payload = {
      modelId: randomUUID(),
      modelVersion: 2147483647,
      featureNames: ['ä "quoted" \\ name', 'b', 'c', 'd', 'e', 'f', 'g'],
      rows,
      scores: rows.map((_, i) => extremes[i % 7]!),
      labels: rows.map((_, i) => (i % 2) as 0 | 1),
    };
    const actual = Buffer.byteLength(JSON.stringify(payload));
    expect(detectionsJsonUpperBound(payload)).toBeGreaterThanOrEqual(actual);
  });

  it('is close enough for ordinary scores that a request well under the limit stays one event', () => {
    const rows = Array.from({ length: 100 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 8 + j) * 3));
    const payload = {
      modelId: randomUUID(),
      modelVersion: 1,
      featureNames: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'],
      rows,
      scores: rows.map((_, i) => 0.4 + Math.cos(i) / 10),
      labels: rows.map((_, i) => (i % 2) as 0 | 1),
    };
    const actual = Buffer.byteLength(JSON.stringify(payload));
    expect(detectionsJsonUpperBound(payload)).toBeGreaterThanOrEqual(actual);
    expect(detectionsJsonUpperBound(payload)).toBeLessThan(actual * 1.5);
  });
});

describe('assertScoredShape', () => {
  const base = { modelId: randomUUID(), modelVersion: 1, featureNames: ['a'], rows: [[1], [2]] };
  it('accepts finite scores lined up with the rows', () => {
    expect(() => assertScoredShape({ ...base, scores: [0.1, 0.9], labels: [0, 1] })).not.toThrow();
  });
  it('refuses a non-finite score or lengths that do not line up', () => {
    expect(() => assertScoredShape({ ...base, scores: [0.1, NaN], labels: [0, 1] })).toThrow(/not finite/);
    expect(() => assertScoredShape({ ...base, scores: [0.1], labels: [0, 1] })).toThrow(/2 rows but 1 scores/);
  });
});
