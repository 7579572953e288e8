// A closer look at one stationary cell of drift.calibration: many reference draws with fewer
// windows each, so that the binomial standard error is not understated by windows sharing a
// reference. Prints the dataset- and feature-level false-alarm rates with the binomial and the
// between-reference standard errors, and the rate of each part of the decision (the feature-level
// KS test and the Cramér–von Mises sum, each at its share of the rate, DECISION_BUDGET).
// Usage: npx tsx bench/drift-null-check.ts <family> <reference rows> <window rows> [references] [windows per reference] [seed]
import { buildReferenceProfile, compareToReference } from '@pynomaly/algorithms';
import { FAMILIES, generate, rowScores, type Family } from './lib/drift-data.js';

const [familyArg, refArg, winArg, refsArg, perRefArg, seedArg] = process.argv.slice(2);
const family = familyArg as Family;
if (!FAMILIES.includes(family)) throw new Error(`family must be one of ${FAMILIES.join(', ')}`);
const refRows = Number(refArg);
const windowRows = Number(winArg);
const refs = Number(refsArg ?? 30);
const perRef = Number(perRefArg ?? 40);
let seed = Number(seedArg ?? 7) * 1_000_003;

const perReference: { dataset: number; feature: number; combination: number }[] = [];
for (let r = 0; r < refs; r++) {
  const ref = generate(family, refRows, 10, seed++);
  const profile = buildReferenceProfile(ref, rowScores(ref));
  const c = { dataset: 0, feature: 0, combination: 0 };
  for (let w = 0; w < perRef; w++) {
    const x = generate(family, windowRows, 10, seed++);
    const res = compareToReference(profile, x, rowScores(x), { falseAlarmRate: 0.01 });
    if (res.datasetDrift) c.dataset++;
    if (res.featureDrift) c.feature++;
    if (res.combined?.drifted) c.combination++;
  }
  perReference.push(c);
}

const windows = refs * perRef;
function rate(key: 'dataset' | 'feature' | 'combination'): string {
  const p = perReference.reduce((a, c) => a + c[key], 0) / windows;
  const binomial = Math.sqrt(Math.max(p * (1 - p), 1 / windows) / windows);
  const between = perReference.reduce((a, c) => a + (c[key] / perRef - p) ** 2, 0) / (refs - 1);
  return `${(100 * p).toFixed(2)} % ± ${(100 * binomial).toFixed(2)} (binomial SE) / ± ${(100 * Math.sqrt(between / refs)).toFixed(2)} (between-reference SE)`;
}
console.log(
  `${family}, reference ${refRows}, window ${windowRows}: ${refs} references × ${perRef} windows = ${windows}; dataset ${rate('dataset')}; feature ${rate('feature')}; Cramér–von Mises sum alone ${rate('combination')}`,
);
