import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAINING_BUDGET, loadConfig, trainingBudgetViolation } from '../src/index.js';

const MAX_ROWS = 200_000;

describe('trainingBudgetViolation', () => {
  it('admits the defaults on the largest dataset and 1000 trees of 256 samples', () => {
    const shape = { rows: MAX_ROWS, cols: 8 };
    expect(trainingBudgetViolation('isolation_forest', {}, shape, DEFAULT_TRAINING_BUDGET)).toBeUndefined();
    expect(
      trainingBudgetViolation('isolation_forest', { nEstimators: 1000 }, shape, DEFAULT_TRAINING_BUDGET),
    ).toBeUndefined();
    expect(trainingBudgetViolation('robust_zscore', {}, { rows: MAX_ROWS, cols: 50 }, DEFAULT_TRAINING_BUDGET)).toBe(
      undefined,
    );
  });

  it("refuses the schema's largest parameters by the model size, naming the setting", () => {
    const msg = trainingBudgetViolation(
      'isolation_forest',
      { nEstimators: 1000, maxSamples: 100_000 },
      { rows: MAX_ROWS, cols: 8 },
      DEFAULT_TRAINING_BUDGET,
    );
    expect(msg).toMatch(/TRAINING_MAX_MODEL_NODES is 2\.00e\+6/);
    expect(msg).toMatch(/fewer trees \(nEstimators\)/);
  });

  it('refuses by work when the model is small but the run is long', () => {
    const msg = trainingBudgetViolation(
      'isolation_forest',
      { nEstimators: 1000, maxSamples: 256 },
      { rows: MAX_ROWS, cols: 8 },
      { maxWork: 1e9, maxModelNodes: 1e9 },
    );
    expect(msg).toMatch(/TRAINING_MAX_WORK is 1\.00e\+9/);
    expect(msg).toMatch(/200000 rows × 8 features/);
  });

  it('is read from the environment with the documented defaults', () => {
    const base = { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'k:9092' };
    expect(loadConfig('training-worker', base).training.budget).toEqual(DEFAULT_TRAINING_BUDGET);
    const set = loadConfig('api', { ...base, PYNOMALY_AUTH_DISABLED: 'true', TRAINING_MAX_WORK: '2e9' });
    expect(set.training.budget.maxWork).toBe(2e9);
    expect(() => loadConfig('training-worker', { ...base, TRAINING_MAX_WORK: '-1' })).toThrow(/TRAINING_MAX_WORK/);
  });
});
