import { describe, expect, it } from 'vitest';
import {
  estimateTrainingCost,
  fitIsolationForest,
  IFOREST_DEFAULTS,
  matrixFromRows,
  scoringStepWeight,
} from '../src/index.js';

describe('estimateTrainingCost', () => {
  it('grows linearly in trees and rows for an isolation forest (the scoring passes dominate)', () => {
    const base = estimateTrainingCost('isolation_forest', { nEstimators: 100 }, { rows: 100_000, cols: 8 });
    const trees = estimateTrainingCost('isolation_forest', { nEstimators: 1000 }, { rows: 100_000, cols: 8 });
    const rows = estimateTrainingCost('isolation_forest', { nEstimators: 100 }, { rows: 200_000, cols: 8 });
    expect(trees.work / base.work).toBeGreaterThan(9);
    expect(trees.work / base.work).toBeLessThan(10.1);
    expect(rows.work / base.work).toBeGreaterThan(1.9);
    expect(rows.work / base.work).toBeLessThan(2.2);
  });

  it('uses the algorithm defaults for parameters that are not given', () => {
    const implicit = estimateTrainingCost('isolation_forest', {}, { rows: 5000, cols: 3 });
    const explicit = estimateTrainingCost(
      'isolation_forest',
      { nEstimators: IFOREST_DEFAULTS.nEstimators, maxSamples: IFOREST_DEFAULTS.maxSamples },
      { rows: 5000, cols: 3 },
    );
    expect(implicit).toEqual(explicit);
  });

  it('bounds the model size from above: never fewer nodes than a fitted forest has', () => {
    const rows: number[][] = [];
    for (let i = 0; i < 3000; i++) rows.push([Math.sin(i), Math.cos(i * 1.3), (i % 17) / 17]);
    const x = matrixFromRows(rows);
    for (const p of [{ nEstimators: 10, maxSamples: 64 }, { nEstimators: 5, maxSamples: 3000 }, {}]) {
      const model = fitIsolationForest(x, p);
      const cost = estimateTrainingCost('isolation_forest', p, { rows: x.rows, cols: x.cols });
      expect(cost.modelNodes).toBeGreaterThanOrEqual(model.feature.length);
      // and not wildly above it: within the factor a random tree leaves unbuilt.
      expect(cost.modelNodes).toBeLessThan(model.feature.length * 4);
    }
  });

  it('clips maxSamples to the rows as the fit does', () => {
    const a = estimateTrainingCost('isolation_forest', { maxSamples: 100_000 }, { rows: 1000, cols: 2 });
    const b = estimateTrainingCost('isolation_forest', { maxSamples: 1000 }, { rows: 1000, cols: 2 });
    expect(a).toEqual(b);
  });

  it('has no model nodes for a robust z-score and grows with rows and features', () => {
    const small = estimateTrainingCost('robust_zscore', {}, { rows: 10_000, cols: 5 });
    const wide = estimateTrainingCost('robust_zscore', {}, { rows: 10_000, cols: 50 });
    expect(small.modelNodes).toBe(0);
    expect(wide.work).toBeGreaterThan(small.work * 8);
  });
});

describe('scoringStepWeight', () => {
  it('is 1 while trees fit the cache and grows by two per doubling beyond', () => {
    expect(scoringStepWeight(511)).toBe(1);
    expect(scoringStepWeight(1)).toBe(1);
    expect(scoringStepWeight(8191)).toBeCloseTo(9, 2);
    expect(scoringStepWeight(16383) - scoringStepWeight(8191)).toBeCloseTo(2, 2);
  });
});
