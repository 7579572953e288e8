import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildReferenceProfile,
  compareToReference,
  DEFAULT_DRIFT_SETTINGS,
  LEGACY_THRESHOLDS,
  fitIsolationForest,
  ksTwoSample,
  psi,
  psiBand,
  quantileCuts,
  binFractions,
  scoreIsolationForest,
  wasserstein1,
  type Matrix,
} from '../src/index.js';
import { genDataset, genSample } from './generators.js';

const finiteDouble = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const sample = fc.array(finiteDouble, { minLength: 1, maxLength: 60 }).map((a) => Float64Array.from(a));
const tieSample = fc
  .array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 60 })
  .map((a) => Float64Array.from(a));

describe('KS properties', () => {
  it('statistic in [0,1], p-value in [0,1], symmetric in its arguments', () => {
    fc.assert(
      fc.property(fc.oneof(sample, tieSample), fc.oneof(sample, tieSample), (a, b) => {
        const r = ksTwoSample(a, b);
        const s = ksTwoSample(b, a);
        expect(r.statistic).toBeGreaterThanOrEqual(0);
        expect(r.statistic).toBeLessThanOrEqual(1);
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
        expect(s.statistic).toBe(r.statistic);
        expect(s.pValue).toBeCloseTo(r.pValue, 12);
      }),
      { numRuns: 200 },
    );
  });

  it('identical samples give D = 0 and p = 1; disjoint samples give D = 1', () => {
    fc.assert(
      fc.property(sample, (a) => {
        expect(ksTwoSample(a, Float64Array.from(a).reverse())).toEqual({ statistic: 0, pValue: 1 });
        const shifted = a.map((v) => v + 3e6);
        expect(ksTwoSample(a, shifted).statistic).toBe(1);
      }),
      { numRuns: 100 },
    );
  });

  it('knows a textbook exact value', () => {
    // Fully separated samples of 5: P(D_{5,5} >= 1) = 2 / C(10,5) = 2/252.
    const r = ksTwoSample(Float64Array.from([1, 2, 3, 4, 5]), Float64Array.from([6, 7, 8, 9, 10]));
    expect(r.statistic).toBe(1);
    expect(r.pValue).toBeCloseTo(2 / 252, 15);
  });

  it('rejects empty and non-finite samples', () => {
    expect(() => ksTwoSample(new Float64Array(0), Float64Array.of(1))).toThrow(/must not be empty/);
    expect(() => ksTwoSample(Float64Array.of(1), new Float64Array(0))).toThrow(/second sample must not be empty/);
    expect(() => ksTwoSample(Float64Array.of(NaN), Float64Array.of(1))).toThrow(/not finite/);
  });
});

describe('Wasserstein-1 properties', () => {
  it('is symmetric, non-negative, and a shift by c costs |c|', () => {
    fc.assert(
      fc.property(sample, sample, fc.double({ min: -100, max: 100, noNaN: true }), (a, b, c) => {
        const w = wasserstein1(a, b);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(wasserstein1(b, a)).toBeCloseTo(w, 6);
        const scale = Math.max(1, ...Array.from(a, Math.abs));
        expect(
          Math.abs(
            wasserstein1(
              a,
              a.map((v) => v + c),
            ) - Math.abs(c),
          ),
        ).toBeLessThanOrEqual(1e-9 * scale);
      }),
      { numRuns: 200 },
    );
  });

  it('between point masses is their distance, and rejects empty input', () => {
    expect(wasserstein1(Float64Array.of(2), Float64Array.of(-3))).toBe(5);
    expect(wasserstein1(Float64Array.of(0, 1), Float64Array.of(0, 1))).toBe(0);
    expect(() => wasserstein1(new Float64Array(0), Float64Array.of(1))).toThrow(/must not be empty/);
  });
});

describe('PSI', () => {
  it('is 0 for the reference itself and never negative', () => {
    fc.assert(
      fc.property(fc.oneof(sample, tieSample), fc.oneof(sample, tieSample), (ref, cur) => {
        const cuts = quantileCuts(Float64Array.from(ref).sort(), 10);
        const fr = binFractions(cuts, ref);
        expect(psi(cuts, fr, ref)).toBe(0);
        expect(psi(cuts, fr, cur)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 200 },
    );
  });

  it('bins every value by the number of cuts strictly below it, for any number of cuts', () => {
    // 1..9 cuts take the unrolled comparison tree, more take the binary search: both must agree
    // with a plain count, including values equal to a cut and values outside the cut range.
    const withInf = fc.oneof(finiteDouble, fc.constant(Infinity), fc.constant(-Infinity));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 14 }),
        fc.array(fc.oneof(fc.integer({ min: -22, max: 22 }), withInf), { minLength: 1, maxLength: 80 }),
        (cutList, vals) => {
          const cuts = [...cutList].sort((a, b) => a - b);
          const values = Float64Array.from(vals);
          const expected = new Array<number>(cuts.length + 1).fill(0);
          for (const v of values) expected[cuts.filter((c) => c < v).length]! += 1 / values.length;
          const got = binFractions(cuts, values);
          expect(got).toHaveLength(cuts.length + 1);
          got.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 12));
        },
      ),
      { numRuns: 300 },
    );
    expect(() => binFractions([0, 1], Float64Array.of(0.5, NaN))).toThrow(/index 1 is NaN/);
    expect(() => binFractions([...Array(12).keys()], Float64Array.of(NaN))).toThrow(/index 0 is NaN/);
  });

  it('uses open outer bins, the epsilon floor, and the design bands', () => {
    const cuts = [0];
    // Reference all in the lower bin; current all above: both bins floored at 1e-4.
    const v = psi(cuts, [1, 0], Float64Array.of(5, 6, 7));
    expect(v).toBeCloseTo(2 * (1 - 1e-4) * Math.log(1 / 1e-4), 12);
    expect(psiBand(0.05)).toBe('none');
    expect(psiBand(0.2)).toBe('moderate');
    expect(psiBand(0.3)).toBe('major');
    expect(() => psi([0, 1], [0.5, 0.5], Float64Array.of(1))).toThrow(/3 reference fractions/);
    expect(() => psi([0], [0.5, 0.5], new Float64Array(0))).toThrow(/must not be empty/);
  });

  it('collapses tied quantiles of a constant feature to one cut (two bins)', () => {
    expect(quantileCuts(Float64Array.of(4, 4, 4, 4), 10)).toEqual([4]);
  });
});

function shiftColumns(x: Matrix, cols: number[], by: number): Matrix {
  const data = Float64Array.from(x.data);
  for (let r = 0; r < x.rows; r++) for (const c of cols) data[r * x.cols + c]! += by;
  return { data, rows: x.rows, cols: x.cols };
}

const train = genDataset({
  name: 'train',
  seed: 21,
  d: 4,
  clusters: [{ center: [0, 0, 0, 0], scale: 1, count: 3000 }],
  outliers: { kind: 'uniform', count: 0, low: 0, high: 0 },
}).x;
const fresh = genDataset({
  name: 'fresh',
  seed: 22,
  d: 4,
  clusters: [{ center: [0, 0, 0, 0], scale: 1, count: 500 }],
  outliers: { kind: 'uniform', count: 0, low: 0, high: 0 },
}).x;
const model = fitIsolationForest(train, { seed: 1, contamination: 0.05 });
const profile = buildReferenceProfile(train, scoreIsolationForest(model, train), {
  threshold: model.threshold,
  sampleSize: 1000,
});

describe('reference profile', () => {
  it('is bounded, JSON-plain, reproducible, and records the training anomaly rate', () => {
    expect(profile.rows).toBe(3000);
    expect(profile.sampleSize).toBe(1000);
    expect(profile.features).toHaveLength(4);
    for (const f of profile.features) {
      expect(f.sample).toHaveLength(1000);
      expect(f.fractions).toHaveLength(f.cuts.length + 1);
      expect(f.fractions.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      expect(Math.abs(f.mean)).toBeLessThan(0.1);
      expect(f.std).toBeGreaterThan(0.9);
    }
    expect(profile.anomalyRate).toBeCloseTo(0.05, 3);
    expect(JSON.parse(JSON.stringify(profile))).toEqual(profile);
    const again = buildReferenceProfile(train, scoreIsolationForest(model, train), {
      threshold: model.threshold,
      sampleSize: 1000,
    });
    expect(again).toEqual(profile);
  });

  it('rejects mismatched scores', () => {
    expect(() => buildReferenceProfile(train, new Float64Array(3))).toThrow(/expected 3000 scores, got 3/);
  });
});

describe('compareToReference', () => {
  it('finds no drift in fresh data from the training distribution', () => {
    const r = compareToReference(profile, fresh, scoreIsolationForest(model, fresh));
    expect(r.mode).toBe('calibrated');
    expect(r.method).toBe('ks');
    expect(r.windowSize).toBe(500);
    expect(r.driftedFeatures).toBe(0);
    expect(r.datasetDrift).toBe(false);
    expect(r.score.drifted).toBe(false);
    expect(r.anomalyRate!.drifted).toBe(false);
    for (const f of r.features) expect(f.psiBand).toBe('none');
    expect(r.thresholds).toMatchObject(DEFAULT_DRIFT_SETTINGS);
    expect(r.featureDrift).toBe(false);
    // The earlier raw rule (Evidently's defaults) is still available on request.
    const raw = compareToReference(profile, fresh, scoreIsolationForest(model, fresh), LEGACY_THRESHOLDS);
    expect(raw.mode).toBe('thresholds');
    expect(raw.method).toBe('wasserstein');
  });

  it('flags shifted features, the data set, the score distribution and the anomaly rate', () => {
    const drifted = shiftColumns(fresh, [0, 2], 1.5);
    const r = compareToReference(profile, drifted, scoreIsolationForest(model, drifted));
    expect(r.features.map((f) => f.drifted)).toEqual([true, false, true, false]);
    expect(r.features[0]!.psiBand).toBe('major');
    expect(r.features[0]!.wassersteinNormalized).toBeGreaterThan(1);
    expect(r.driftShare).toBe(0.5);
    expect(r.datasetDrift).toBe(true);
    expect(r.score.drifted).toBe(true);
    expect(r.anomalyRate!.current).toBeGreaterThan(r.anomalyRate!.reference + 0.05);
    expect(r.anomalyRate!.drifted).toBe(true);
    // Raw thresholds can be set per detector.
    expect(
      compareToReference(profile, drifted, scoreIsolationForest(model, drifted), { driftShare: 0.75 }).datasetDrift,
    ).toBe(false);
  });

  it('gives the same report for a profile restored from JSON', () => {
    const drifted = shiftColumns(fresh, [3], 0.4);
    const scores = scoreIsolationForest(model, drifted);
    const restored = JSON.parse(JSON.stringify(profile)) as typeof profile;
    expect(compareToReference(restored, drifted, scores)).toEqual(compareToReference(profile, drifted, scores));
  });

  it('with raw thresholds, uses the KS p-value for references of at most 1000 rows', () => {
    const small: Matrix = { data: train.data.slice(0, 800 * 4), rows: 800, cols: 4 };
    const p = buildReferenceProfile(small, scoreIsolationForest(model, small));
    expect(p.threshold).toBeNull();
    const same = compareToReference(p, fresh, scoreIsolationForest(model, fresh), { sizeCutoff: 1000 });
    expect(same.method).toBe('ks');
    expect(same.anomalyRate).toBeNull();
    const shifted = shiftColumns(fresh, [1], 0.3);
    const r = compareToReference(p, shifted, scoreIsolationForest(model, shifted), { sizeCutoff: 1000 });
    expect(r.features[1]!.ksPValue).toBeLessThan(0.05);
    expect(r.features[1]!.drifted).toBe(true);
    expect(r.features.filter((f) => f.drifted).length).toBe(r.driftedFeatures);
  });

  it('handles a constant feature (std floored) and rejects bad windows', () => {
    const rows = genSample({ seed: 5, n: 200, kind: 'normal', loc: 0, scale: 1 });
    const data = new Float64Array(400);
    for (let i = 0; i < 200; i++) {
      data[2 * i] = rows[i]!;
      data[2 * i + 1] = 7;
    }
    const x: Matrix = { data, rows: 200, cols: 2 };
    const p = buildReferenceProfile(x, new Float64Array(200));
    const w: Matrix = { data: data.slice(0, 100), rows: 50, cols: 2 };
    const r = compareToReference(p, w, new Float64Array(50));
    expect(r.features[1]!.psi).toBe(0);
    expect(r.features[1]!.wassersteinNormalized).toBe(0);
    expect(() => compareToReference(p, { data: new Float64Array(3), rows: 1, cols: 3 }, new Float64Array(1))).toThrow(
      /3 features, the reference profile has 2/,
    );
    expect(() => compareToReference(p, w, new Float64Array(2))).toThrow(/expected 50 scores/);
    expect(() => compareToReference(p, { data: new Float64Array(0), rows: 0, cols: 2 }, new Float64Array(0))).toThrow(
      /at least one row/,
    );
  });
});
