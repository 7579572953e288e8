// Our algorithms against scikit-learn / scipy / numpy on identical data, and how our cost grows.
import {
  fitIsolationForest,
  ksTwoSample,
  psi,
  quantileCuts,
  binFractions,
  scoreIsolationForest,
  wasserstein1,
  buildReferenceProfile,
  compareToReference,
  type Matrix,
} from '@pynomaly/algorithms';
import { anomalyData, driftPair } from './lib/data.js';
import { runReference } from './lib/python.js';
import type { Figure, Section } from './lib/report.js';
import { geomean, linearFit, logLogSlope, min, rocAuc, timeIt } from './lib/stats.js';

export interface BenchContext {
  quick: boolean;
  tmp: string;
  python: string;
  log: (s: string) => void;
}

export interface Part {
  figures: Figure[];
  sections: Section[];
  versions?: Record<string, string>;
}

const TREES = 100;
const ROUNDS = (ctx: BenchContext) => (ctx.quick ? 2 : 3);
const SAMPLES = 256;
const SEED = 7;

interface ForestRef {
  fit_s: number[];
  score_s: number[];
  auc: number;
}

export function benchIsolationForest(ctx: BenchContext): Part {
  const sizes: [number, number][] = ctx.quick
    ? [
        [1_000, 10],
        [10_000, 50],
        [100_000, 10],
      ]
    : [
        [1_000, 10],
        [1_000, 50],
        [10_000, 10],
        [10_000, 50],
        [100_000, 10],
        [100_000, 50],
      ];
  const repeats = (rows: number) => (rows >= 100_000 ? (ctx.quick ? 1 : 2) : ctx.quick ? 2 : 3);
  const rows: Section['rows'] = [];
  const fitRatios: number[] = [];
  const scoreRatios: number[] = [];
  const ours = { fit: [] as number[], score: [] as number[] };
  const theirs = { fit: [] as number[], score: [] as number[] };
  let versions: Record<string, string> = {};
  for (const [n, d] of sizes) {
    const ds = anomalyData(ctx.tmp, n, d, SEED + n + d);
    const r = repeats(n);
    // Warm up the JIT on this shape first: the service is long-running, so steady state is what counts.
    scoreIsolationForest(fitIsolationForest(ds.x, { nEstimators: 10, maxSamples: SAMPLES, seed: 1 }), ds.x);
    // Rounds alternate ours and theirs so a change in the shared machine's load hits both sides.
    const fit = { times: [] as number[], out: undefined as unknown as ReturnType<typeof fitIsolationForest> };
    const score: { times: number[]; out: Float64Array<ArrayBufferLike> } = { times: [], out: new Float64Array(0) };
    const py: ForestRef = { fit_s: [], score_s: [], auc: NaN };
    for (let round = 0; round < ROUNDS(ctx); round++) {
      const f1 = timeIt(() => fitIsolationForest(ds.x, { nEstimators: TREES, maxSamples: SAMPLES, seed: SEED }), r);
      const s1 = timeIt(() => scoreIsolationForest(f1.out, ds.x), r);
      fit.times.push(...f1.times);
      fit.out = f1.out;
      score.times.push(...s1.times);
      score.out = s1.out;
      const ref = runReference<ForestRef>(ctx.python, [
        {
          kind: 'iforest',
          x: ds.xFile,
          labels: ds.labelsFile,
          rows: n,
          cols: d,
          trees: TREES,
          samples: SAMPLES,
          seed: SEED,
          repeats: r,
        },
      ]);
      versions = ref.versions;
      py.fit_s.push(...ref.results[0]!.fit_s);
      py.score_s.push(...ref.results[0]!.score_s);
      py.auc = ref.results[0]!.auc;
    }
    const auc = rocAuc(score.out, ds.labels);
    const f = { ours: min(fit.times), theirs: min(py.fit_s) };
    const s = { ours: min(score.times), theirs: min(py.score_s) };
    fitRatios.push(f.theirs / f.ours);
    scoreRatios.push(s.theirs / s.ours);
    ours.fit.push(f.ours);
    ours.score.push(s.ours);
    theirs.fit.push(f.theirs);
    theirs.score.push(s.theirs);
    ctx.log(
      `iforest ${n}x${d}: fit ${ms(f.ours)} vs ${ms(f.theirs)} ms, score ${ms(s.ours)} vs ${ms(s.theirs)} ms, AUC ${auc.toFixed(3)} vs ${py.auc.toFixed(3)}`,
    );
    rows.push([
      `${n}×${d}`,
      ms(f.ours),
      ms(f.theirs),
      f.theirs / f.ours,
      ms(s.ours),
      ms(s.theirs),
      s.theirs / s.ours,
      auc.toFixed(4),
      py.auc.toFixed(4),
    ]);
  }
  const sizesNote = sizes.map(([n, d]) => `${n}×${d}`).join(', ');
  const figure = (name: string, o: number[], t: number[], ratios: number[]): Figure => {
    const ratio = geomean(ratios);
    return {
      name,
      value: geomean(o) * 1000,
      unit: 'ms (geomean)',
      baseline: geomean(t) * 1000,
      baselineLabel: 'ms scikit-learn',
      ratio,
      goal: '≥ 1.0 (aim 3)',
      met: ratio >= 1,
      note: `geometric mean over ${sizesNote}; ratio = their time / ours; range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}; ${TREES} trees, ${SAMPLES} samples, contamination 0.1 (both fits score the training set for the threshold), one thread each`,
    };
  };
  return {
    versions,
    figures: [
      figure('iforest.fit.vs_sklearn', ours.fit, theirs.fit, fitRatios),
      figure('iforest.score.vs_sklearn', ours.score, theirs.score, scoreRatios),
    ],
    sections: [
      {
        title: 'Isolation Forest against scikit-learn (per size)',
        header: [
          'rows×features',
          'fit ms (ours)',
          'fit ms (sklearn)',
          'fit ratio',
          'score ms (ours)',
          'score ms (sklearn)',
          'score ratio',
          'AUC ours',
          'AUC sklearn',
        ],
        rows,
      },
    ],
  };
}

const ms = (s: number) => Math.round(s * 1e5) / 100;

interface StatRef {
  s: number[];
  value: number;
  p?: number;
}

export function benchDriftStatistics(ctx: BenchContext): Part {
  const sizes = ctx.quick ? [10_000, 100_000, 1_000_000] : [10_000, 100_000, 1_000_000];
  const repeats = (n: number) => (n >= 1_000_000 ? 2 : ctx.quick ? 3 : 5);
  const per: Record<'ks' | 'wasserstein' | 'psi', { ours: number[]; theirs: number[]; rows: Section['rows'] }> = {
    ks: { ours: [], theirs: [], rows: [] },
    wasserstein: { ours: [], theirs: [], rows: [] },
    psi: { ours: [], theirs: [], rows: [] },
  };
  let versions: Record<string, string> = {};
  for (const n of sizes) {
    const { a, b, aFile, bFile } = driftPair(ctx.tmp, n, 11 + n);
    const r = repeats(n);
    const sorted = Float64Array.from(a).sort();
    const edges = quantileCuts(sorted, 10);
    const refFractions = binFractions(edges, a);
    ksTwoSample(a.subarray(0, 1000), b.subarray(0, 1000));
    const ks = { times: [] as number[], out: ksTwoSample(a, b) };
    const w = { times: [] as number[], out: 0 };
    const p = { times: [] as number[], out: 0 };
    const pk: StatRef = { s: [], value: NaN };
    const pw: StatRef = { s: [], value: NaN };
    const pp: StatRef = { s: [], value: NaN };
    for (let round = 0; round < ROUNDS(ctx); round++) {
      ks.times.push(...timeIt(() => ksTwoSample(a, b), r).times);
      const w1 = timeIt(() => wasserstein1(a, b), r);
      w.times.push(...w1.times);
      w.out = w1.out;
      const p1 = timeIt(() => psi(edges, refFractions, b), r);
      p.times.push(...p1.times);
      p.out = p1.out;
      const ref = runReference<StatRef>(ctx.python, [
        { kind: 'ks', a: aFile, b: bFile, repeats: r },
        { kind: 'wasserstein', a: aFile, b: bFile, repeats: r },
        { kind: 'psi', b: bFile, edges, ref: refFractions, repeats: r },
      ]);
      versions = ref.versions;
      for (const [acc, got] of [
        [pk, ref.results[0]!],
        [pw, ref.results[1]!],
        [pp, ref.results[2]!],
      ] as const) {
        acc.s.push(...got.s);
        acc.value = got.value;
      }
    }
    const add = (key: keyof typeof per, oursS: number[], py: StatRef, ourValue: number) => {
      const o = min(oursS);
      const t = min(py.s);
      per[key].ours.push(o);
      per[key].theirs.push(t);
      per[key].rows.push([n, ms(o), ms(t), t / o, ourValue, py.value, Math.abs(ourValue - py.value)]);
      ctx.log(`${key} n=${n}: ${ms(o)} vs ${ms(t)} ms (value diff ${Math.abs(ourValue - py.value).toExponential(1)})`);
    };
    add('ks', ks.times, pk, ks.out.statistic);
    add('wasserstein', w.times, pw, w.out);
    add('psi', p.times, pp, p.out);
  }
  const figures: Figure[] = [];
  const sections: Section[] = [];
  const names = {
    ks: ['drift.ks.vs_scipy', 'scipy ks_2samp'],
    wasserstein: ['drift.wasserstein.vs_scipy', 'scipy wasserstein_distance'],
    psi: ['drift.psi.vs_numpy', 'numpy searchsorted+bincount'],
  } as const;
  for (const key of ['ks', 'wasserstein', 'psi'] as const) {
    const d = per[key];
    const ratios = d.ours.map((o, i) => d.theirs[i]! / o);
    const ratio = geomean(ratios);
    figures.push({
      name: names[key][0],
      value: geomean(d.ours) * 1000,
      unit: 'ms (geomean)',
      baseline: geomean(d.theirs) * 1000,
      baselineLabel: `ms ${names[key][1]}`,
      ratio,
      goal: '≥ 1.0',
      met: ratio >= 1,
      note: `two samples of n each, n = ${sizes.join(', ')}; geometric mean; range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}${key === 'psi' ? '; current window binned against 10 reference-quantile edges' : '; includes sorting both samples'}`,
    });
    sections.push({
      title: `${names[key][0]} (per size)`,
      header: ['n', 'ms (ours)', `ms (${names[key][1]})`, 'ratio', 'value (ours)', 'value (theirs)', '|diff|'],
      rows: d.rows,
    });
  }
  return { figures, sections, versions };
}

/** Growth of our own cost: score time vs rows and vs trees, drift time vs window size. */
export function benchGrowth(ctx: BenchContext): Part {
  const cols = 10;
  const rowsList = ctx.quick
    ? [5_000, 10_000, 20_000, 40_000, 80_000]
    : [5_000, 10_000, 20_000, 40_000, 80_000, 160_000];
  const treesList = ctx.quick ? [25, 50, 100, 200, 400] : [25, 50, 100, 200, 400, 800];
  // Not 2000, the profile's sample size: equal sizes take the exact KS p-value's cheap path and
  // would show as an outlier (measured: 12 ms at 2000 rows vs 87 ms at 1999 and 2001).
  const windows = ctx.quick ? [250, 500, 1_000, 1_500, 3_000, 6_000] : [250, 500, 1_000, 1_500, 3_000, 6_000, 9_000];
  const reps = ctx.quick ? 3 : 5;
  const big = anomalyData(ctx.tmp, Math.max(...rowsList), cols, 99);
  const model = fitIsolationForest(big.x, { nEstimators: TREES, maxSamples: SAMPLES, seed: SEED });
  const head = (n: number): Matrix => ({ data: big.x.data.subarray(0, n * cols), rows: n, cols });
  scoreIsolationForest(model, head(5_000));
  const byRows = rowsList.map((n) => min(timeIt(() => scoreIsolationForest(model, head(n)), reps).times));
  const scoreRows = head(20_000);
  const byTrees = treesList.map((t) => {
    const m = fitIsolationForest(scoreRows, { nEstimators: t, maxSamples: SAMPLES, seed: SEED });
    scoreIsolationForest(m, scoreRows);
    return min(timeIt(() => scoreIsolationForest(m, scoreRows), reps).times);
  });
  // Drift: a fitted reference profile (the drift worker's path) against windows of growing size.
  const refRows = head(20_000);
  const refScores = scoreIsolationForest(model, refRows);
  const profile = buildReferenceProfile(refRows, refScores, { threshold: model.threshold });
  const shifted = new Float64Array(big.x.data.subarray(0, Math.max(...windows) * cols));
  for (let i = 0; i < shifted.length; i++) shifted[i] = shifted[i]! * 1.2 + 0.3;
  const win = (n: number): Matrix => ({ data: shifted.subarray(0, n * cols), rows: n, cols });
  const winScores = scoreIsolationForest(model, win(Math.max(...windows)));
  compareToReference(profile, win(500), winScores.subarray(0, 500));
  const byWindow = windows.map((n) =>
    min(timeIt(() => compareToReference(profile, win(n), winScores.subarray(0, n)), reps * 2).times),
  );

  const figures: Figure[] = [];
  const rows: Section['rows'] = [];
  const one = (name: string, what: string, xs: number[], ts: number[], unitX: string) => {
    const g = logLogSlope(xs, ts);
    const lin = linearFit(xs, ts);
    figures.push({
      name,
      value: g.exponent,
      unit: 'exponent k (time ∝ size^k)',
      baseline: 1,
      baselineLabel: '(linear)',
      ratio: 1 / g.exponent,
      goal: 'k ≈ 1 (≤ 1.15)',
      met: g.exponent <= 1.15,
      note: `${what}: log-log R² ${g.r2.toFixed(3)}; linear fit ${(lin.slope * 1e6).toPrecision(3)} µs per ${unitX} + ${(lin.intercept * 1e3).toPrecision(3)} ms (R² ${lin.r2.toFixed(3)})${g.exponent < 0.85 ? '; sub-linear over this range: a fixed cost still dominates the small sizes' : g.exponent > 1.15 ? '; super-linear: see the per-size table' : '; linear'}`,
    });
    xs.forEach((x, i) => rows.push([name, x, ms(ts[i]!), (ts[i]! / x) * 1e6]));
  };
  one(
    'growth.score.rows',
    `score ${cols} features, ${TREES} trees, rows ${rowsList.join('…')}`,
    rowsList,
    byRows,
    'row',
  );
  one('growth.score.trees', `score 20000×${cols} with ${treesList.join('/')} trees`, treesList, byTrees, 'tree');
  one(
    'growth.drift.window',
    `compareToReference (${cols} features + score, KS/Wasserstein/PSI vs a 2000-row profile sample) for windows ${windows.join('…')}. Per feature the KS p-value is exact (scipy's method='auto') while max(window, 2000) ≤ 10000, which costs O(window × 2000) for unequal sizes; above 10000 rows it switches to the asymptotic kstwo (cheap)`,
    windows,
    byWindow,
    'window row',
  );
  return {
    figures,
    sections: [{ title: 'Growth (per size)', header: ['figure', 'size', 'ms', 'µs per unit'], rows }],
  };
}
