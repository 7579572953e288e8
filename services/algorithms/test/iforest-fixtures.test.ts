// Isolation Forest ROC AUC against scikit-learn's IsolationForest with the same parameters
// (100 trees, 256 samples) on the same seeded data sets.
import { describe, expect, it } from 'vitest';
import iforestJson from './fixtures/iforest.json' with { type: 'json' };
import { fitIsolationForest, scoreIsolationForest } from '../src/index.js';
import { genDataset, neumaierSum, rocAuc, type DatasetSpec } from './generators.js';

type IfCase = {
  spec: DatasetSpec;
  rows: number;
  checksum: { first: number[]; sum: number };
  sklearnAuc: number[];
  sklearnAucMean: number;
};
const fx = iforestJson as unknown as {
  params: { nEstimators: number; maxSamples: number };
  datasets: IfCase[];
};

const SEEDS = Array.from({ length: 20 }, (_, i) => i);

describe('Isolation Forest ROC AUC is within 0.02 of scikit-learn', () => {
  for (const c of fx.datasets) {
    it(`${c.spec.name} (${c.rows} x ${c.spec.d})`, () => {
      const { x, labels } = genDataset(c.spec);
      expect(x.rows).toBe(c.rows);
      expect(Array.from(x.data.slice(0, 3))).toEqual(c.checksum.first);
      expect(Math.abs(neumaierSum(x.data) - c.checksum.sum)).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(c.checksum.sum)),
      );
      // Both sides average twenty seeds: a single forest's AUC wobbles by more than the tolerance
      // on the subtle data set, for scikit-learn as much as for us.
      const aucs = SEEDS.map((seed) => {
        const model = fitIsolationForest(x, { ...fx.params, seed });
        return rocAuc(labels, scoreIsolationForest(model, x));
      });
      const mean = aucs.reduce((s, v) => s + v, 0) / aucs.length;
      console.info(
        `[iforest] ${c.spec.name}: ours ${mean.toFixed(4)} sklearn ${c.sklearnAucMean.toFixed(4)} diff ${(mean - c.sklearnAucMean).toFixed(4)}`,
      );
      expect(Math.abs(mean - c.sklearnAucMean)).toBeLessThanOrEqual(0.02);
    });
  }
});
