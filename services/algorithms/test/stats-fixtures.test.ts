// KS, Wasserstein and PSI against scipy/numpy values computed by
// scripts/fixtures/make_algorithm_fixtures.py on the same seeded data.
import { describe, expect, it } from 'vitest';
import ksJson from './fixtures/ks_wasserstein.json' with { type: 'json' };
import psiJson from './fixtures/psi.json' with { type: 'json' };
import { ksTwoSample, psi, quantileCuts, binFractions, wasserstein1 } from '../src/index.js';
import { genSample, neumaierSum, type SampleSpec } from './generators.js';

type Checksum = { first: number[]; sum: number };
type KsCase = {
  name: string;
  a: SampleSpec;
  b: SampleSpec;
  checksumA: Checksum;
  checksumB: Checksum;
  statistic: number;
  pValue: number;
  wasserstein: number;
};
type PsiCase = {
  name: string;
  reference: SampleSpec;
  current: SampleSpec;
  cuts: number[];
  referenceFractions: number[];
  psi: number;
};

const ks = ksJson as unknown as { cases: KsCase[] };
const psiFx = psiJson as unknown as { bins: number; epsilon: number; cases: PsiCase[] };

function checkGenerator(values: Float64Array, c: Checksum): void {
  expect(Array.from(values.slice(0, 3))).toEqual(c.first);
  expect(Math.abs(neumaierSum(values) - c.sum)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(c.sum)));
}

describe('ksTwoSample matches scipy.stats.ks_2samp', () => {
  it('covers exact and asymptotic regimes, equal and unequal sizes, ties', () => {
    const names = ks.cases.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['small-equal', 'ties-medium', 'exact-edge', 'asymp-large', 'asymp-smalln']),
    );
  });
  for (const c of ks.cases) {
    it(`${c.name} (n=${c.a.n}, m=${c.b.n})`, () => {
      const a = genSample(c.a);
      const b = genSample(c.b);
      checkGenerator(a, c.checksumA);
      checkGenerator(b, c.checksumB);
      const r = ksTwoSample(a, b);
      expect(Math.abs(r.statistic - c.statistic)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(r.pValue - c.pValue)).toBeLessThanOrEqual(1e-6);
      // Argument order must not matter.
      const s = ksTwoSample(b, a);
      expect(s.statistic).toBe(r.statistic);
      expect(Math.abs(s.pValue - r.pValue)).toBeLessThanOrEqual(1e-12);
    });
  }
});

describe('wasserstein1 matches scipy.stats.wasserstein_distance', () => {
  for (const c of ks.cases) {
    it(c.name, () => {
      const w = wasserstein1(genSample(c.a), genSample(c.b));
      expect(Math.abs(w - c.wasserstein)).toBeLessThanOrEqual(1e-9);
    });
  }
});

describe('psi matches the numpy reference computation', () => {
  for (const c of psiFx.cases) {
    it(c.name, () => {
      const ref = genSample(c.reference);
      const cur = genSample(c.current);
      const cuts = quantileCuts(Float64Array.from(ref).sort(), psiFx.bins);
      expect(cuts).toEqual(c.cuts);
      const fractions = binFractions(cuts, ref);
      expect(fractions).toEqual(c.referenceFractions);
      expect(Math.abs(psi(cuts, fractions, cur) - c.psi)).toBeLessThanOrEqual(1e-12);
    });
  }
});
