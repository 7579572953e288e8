import { describe, expect, it } from 'vitest';
import {
  averagePathLength,
  fitIsolationForest,
  fitRobustZScore,
  labelScores,
  matrixFromRows,
  scoreIsolationForest,
  scoreRobustZScore,
  type IsolationForestParams,
  type Matrix,
} from '../src/index.js';
import { genDataset } from './generators.js';

const blobs = genDataset({
  name: 'unit',
  seed: 7,
  d: 3,
  clusters: [{ center: [0, 0, 0], scale: 1, count: 600 }],
  outliers: { kind: 'uniform', count: 30, low: -8, high: 8 },
});

describe('averagePathLength (c(n) of Liu et al.)', () => {
  it('matches the closed form and its small cases', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // scikit-learn's _average_path_length([256]) and ([100])
    expect(averagePathLength(256)).toBeCloseTo(10.244770920119917, 13);
    expect(averagePathLength(100)).toBeCloseTo(8.364671030072245, 13);
  });
});

describe('Isolation Forest', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    const a = fitIsolationForest(blobs.x, { seed: 3 });
    const b = fitIsolationForest(blobs.x, { seed: 3 });
    const c = fitIsolationForest(blobs.x, { seed: 4 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(scoreIsolationForest(a, blobs.x)).toEqual(scoreIsolationForest(b, blobs.x));
    expect(scoreIsolationForest(a, blobs.x)).not.toEqual(scoreIsolationForest(c, blobs.x));
  });

  it('scores a row the same alone as in any batch (blocked, interleaved scoring)', () => {
    const model = fitIsolationForest(blobs.x, { seed: 8 });
    const all = scoreIsolationForest(model, blobs.x);
    for (const start of [0, 1, 5, 127, 128, 629]) {
      for (const len of [1, 3, 4, 7, 8, 9, 17]) {
        const rows = Math.min(len, blobs.x.rows - start);
        const part = { data: blobs.x.data.slice(start * 3, (start + rows) * 3), rows, cols: 3 };
        expect(Array.from(scoreIsolationForest(model, part))).toEqual(Array.from(all.slice(start, start + rows)));
      }
    }
  });

  it('equals a plain walk of the serialised node table (leaf test per node, tree order sum)', () => {
    // 5000 samples give trees deeper than the implicit (heap) layout takes: that checks the
    // linked-layout fallback; the default 256 samples take the heap layout.
    const wide = {
      data: Float64Array.from({ length: 5200 * 2 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(i / 7)),
      rows: 5200,
      cols: 2,
    };
    const cases: [Matrix, IsolationForestParams, (deepest: number) => boolean][] = [
      [blobs.x, { seed: 3, nEstimators: 40 }, (d) => d <= 8],
      [wide, { seed: 4, nEstimators: 3, maxSamples: 5000 }, (d) => d > 12],
    ];
    for (const [x, params, depthOk] of cases) {
      let deepest = 0;
      const model = fitIsolationForest(x, params);
      const c = averagePathLength(model.maxSamples);
      const got = scoreIsolationForest(model, x);
      for (let r = 0; r < x.rows; r++) {
        let sum = 0;
        for (const root of model.roots) {
          let node = root;
          for (let d = 1; model.feature[node]! >= 0; d++) {
            deepest = Math.max(deepest, d);
            const v = x.data[r * x.cols + model.feature[node]!]!;
            node = model.left[node]! + (v > model.value[node]! ? 1 : 0);
          }
          sum += model.value[node]!;
        }
        expect(got[r]).toBe(Math.pow(2, sum * (-1 / (model.roots.length * c))));
      }
      expect(depthOk(deepest)).toBe(true);
    }
  });

  it('survives a JSON round trip with identical scores', () => {
    const model = fitIsolationForest(blobs.x, { seed: 1 });
    const copy = JSON.parse(JSON.stringify(model)) as typeof model;
    expect(scoreIsolationForest(copy, blobs.x)).toEqual(scoreIsolationForest(model, blobs.x));
  });

  it('uses the documented sizes and scores in (0, 1]', () => {
    const model = fitIsolationForest(blobs.x, { seed: 1, nEstimators: 50 });
    expect(model.nEstimators).toBe(50);
    expect(model.roots).toHaveLength(50);
    expect(model.maxSamples).toBe(256);
    expect(model.maxDepth).toBe(8);
    const scores = scoreIsolationForest(model, blobs.x);
    for (const s of scores) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    const small = fitIsolationForest({ data: blobs.x.data.slice(0, 300), rows: 100, cols: 3 });
    expect(small.maxSamples).toBe(100);
    expect(small.maxDepth).toBe(7);
  });

  it('sets the threshold at the contamination quantile of the training scores', () => {
    for (const contamination of [0.05, 0.1, 0.2]) {
      const model = fitIsolationForest(blobs.x, { seed: 2, contamination });
      const labels = labelScores(scoreIsolationForest(model, blobs.x), model.threshold);
      const flagged = labels.reduce((s, v) => s + v, 0);
      expect(Math.abs(flagged - contamination * blobs.x.rows)).toBeLessThanOrEqual(1);
    }
  });

  it('scores a far point above the centre', () => {
    const model = fitIsolationForest(blobs.x, { seed: 5 });
    const s = scoreIsolationForest(
      model,
      matrixFromRows([
        [0, 0, 0],
        [20, -20, 20],
      ]),
    );
    expect(s[1]!).toBeGreaterThan(0.6);
    expect(s[0]!).toBeLessThan(0.5);
  });

  it('handles a single row and identical rows (no split possible: every score 0.5)', () => {
    const one = fitIsolationForest(matrixFromRows([[1, 2]]));
    expect(
      Array.from(
        scoreIsolationForest(
          one,
          matrixFromRows([
            [1, 2],
            [9, 9],
          ]),
        ),
      ),
    ).toEqual([0.5, 0.5]);
    const same = fitIsolationForest(matrixFromRows(Array.from({ length: 50 }, () => [3, 3])));
    // Each root is a leaf of 50 rows: 2^(-c(50)/c(50)) = 0.5 up to rounding.
    for (const s of scoreIsolationForest(
      same,
      matrixFromRows([
        [3, 3],
        [100, -100],
      ]),
    ))
      expect(s).toBeCloseTo(0.5, 14);
  });

  it('ignores a constant feature when splitting', () => {
    const rows = Array.from({ length: 300 }, (_, i) => [7, Math.sin(i) * 3]);
    const model = fitIsolationForest(matrixFromRows(rows), { seed: 9 });
    expect(model.feature.every((f) => f === -1 || f === 1)).toBe(true);
  });

  it('rejects bad input with clear errors', () => {
    const empty: Matrix = { data: new Float64Array(0), rows: 0, cols: 2 };
    expect(() => fitIsolationForest(empty)).toThrow(/at least one row/);
    expect(() => fitIsolationForest(matrixFromRows([[1, NaN]]))).toThrow(/not finite/);
    expect(() => fitIsolationForest({ data: new Float64Array(3), rows: 2, cols: 2 })).toThrow(/rows\*cols/);
    expect(() => fitIsolationForest(blobs.x, { contamination: 0.7 })).toThrow(/contamination/);
    expect(() => fitIsolationForest(blobs.x, { nEstimators: 0 })).toThrow(/nEstimators/);
    const model = fitIsolationForest(blobs.x, { nEstimators: 5 });
    expect(() => scoreIsolationForest(model, matrixFromRows([[1, 2]]))).toThrow(/3 features, input has 2/);
    expect(() => scoreIsolationForest(model, matrixFromRows([[1, 2, Infinity]]))).toThrow(/not finite/);
  });
});

describe('robust z-score', () => {
  it('scores known values with median/MAD and the 1.4826 scale', () => {
    const model = fitRobustZScore(matrixFromRows([[1], [2], [3], [4], [100]]));
    expect(model.median).toEqual([3]);
    expect(model.scale).toEqual([1.4826]);
    expect(model.threshold).toBe(3.5);
    const s = scoreRobustZScore(model, matrixFromRows([[3], [1], [100], [-3]]));
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(2 / 1.4826, 12);
    expect(s[2]).toBeCloseTo(97 / 1.4826, 12);
    expect(s[3]).toBeCloseTo(6 / 1.4826, 12);
    expect(Array.from(labelScores(s, model.threshold))).toEqual([0, 0, 1, 1]);
  });

  it('takes the largest |z| across features', () => {
    const model = fitRobustZScore(
      matrixFromRows([
        [0, 10],
        [1, 20],
        [2, 30],
        [3, 40],
        [4, 50],
      ]),
      { threshold: 2 },
    );
    // medians 2 and 30; MADs 1 and 10
    expect(model.scale[0]).toBe(1.4826);
    expect(model.scale[1]).toBeCloseTo(14.826, 12);
    const s = scoreRobustZScore(model, matrixFromRows([[2, 60]]));
    expect(s[0]).toBeCloseTo(30 / 14.826, 12);
  });

  it('falls back to the mean absolute deviation when the MAD is 0, and handles constant features', () => {
    const m = fitRobustZScore(
      matrixFromRows([
        [5, 1],
        [5, 1],
        [5, 1],
        [5, 1],
        [6, 1],
      ]),
    );
    expect(m.median).toEqual([5, 1]);
    expect(m.scale[0]).toBeCloseTo(1.2533141373155001 * 0.2, 15);
    expect(m.scale[1]!).toBeGreaterThan(0);
    const s = scoreRobustZScore(
      m,
      matrixFromRows([
        [5, 1],
        [5, 2],
      ]),
    );
    expect(s[0]).toBe(0);
    expect(s[1]!).toBeGreaterThan(1e6);
    expect(Number.isFinite(s[1]!)).toBe(true);
  });

  it('works on one row and rejects bad input', () => {
    const m = fitRobustZScore(matrixFromRows([[4, 2]]));
    expect(Array.from(scoreRobustZScore(m, matrixFromRows([[4, 2]])))).toEqual([0]);
    expect(() => fitRobustZScore({ data: new Float64Array(0), rows: 0, cols: 1 })).toThrow(/at least one row/);
    expect(() => fitRobustZScore(matrixFromRows([[1]]), { threshold: -1 })).toThrow(/threshold/);
    expect(() => scoreRobustZScore(m, matrixFromRows([[1]]))).toThrow(/2 features, input has 1/);
  });
});

describe('labelScores', () => {
  it('labels strictly above the threshold', () => {
    expect(Array.from(labelScores(Float64Array.from([0.1, 0.5, 0.50001, 0.9]), 0.5))).toEqual([0, 0, 1, 1]);
    expect(() => labelScores(new Float64Array(1), NaN)).toThrow(/threshold/);
  });
});
