import { describe, expect, it } from 'vitest';
import { MIN_TRAINING_ROWS, trainModel, TrainingRejected } from '../src/train.js';

function matrix(rows: number, cols: number, f: (i: number, j: number) => number) {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = f(i, j);
  return { data, rows, cols };
}

describe('trainModel', () => {
  it('fits an isolation forest and profiles the training data', () => {
    const x = matrix(300, 2, (i, j) => Math.sin(i * (j + 1)));
    const t = trainModel('isolation_forest', { nEstimators: 25, seed: 3 }, x);
    expect(t.trainedRows).toBe(300);
    expect(t.referenceProfile.rows).toBe(300);
    expect(t.referenceProfile.features).toHaveLength(2);
    expect(t.referenceProfile.threshold).toBe(t.threshold);
    expect(t.threshold).toBeGreaterThan(0);
    expect(t.threshold).toBeLessThanOrEqual(1);
    // Deterministic for a seed: the same request trains the same model.
    expect(JSON.stringify(trainModel('isolation_forest', { nEstimators: 25, seed: 3 }, x).model)).toBe(
      JSON.stringify(t.model),
    );
  });

  it('fits a robust z-score with its configured threshold', () => {
    const x = matrix(50, 3, (i, j) => i + j);
    const t = trainModel('robust_zscore', { threshold: 4 }, x);
    expect(t.threshold).toBe(4);
    expect((t.model as { kind: string }).kind).toBe('robust_zscore');
  });

  it('rejects too few rows with a reason a user can act on', () => {
    const x = matrix(MIN_TRAINING_ROWS - 1, 2, () => 1);
    expect(() => trainModel('isolation_forest', {}, x)).toThrow(TrainingRejected);
    expect(() => trainModel('isolation_forest', {}, x)).toThrow(
      `dataset has ${MIN_TRAINING_ROWS - 1} rows; training needs at least ${MIN_TRAINING_ROWS}`,
    );
  });

  it('turns an algorithm input error into a rejection, not a retryable failure', () => {
    const x = matrix(20, 2, (i) => i);
    expect(() => trainModel('isolation_forest', { contamination: 0.9 }, x)).toThrow(/contamination must be in/);
    expect(() => trainModel('robust_zscore', { threshold: -1 }, x)).toThrow(TrainingRejected);
  });
});
