import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeEvent, parseEvent, topicNames } from '../src/events/index.js';

const detectorId = randomUUID();
const requested = () =>
  makeEvent('training.requested', detectorId, {
    jobId: randomUUID(),
    datasetId: randomUUID(),
    algorithm: 'isolation_forest',
    parameters: { nEstimators: 10 },
  });

describe('event envelopes', () => {
  it('round-trips a valid event through JSON', () => {
    const e = requested();
    const parsed = parseEvent(Buffer.from(JSON.stringify(e)), ['training.requested']);
    expect(parsed).toEqual({ ok: true, event: e });
    expect(e.version).toBe(1);
    expect(new Date(e.occurredAt).toISOString()).toBe(e.occurredAt);
  });

  it('classifies failures with the reasons the DLQ headers carry', () => {
    const e = requested();
    expect(parseEvent(Buffer.from('{not json'), ['training.requested'])).toMatchObject({
      ok: false,
      reason: 'unparseable',
    });
    expect(parseEvent(null, ['training.requested'])).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(parseEvent(JSON.stringify({ ...e, version: 2 }), ['training.requested'])).toMatchObject({
      ok: false,
      reason: 'unsupported_version',
    });
    expect(parseEvent(JSON.stringify(e), ['detections.scored'])).toMatchObject({
      ok: false,
      reason: 'unexpected_type',
    });
    const missing = parseEvent(JSON.stringify({ ...e, payload: { ...e.payload, jobId: 'x' } }), ['training.requested']);
    expect(missing).toMatchObject({ ok: false, reason: 'invalid_schema' });
    expect(!missing.ok && missing.error).toMatch(/payload\.jobId/);
    const noDetector = parseEvent(JSON.stringify({ ...e, detectorId: undefined }), ['training.requested']);
    expect(!noDetector.ok && noDetector.error).toMatch(/detectorId/);
  });

  it('rejects scored rows whose lengths disagree', () => {
    const base = {
      modelId: randomUUID(),
      modelVersion: 1,
      featureNames: ['a', 'b'],
      rows: [[1, 2]],
      scores: [0.5],
      labels: [0],
    };
    expect(() => makeEvent('detections.scored', detectorId, { ...base, rows: [[1]] } as never)).toThrow(/expected 2/);
    expect(() => makeEvent('detections.scored', detectorId, { ...base, scores: [] } as never)).toThrow(/same length/);
    expect(makeEvent('detections.scored', detectorId, base as never).payload.rows).toEqual([[1, 2]]);
  });

  it('a prevalidated payload is not parsed again on the way out, and the consumer still refuses it if it is bad', () => {
    const bad = {
      modelId: randomUUID(),
      modelVersion: 1,
      featureNames: ['a', 'b'],
      rows: [[1]],
      scores: [],
      labels: [],
    };
    const e = makeEvent('detections.scored', detectorId, bad as never, { prevalidated: true });
    expect(e.payload).toBe(bad);
    const read = parseEvent(JSON.stringify(e), ['detections.scored']);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.reason).toBe('invalid_schema');
  });

  it('prefixes topic names', () => {
    expect(topicNames('x')).toMatchObject({ 'training.requested': 'x.training.requested', dlq: 'x.dlq' });
  });
});

describe('event size limits', () => {
  it('rejects an oversized control event before parsing it', () => {
    const e = makeEvent('training.requested', detectorId, {
      jobId: randomUUID(),
      datasetId: randomUUID(),
      algorithm: 'isolation_forest',
      parameters: { padding: 'x'.repeat(100 * 1024) },
    });
    const r = parseEvent(JSON.stringify(e), ['training.requested']);
    expect(r).toMatchObject({ ok: false, reason: 'oversized' });
    expect(!r.ok && r.error).toMatch(/at most 65536/);
  });
});
