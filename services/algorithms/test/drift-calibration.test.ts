// The calibrated drift decision: multiple-testing adjustments against statsmodels, the
// Cramér–von Mises statistic against scipy, the two-sample bootstrap calibration against the known
// asymptotic null quantiles and the exact null mean, and false-alarm / power behaviour of compareToReference.
import { describe, expect, it } from 'vitest';
import cvmJson from './fixtures/cvm.json' with { type: 'json' };
import mtJson from './fixtures/multitest.json' with { type: 'json' };
import {
  benjaminiHochbergAdjust,
  bonferroniAdjust,
  buildReferenceProfile,
  calibrateCombination,
  combinationPValue,
  combinationThreshold,
  compareToReference,
  DEFAULT_CALIBRATION_WINDOWS,
  defaultDraws,
  cvmTwoSampleSorted,
  holmAdjust,
  irwinHallNormal,
  ksTwoSample,
  mulberry32,
  tailFor,
  twoSampleNullDraws,
  type DriftCalibration,
  type Matrix,
} from '../src/index.js';
import { genSample, type SampleSpec } from './generators.js';

type MtCase = { name: string; p: number[]; bonferroni: number[]; holm: number[]; bh: number[] };
const mt = mtJson as unknown as { cases: MtCase[] };
const cvm = cvmJson as unknown as {
  cases: { name: string; a: SampleSpec; b: SampleSpec; statistic: number }[];
  asymptoticUpperQuantiles: { levels: number[]; values: number[] };
};

const sorted = (x: Float64Array) => Float64Array.from(x).sort();

describe('multiple-testing adjustments match statsmodels.stats.multitest.multipletests', () => {
  it.each(mt.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const close = (got: number[], want: number[]) => got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
    close(bonferroniAdjust(c.p), c.bonferroni);
    close(holmAdjust(c.p), c.holm);
    close(benjaminiHochbergAdjust(c.p), c.bh);
  });

  it('rejects p-values outside [0, 1]', () => {
    expect(() => holmAdjust([0.1, 1.5])).toThrow(/\[0, 1\], got 1.5/);
    expect(() => benjaminiHochbergAdjust([Number.NaN])).toThrow(/\[0, 1\]/);
  });
});

describe('Cramér–von Mises two-sample statistic', () => {
  it.each(cvm.cases.map((c) => [c.name, c] as const))('matches scipy.stats.cramervonmises_2samp: %s', (_n, c) => {
    expect(cvmTwoSampleSorted(sorted(genSample(c.a)), sorted(genSample(c.b)))).toBeCloseTo(c.statistic, 9);
  });
});

describe('two-sample bootstrap calibration of the combination statistic', () => {
  const column = (seed: number, n: number) => Array.from(genSample({ seed, n, kind: 'normal', loc: 0, scale: 1 }));
  const one = calibrateCombination([column(1, 2000)], { draws: 10000 });

  it('reproduces the asymptotic Cramér–von Mises null quantiles for one continuous feature at every window size', () => {
    const { levels, values } = cvm.asymptoticUpperQuantiles;
    expect(one.statistic).toBe('cvm_sum_2s');
    expect(one.referenceRows).toBe(2000);
    expect(one.byWindow!.map((b) => b.windowRows)).toEqual([...DEFAULT_CALIBRATION_WINDOWS]);
    // The limit does not depend on n/m: windows of 100, 500 and 2000 rows against 2000 reference rows.
    for (const { windowRows } of one.byWindow!) {
      for (const [i, level] of levels.entries()) {
        if (level > 0.1 || level < 0.005) continue;
        // Monte Carlo error of a bootstrap quantile from 10000 draws: a few percent in the tail.
        const ratio = combinationThreshold(one, level, windowRows) / values[i]!;
        expect(ratio).toBeGreaterThan(0.92);
        expect(ratio).toBeLessThan(1.08);
      }
    }
  });

  it('has the exact null mean of the two-sample statistic (Anderson 1962: (1 + 1/(n+m))/6)', () => {
    // 4000 replicates, null SD about 0.15 per replicate: standard error 0.0024; 4 SE of slack.
    for (const n of [100, 1000]) {
      const draws = twoSampleNullDraws([column(11, 1000)], n, 4000, mulberry32(3));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      expect(Math.abs(mean - (1 + 1 / (n + 1000)) / 6)).toBeLessThan(0.01);
    }
  });

  it('keeps the correlation between features: identical features add up exactly', () => {
    const c = column(2, 1500);
    const opts = { draws: 3000, seed: 5, windowSizes: [500] };
    const single = calibrateCombination([c], opts);
    const triple = calibrateCombination([c, c, c], opts);
    const independent = calibrateCombination([c, column(3, 1500), column(4, 1500)], opts);
    for (const level of [0.05, 0.01]) {
      expect(combinationThreshold(triple, level)).toBeCloseTo(3 * combinationThreshold(single, level), 9);
      // Independent features average out: a lower critical value than perfectly correlated ones.
      expect(combinationThreshold(independent, level)).toBeLessThan(0.8 * combinationThreshold(triple, level));
    }
  });

  it('judges a window with the calibrated size nearest on the scale n/(n+m)', () => {
    const cal = calibrateCombination([column(6, 1000)], { draws: 2000, windowSizes: [2000, 100, 500] });
    expect(cal.byWindow!.map((b) => b.windowRows)).toEqual([100, 500, 2000]);
    // m = 1000: shares 0.09, 0.33, 0.67.
    expect(tailFor(cal, 50).windowRows).toBe(100);
    expect(tailFor(cal, 200).windowRows).toBe(100);
    expect(tailFor(cal, 300).windowRows).toBe(500);
    expect(tailFor(cal, 900).windowRows).toBe(500);
    expect(tailFor(cal, 1500).windowRows).toBe(2000);
    expect(combinationThreshold(cal, 0.01, 1500)).toBe(cal.byWindow![2]!.tail[19]);
  });

  it('turns a statistic into a bootstrap p-value consistent with the critical value', () => {
    const t01 = combinationThreshold(one, 0.01, 500);
    expect(combinationPValue(one, t01, 500).pValue).toBeGreaterThan(0.01);
    expect(combinationPValue(one, t01 + 1e-12, 500).pValue).toBeLessThanOrEqual(0.01);
    expect(combinationPValue(one, 1e9, 500)).toEqual({ pValue: 1 / 10001, censored: false });
    expect(combinationPValue(one, 0, 500).censored).toBe(true);
    expect(() => combinationThreshold(one, 0.2)).toThrow(/above the calibrated tail/);
    expect(combinationThreshold(one, 1e-5)).toBe(Infinity);
  });

  it('draws by its work budget when no count is given, within [2000, 10000]', () => {
    // 4·10⁸ element updates per size: 10 features, 2000-row sample, largest window 2000 → 5000.
    expect(defaultDraws(10, 2000, 2000)).toBe(5000);
    expect(defaultDraws(1, 100, 100)).toBe(10000);
    expect(defaultDraws(500, 2000, 2000)).toBe(2000);
    const c = [column(12, 300), column(13, 300)];
    expect(calibrateCombination(c, { windowSizes: [100] }).draws).toBe(defaultDraws(2, 300, 100));
  });

  it('is deterministic for a seed', () => {
    const c = [column(8, 800), column(9, 800)];
    expect(calibrateCombination(c, { draws: 2000, seed: 3 })).toEqual(
      calibrateCombination(c, { draws: 2000, seed: 3 }),
    );
    expect(calibrateCombination(c, { draws: 2000, seed: 4 }).tail).not.toEqual(
      calibrateCombination(c, { draws: 2000, seed: 3 }).tail,
    );
  });
});

describe('per-feature KS test at the exact two-sample null quantile', () => {
  it('rejects at 1 % exactly beyond the KS critical distance (n = m = 1000: about 1.63·√(2/1000))', () => {
    const a = Float64Array.from({ length: 1000 }, (_, i) => i);
    const shifted = (k: number) => Float64Array.from({ length: 1000 }, (_, i) => i + k);
    expect(ksTwoSample(a, shifted(70)).pValue).toBeGreaterThan(0.01);
    expect(ksTwoSample(a, shifted(76)).pValue).toBeLessThan(0.01);
  });
});

function normalRows(rows: number, cols: number, seed: number, rho = 0): Matrix {
  const rng = mulberry32(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const common = irwinHallNormal(rng);
    for (let j = 0; j < cols; j++)
      data[i * cols + j] = Math.sqrt(rho) * common + Math.sqrt(1 - rho) * irwinHallNormal(rng);
  }
  return { data, rows, cols };
}

const zeros = (n: number) => new Float64Array(n);

// The Monte Carlo tests below are CPU-bound (exact KS p-values); their timeouts are generous
// because the machine running them may be shared, never because a timing is asserted.

describe('calibrated compareToReference', () => {
  it('keeps the dataset false-alarm rate at the configured level on correlated features', () => {
    // 400 windows of 100 rows at falseAlarmRate 0.1: the earlier rule called ~90 % of them drifted.
    const profile = buildReferenceProfile(normalRows(2000, 4, 1, 0.8), zeros(2000), { calibration: { draws: 4000 } });
    let dataset = 0;
    let feature = 0;
    for (let t = 0; t < 400; t++) {
      const r = compareToReference(profile, normalRows(100, 4, 100 + t, 0.8), zeros(100), { falseAlarmRate: 0.1 });
      if (r.datasetDrift) dataset++;
      if (r.featureDrift) feature++;
    }
    // Expected at most 40 and 20; binomial SD 6 and 4.4: three SDs of slack.
    expect(dataset).toBeLessThanOrEqual(58);
    expect(feature).toBeLessThanOrEqual(33);
  }, 180_000);

  it('reports p-values, adjusted p-values, effect sizes and the thresholds it used', () => {
    const profile = buildReferenceProfile(normalRows(3000, 4, 2), zeros(3000));
    const w = normalRows(500, 4, 3);
    for (let i = 0; i < 500; i++) w.data[i * 4 + 1] = w.data[i * 4 + 1]! + 1;
    const r = compareToReference(profile, w, zeros(500));
    expect(r.mode).toBe('calibrated');
    expect(r.calibration).toBe('bootstrap');
    expect(r.referenceRows).toBe(3000);
    expect(r.referenceSampleRows).toBe(2000);
    expect(r.windowSize).toBe(500);
    expect(r.features.map((f) => f.drifted)).toEqual([false, true, false, false]);
    const f = r.features[1]!;
    expect(f.meanShiftSigma).toBeGreaterThan(0.85);
    expect(f.meanShiftSigma).toBeLessThan(1.15);
    expect(f.effectSize).toBe('large');
    expect(f.pValueHolm).toBeLessThanOrEqual(Math.min(1, 4 * f.ksPValue) + 1e-15);
    expect(f.pValueHolm).toBeGreaterThanOrEqual(f.ksPValue);
    expect(f.flagged).toBe(true);
    expect(r.featureDrift).toBe(true);
    expect(r.datasetDrift).toBe(true);
    expect(r.driftShare).toBe(0.25);
    expect(r.thresholds).toMatchObject({
      falseAlarmRate: 0.01,
      featureAlpha: 0.0025,
      combinedAlpha: 0.0025,
      scoreAlpha: 0.01,
    });
    expect(r.thresholds.combinedThreshold).toBe(r.combined!.threshold);
    expect(r.combined!.drifted).toBe(r.combined!.statistic > r.combined!.threshold);
  });

  it('catches a diffuse shift through the combination when no single feature is significant', () => {
    const profile = buildReferenceProfile(normalRows(2000, 10, 4), zeros(2000));
    let combinedOnly = 0;
    let holmAny = 0;
    for (let t = 0; t < 20; t++) {
      const w = normalRows(1000, 10, 200 + t);
      for (let i = 0; i < w.rows; i++) for (let j = 0; j < 5; j++) w.data[i * 10 + j] = w.data[i * 10 + j]! + 0.1;
      const r = compareToReference(profile, w, zeros(1000));
      if (r.featureDrift) holmAny++;
      else if (r.combined!.drifted) combinedOnly++;
    }
    expect(combinedOnly).toBeGreaterThan(5);
    expect(holmAny + combinedOnly).toBeGreaterThan(15);
  }, 180_000);

  it('falls back to the per-feature test at the whole decision budget for a profile without calibration', () => {
    const profile = buildReferenceProfile(normalRows(1000, 3, 5), zeros(1000), { calibration: false });
    expect(profile.calibration).toBeUndefined();
    const r = compareToReference(profile, normalRows(200, 3, 6), zeros(200), { falseAlarmRate: 0.02 });
    expect(r.calibration).toBe('analytic');
    expect(r.combined).toBeNull();
    // Both shares of the budget (1/4 + 1/4 of the rate) go to the per-feature test.
    expect(r.thresholds.featureAlpha).toBe(0.01);
    expect(r.datasetDrift).toBe(r.featureDrift);
  });

  it('gives the per-feature test the whole budget when the rate is finer than the calibration resolves', () => {
    const profile = buildReferenceProfile(normalRows(1000, 3, 5), zeros(1000), { calibration: false });
    const tail = Array.from({ length: 200 }, (_, i) => 3 - i * 0.01);
    const coarse: DriftCalibration = { statistic: 'cvm_sum', windowRows: 200, draws: 2000, seed: 7, tail };
    const restored = JSON.parse(JSON.stringify({ ...profile, calibration: coarse })) as typeof profile;
    // 0.001 / 4 of 2000 draws is half a draw: the sum test could never fire.
    const fine = compareToReference(restored, normalRows(200, 3, 6), zeros(200), { falseAlarmRate: 0.001 });
    expect(fine.calibration).toBe('analytic');
    expect(fine.combined).toBeNull();
    expect(fine.thresholds.featureAlpha).toBe(0.0005);
    // 0.002 / 4 of 2000 draws is one draw: the largest.
    const ok = compareToReference(restored, normalRows(200, 3, 6), zeros(200), { falseAlarmRate: 0.002 });
    expect(ok.calibration).toBe('bootstrap');
    expect(ok.combined!.threshold).toBe(tail[0]);
    expect(ok.thresholds.featureAlpha).toBe(0.0005);
  });

  it('still reads a profile stored with the earlier one-sample calibration (cvm_sum, one tail)', () => {
    const profile = buildReferenceProfile(normalRows(1500, 3, 12), zeros(1500), { calibration: false });
    // The shape earlier versions stored: 2000 draws, the top 10 % kept.
    const tail = Array.from({ length: 200 }, (_, i) => 3 - i * 0.01);
    const legacy: DriftCalibration = { statistic: 'cvm_sum', windowRows: 500, draws: 2000, seed: 7, tail };
    const restored = JSON.parse(JSON.stringify({ ...profile, calibration: legacy })) as typeof profile;
    const r = compareToReference(restored, normalRows(300, 3, 13), zeros(300));
    expect(r.calibration).toBe('bootstrap');
    // alpha/4 = 0.0025 of 2000 draws: (1 + 4) / 2001 <= 0.0025, so the 5th largest draw.
    expect(r.combined!.threshold).toBe(tail[4]);
    expect(r.thresholds.combinedThreshold).toBe(tail[4]);
  });

  it('is a pure function of profile, window and settings (JSON round trip, repeat)', () => {
    const profile = buildReferenceProfile(normalRows(1500, 3, 7), zeros(1500));
    const w = normalRows(300, 3, 8);
    const restored = JSON.parse(JSON.stringify(profile)) as typeof profile;
    const a = compareToReference(profile, w, zeros(300));
    expect(compareToReference(restored, w, zeros(300))).toEqual(a);
    expect(compareToReference(profile, w, zeros(300))).toEqual(a);
  });

  it('rejects a false-alarm rate outside its bounds', () => {
    const profile = buildReferenceProfile(normalRows(300, 2, 9), zeros(300), { calibration: { draws: 2000 } });
    const w = normalRows(50, 2, 10);
    expect(() => compareToReference(profile, w, zeros(50), { falseAlarmRate: 0.5 })).toThrow(
      /falseAlarmRate must be in/,
    );
    expect(() => compareToReference(profile, w, zeros(50), { falseAlarmRate: 0 })).toThrow(/falseAlarmRate must be in/);
  });
});
