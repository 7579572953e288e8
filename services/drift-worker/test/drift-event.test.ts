// The drift worker's pure parts: detector settings split into window settings and persistence, and
// the drift.detected payload, which must parse with the event schema (and old payloads still must).
import { randomUUID } from 'node:crypto';
import { buildReferenceProfile, compareToReference, mulberry32, persistentDrift } from '@pynomaly/algorithms';
import { makeEvent, parseEvent, type ModelRecord } from '@pynomaly/shared';
import { describe, expect, it } from 'vitest';
import { eventPayload } from '../src/handler.js';
import { detectorDriftSettings } from '../src/settings.js';

describe('detectorDriftSettings', () => {
  it('defaults to the calibrated decision with persistence 2 of 3', () => {
    expect(detectorDriftSettings({})).toEqual({ window: {}, persistence: { windows: 3, required: 2 } });
    expect(detectorDriftSettings(undefined).persistence).toEqual({ windows: 3, required: 2 });
  });

  it('passes the algorithm settings on, keeps persistence apart, drops unknown keys', () => {
    const s = detectorDriftSettings({
      falseAlarmRate: 0.001,
      ksPValue: 0.01,
      persistenceWindows: 5,
      persistenceRequired: 3,
      somethingElse: 1,
    });
    expect(s).toEqual({ window: { falseAlarmRate: 0.001, ksPValue: 0.01 }, persistence: { windows: 5, required: 3 } });
  });
});

describe('drift.detected payload', () => {
  const rows = 600;
  const data = new Float64Array(rows * 2);
  const rand = mulberry32(5);
  for (let i = 0; i < data.length; i++) data[i] = rand();
  const profile = buildReferenceProfile({ data, rows, cols: 2 }, new Float64Array(rows), {
    calibration: { draws: 2000 },
  });
  const model = {
    id: randomUUID(),
    detectorId: randomUUID(),
    version: 3,
    featureNames: ['a', 'b'],
    referenceProfile: profile,
  } as unknown as ModelRecord;

  it('carries per-feature p-values, effect sizes, thresholds and sizes, and parses with the event schema', () => {
    const w = new Float64Array(400);
    for (let i = 0; i < 200; i++) {
      w[2 * i] = data[2 * i]! + 0.5;
      w[2 * i + 1] = data[2 * i + 1]!;
    }
    const result = compareToReference(profile, { data: w, rows: 200, cols: 2 }, new Float64Array(200));
    const persistence = persistentDrift({ datasetDrift: result.datasetDrift, driftedFeatures: ['a'] }, [
      { datasetDrift: true, driftedFeatures: ['a'] },
    ]);
    const payload = eventPayload(result, model.featureNames, persistence, { id: randomUUID(), windowRows: 200 }, model);
    expect(payload).toMatchObject({
      signals: ['dataset', 'feature'],
      featureDrift: true,
      persistentDatasetDrift: true,
      persistentFeatures: ['a'],
      referenceRows: 600,
      falseAlarmRate: 0.01,
      featureAlpha: 0.0025,
      mode: 'calibrated',
      calibration: 'bootstrap',
    });
    expect(payload.features[0]).toMatchObject({ name: 'a', drifted: true, effectSize: 'large' });
    expect(payload.features[0]!.pValueHolm).toBeLessThanOrEqual(0.0025);
    const raw = JSON.stringify(makeEvent('drift.detected', model.detectorId, payload));
    const parsed = parseEvent(raw, ['drift.detected']);
    expect(parsed.ok).toBe(true);
  });

  it('still accepts a payload written before the calibrated decision', () => {
    const old = makeEvent('drift.detected', model.detectorId, {
      reportId: randomUUID(),
      modelId: model.id,
      modelVersion: 1,
      windowRows: 500,
      driftShare: 0.5,
      datasetDrift: true,
      scoreDrift: false,
      anomalyRateDrift: false,
      driftedFeatures: ['a'],
    });
    expect(parseEvent(JSON.stringify(old), ['drift.detected']).ok).toBe(true);
  });
});
