// A hot path in a loop, for `node --cpu-prof` when its goal is missed:
// tsx bench/profile-target.ts <iforest.score|iforest.fit|drift.ks|drift.wasserstein|drift.psi>
import {
  binFractions,
  fitIsolationForest,
  ksTwoSample,
  psi,
  quantileCuts,
  scoreIsolationForest,
  wasserstein1,
} from '@pynomaly/algorithms';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anomalyData, driftPair } from './lib/data.js';

const what = process.argv[2] ?? '';
const tmp = mkdtempSync(join(tmpdir(), 'pynomaly-prof-'));
const until = Date.now() + 8_000;
try {
  if (what.startsWith('iforest')) {
    const ds = anomalyData(tmp, 20_000, 10, 5);
    const model = fitIsolationForest(ds.x, { nEstimators: 100, maxSamples: 256, seed: 7 });
    while (Date.now() < until) {
      if (what === 'iforest.fit') fitIsolationForest(ds.x, { nEstimators: 100, maxSamples: 256, seed: 7 });
      else scoreIsolationForest(model, ds.x);
    }
  } else {
    const { a, b } = driftPair(tmp, 200_000, 3);
    const edges = quantileCuts(Float64Array.from(a).sort(), 10);
    const ref = binFractions(edges, a);
    while (Date.now() < until) {
      if (what === 'drift.ks') ksTwoSample(a, b);
      else if (what === 'drift.wasserstein') wasserstein1(a, b);
      else if (what === 'drift.psi') psi(edges, ref, b);
      else throw new Error(`unknown hot path "${what}"`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
