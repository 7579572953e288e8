import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeEvent, MAX_EVENT_BYTES } from '@pynomaly/shared';
import { chunkDetections } from '../src/store.js';

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
