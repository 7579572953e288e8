// drift.calibration: false-alarm rate and power of the calibrated drift decision, Monte Carlo,
// side by side with a per-feature KS + Bonferroni baseline computed by scipy on the same windows
// (against the full reference data, as a user of scipy would run it).
//
// Design: the calibration is fitted per reference (at training time), so windows judged against
// one reference are correlated: they share its calibration and its sample. Every cell therefore
// draws many independent references, each with its own reference profile and calibration, and a
// few fresh windows per reference; rates are averages over references and their standard errors
// come from the spread of the per-reference rates (a cluster-robust SE), never below the binomial
// one. The references run in worker threads; the baseline runs in Python as references finish.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { buildReferenceProfile, DECISION_BUDGET } from '@pynomaly/algorithms';
import type { BenchContext, Part } from './algorithms.js';
import { FAMILIES, FAMILY_NOTES, generate, rowScores, SHIFTS, type Family, type Shift } from './lib/drift-data.js';
import {
  benchCalibration,
  COLS,
  SAMPLE_ROWS,
  type TrialCase,
  type TrialJob,
  type TrialResult,
} from './lib/drift-trial.js';
import { runReferenceAsync } from './lib/python.js';
import type { Figure, Section } from './lib/report.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WINDOWS = [100, 200, 500, 1000];
const REFERENCES = [1000, 2000, 5000];
const POWER_REFERENCES = [2000, 5000];
/** Window sizes at which power must match the baseline. */
const JUDGED_WINDOWS = [500, 1000];
const RATE = 0.01;

/** Per reference draw: windows called drifted by ours (dataset, feature) and by the baseline. */
type RefCounts = { dataset: number; feature: number; base01: number; base05: number };
type Cell = {
  family: Family;
  refRows: number;
  windowRows: number;
  shift: Shift | null;
  /** Windows per reference draw. */
  perRef: number;
  refs: RefCounts[];
};
type Estimate = { rate: number; se: number };
type RunInfo = { seconds: number; cpuSeconds: number; threads: number };

/**
 * Mean of the per-reference rates with its cluster-robust standard error (spread between
 * references / √references), floored at the binomial SE with p(1 − p) floored at 1/N so a cell
 * with no events still shows its resolution.
 */
function clusterRate(values: number[], perRef: number): Estimate {
  const r = values.length;
  const rates = values.map((v) => v / perRef);
  const rate = rates.reduce((a, b) => a + b, 0) / r;
  const between = r > 1 ? rates.reduce((a, x) => a + (x - rate) ** 2, 0) / (r - 1) : 0;
  const n = r * perRef;
  const binomial = Math.sqrt(Math.max(rate * (1 - rate), 1 / n) / n);
  return { rate, se: Math.max(Math.sqrt(between / r), binomial) };
}

/** Paired difference of two detection counts on the same windows, clustered by reference. */
function clusterDifference(a: number[], b: number[], perRef: number): Estimate {
  const r = a.length;
  const d = a.map((x, i) => (x - b[i]!) / perRef);
  const rate = d.reduce((s, x) => s + x, 0) / r;
  const between = r > 1 ? d.reduce((s, x) => s + (x - rate) ** 2, 0) / (r - 1) : 0;
  return { rate, se: Math.max(Math.sqrt(between / r), 1 / (r * perRef)) };
}

const pct = (e: Estimate) => `${(100 * e.rate).toFixed(2)} ± ${(100 * e.se).toFixed(2)}`;
const signedPct = (e: Estimate) => `${e.rate >= 0 ? '+' : ''}${(100 * e.rate).toFixed(2)} ± ${(100 * e.se).toFixed(2)}`;

/** A pool of worker threads running lib/drift-trial.ts's units. */
class TrialPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { job: TrialJob; resolve: (r: TrialResult) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<Worker, { resolve: (r: TrialResult) => void; reject: (e: Error) => void }>();

  constructor(size: number) {
    const entry = new URL('./drift-calibration-worker.ts', import.meta.url).href;
    // Worker threads do not inherit tsx's loader: register it before importing the TypeScript entry.
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    for (let i = 0; i < size; i++) {
      const w = new Worker(boot, { eval: true });
      w.on('message', (msg: { result?: TrialResult; error?: string }) => {
        const p = this.pending.get(w)!;
        this.pending.delete(w);
        if (msg.error) p.reject(new Error(`drift.calibration worker: ${msg.error}`));
        else p.resolve(msg.result!);
        this.idle.push(w);
        this.next();
      });
      w.on('error', (err) => {
        // A crashed thread fails the run: reject its unit and everything still queued.
        this.pending.get(w)?.reject(err);
        this.pending.delete(w);
        for (const q of this.queue.splice(0)) q.reject(err);
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  run(job: TrialJob): Promise<TrialResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const { job, resolve, reject } = this.queue.shift()!;
      this.pending.set(w, { resolve, reject });
      w.postMessage({ id: 0, job });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** One Python process at a time, in the order the work arrives. */
function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * The bench draws only the calibration tails its windows use (with the same draws and seeds as the
 * product's default calibration); checks on one reference per size that they are identical.
 */
function checkBenchCalibration(): void {
  for (const refRows of [1000, 2000]) {
    const opts = benchCalibration(WINDOWS, refRows);
    if (!opts) continue;
    const ref = generate('normal', refRows, COLS, 99);
    const full = buildReferenceProfile(ref, rowScores(ref)).calibration!;
    const part = buildReferenceProfile(ref, rowScores(ref), { calibration: opts }).calibration!;
    const same =
      full.draws === part.draws &&
      part.byWindow!.every((t) => {
        const f = full.byWindow!.find((x) => x.windowRows === t.windowRows);
        return f !== undefined && JSON.stringify(f.tail) === JSON.stringify(t.tail);
      });
    if (!same) throw new Error(`drift.calibration: the bench's calibration differs from the default (m=${refRows})`);
  }
}

export async function benchDriftCalibration(ctx: BenchContext, resultsDir: string): Promise<Part> {
  const refsPerCell = ctx.quick ? 20 : 40;
  // Windows per reference. A stationary cell must resolve rates well below 1 %, so it gets many
  // windows per reference (cheap next to the reference's calibration); a shift cell compares rates
  // far from 0 and 1 with the baseline on the same windows, and needs fewer.
  const perRef = { stationary: ctx.quick ? 50 : 100, shift: ctx.quick ? 10 : 25 };
  const threads = Math.max(1, Number(process.env.PYNOMALY_BENCH_THREADS ?? Math.min(2, availableParallelism())));
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  checkBenchCalibration();
  ctx.log(`drift.calibration: bench calibration matches the default (${elapsed()})`);

  const cells: Cell[] = [];
  const cellOf = new Map<string, Cell>();
  const key = (f: Family, m: number, n: number, s: Shift | null) => `${f}|${m}|${n}|${s?.name ?? ''}`;
  const pool = new TrialPool(threads);
  const python = serialQueue();
  const blocks: Promise<void>[] = [];
  let seed = 0;
  for (const family of FAMILIES) {
    for (const refRows of REFERENCES) {
      const shifts: (Shift | null)[] = [null];
      if (family === 'normal' && POWER_REFERENCES.includes(refRows)) shifts.push(...SHIFTS);
      const cases: TrialCase[] = shifts.flatMap((shift) =>
        WINDOWS.map((windowRows) => ({ windowRows, shift, windows: shift ? perRef.shift : perRef.stationary })),
      );
      const caseCells = cases.map((c) => {
        const cell: Cell = { family, refRows, windowRows: c.windowRows, shift: c.shift, perRef: c.windows, refs: [] };
        cells.push(cell);
        cellOf.set(key(family, refRows, c.windowRows, c.shift), cell);
        return cell;
      });
      seed += 1;
      const jobs = Array.from({ length: refsPerCell }, (_, r) =>
        pool.run({
          family,
          refRows,
          cases,
          seed: seed * 10_000_000 + r * 100_000,
          dir: ctx.tmp,
          tag: `${family}-${refRows}-${r}`,
          falseAlarmRate: RATE,
        }),
      );
      blocks.push(
        Promise.all(jobs).then(async (results) => {
          const tasks = results.flatMap((res) =>
            res.cases.map((c, ci) => ({
              kind: 'ks_min_p',
              ref: res.refFile,
              refRows,
              windows: c.windowsFile,
              windowRows: cases[ci]!.windowRows,
              count: cases[ci]!.windows,
              cols: COLS,
            })),
          );
          const py = await python(() => runReferenceAsync<{ minP: number[] }>(ctx.python, tasks));
          let i = 0;
          for (const res of results)
            res.cases.forEach((c, ci) => {
              const minP = py.results[i++]!.minP;
              caseCells[ci]!.refs.push({
                dataset: c.dataset,
                feature: c.feature,
                base01: minP.filter((p) => p * COLS <= 0.01).length,
                base05: minP.filter((p) => p * COLS <= 0.05).length,
              });
            });
          ctx.log(`drift.calibration: ${family}, reference ${refRows} done (${elapsed()})`);
        }),
      );
    }
  }
  try {
    await Promise.all(blocks);
  } finally {
    await pool.close();
  }
  const cpu = process.cpuUsage(cpu0);
  const run = { seconds: (Date.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, threads };
  return report(ctx, resultsDir, cells, refsPerCell, perRef, run);
}

function report(
  ctx: BenchContext,
  resultsDir: string,
  cells: Cell[],
  refsPerCell: number,
  perRef: { stationary: number; shift: number },
  run: RunInfo,
): Part {
  const est = (c: Cell, k: keyof RefCounts) =>
    clusterRate(
      c.refs.map((r) => r[k]),
      c.perRef,
    );
  const stationary = cells.filter((c) => c.shift === null);
  const faRows: Section['rows'] = [];
  let worst = { z: -Infinity, e: { rate: 0, se: 0 }, label: '' };
  let worstFeature = { z: -Infinity, e: { rate: 0, se: 0 }, label: '' };
  let highest = { z: 0, e: { rate: -1, se: 0 }, label: '' };
  let above = 0;
  let failed = 0;
  const pooled = { dataset: 0, feature: 0, varDataset: 0, varFeature: 0 };
  for (const c of stationary) {
    const ours = est(c, 'dataset');
    const feat = est(c, 'feature');
    const label = `${c.family}, reference ${c.refRows}, window ${c.windowRows}`;
    const z = (ours.rate - RATE) / ours.se;
    const zf = (feat.rate - RATE) / feat.se;
    if (z > worst.z) worst = { z, e: ours, label };
    if (ours.rate > highest.e.rate) highest = { z, e: ours, label };
    if (zf > worstFeature.z) worstFeature = { z: zf, e: feat, label };
    pooled.dataset += ours.rate / stationary.length;
    pooled.feature += feat.rate / stationary.length;
    pooled.varDataset += ours.se ** 2 / stationary.length ** 2;
    pooled.varFeature += feat.se ** 2 / stationary.length ** 2;
    const verdict = ours.rate <= RATE ? 'yes' : z <= 2 ? `within 2 SE` : '**no**';
    if (ours.rate > RATE) above++;
    if (verdict === '**no**') failed++;
    faRows.push([
      c.family,
      c.refRows,
      c.windowRows,
      c.refs.length * c.perRef,
      pct(ours),
      pct(feat),
      pct(est(c, 'base01')),
      pct(est(c, 'base05')),
      verdict,
    ]);
  }
  const pooledDataset = { rate: pooled.dataset, se: Math.sqrt(pooled.varDataset) };
  const pooledFeature = { rate: pooled.feature, se: Math.sqrt(pooled.varFeature) };

  const powerRows: Section['rows'] = [];
  let worstPower = { gapSe: Infinity, label: '' };
  let powerFailed = 0;
  for (const c of cells.filter((x) => x.shift !== null)) {
    const ours = est(c, 'dataset');
    const diff = clusterDifference(
      c.refs.map((r) => r.dataset),
      c.refs.map((r) => r.base01),
      c.perRef,
    );
    const judged = JUDGED_WINDOWS.includes(c.windowRows);
    const met = diff.rate >= -diff.se;
    const gapSe = diff.rate / diff.se;
    if (judged && gapSe < worstPower.gapSe)
      worstPower = { gapSe, label: `${c.shift!.name}, reference ${c.refRows}, window ${c.windowRows}` };
    if (judged && !met) powerFailed++;
    powerRows.push([
      c.shift!.name,
      c.refRows,
      c.windowRows,
      c.refs.length * c.perRef,
      pct(ours),
      pct(est(c, 'feature')),
      pct(est(c, 'base01')),
      pct(est(c, 'base05')),
      signedPct(diff),
      judged ? (met ? 'yes' : '**no**') : '–',
    ]);
  }

  const design = `${refsPerCell} independent reference draws per cell (each with its own reference profile and training-time calibration) × ${perRef.stationary} windows per window size on stationary data (${refsPerCell * perRef.stationary} windows per cell), × ${perRef.shift} on shifted data (${refsPerCell * perRef.shift} per cell); SE = spread of the per-reference rates / √${refsPerCell} (cluster-robust), at least the binomial SE`;
  const figures: Figure[] = [
    {
      name: 'drift.calibration.false_alarm',
      value: 100 * worst.e.rate,
      unit: '% of stationary windows (the cell furthest above 1 %, in SE)',
      baseline: 100 * RATE,
      baselineLabel: '% configured',
      ratio: RATE / Math.max(worst.e.rate, 1e-9),
      goal: 'every cell ≤ 1 % (a cell above 1 % only within 2 SE)',
      met: failed === 0,
      note: `falseAlarmRate ${RATE}; ${FAMILIES.length} families × references ${REFERENCES.join('/')} × windows ${WINDOWS.join('/')}; ${design}. furthest above 1 %: ${pct(worst.e)} % (${worst.label}, ${worst.z.toFixed(1)} SE); highest rate ${pct(highest.e)} % (${highest.label}, ${highest.z.toFixed(1)} SE); ${above} of ${stationary.length} cells above 1 %, ${failed} more than 2 SE above; mean over cells ${pct(pooledDataset)} %`,
    },
    {
      name: 'drift.calibration.feature_false_alarm',
      value: 100 * pooledFeature.rate,
      unit: '% of stationary windows with a feature-level signal (mean over cells)',
      baseline: 100 * RATE,
      baselineLabel: '% configured',
      ratio: RATE / Math.max(pooledFeature.rate, 1e-9),
      goal: '≤ the configured rate (mean over cells, and every cell within 2 SE)',
      met: pooledFeature.rate <= RATE && worstFeature.z <= 2,
      note: `feature-level signal = some feature's Holm-adjusted KS p-value ≤ ${RATE * DECISION_BUDGET.feature}; mean over cells ${pct(pooledFeature)} %; furthest above 1 %: ${pct(worstFeature.e)} % (${worstFeature.label}, ${worstFeature.z.toFixed(1)} SE)`,
    },
    {
      name: 'drift.calibration.power_vs_ks_bonferroni',
      value: worstPower.gapSe,
      unit: 'SE (worst cell, ours − baseline, paired on the same windows)',
      baseline: -1,
      baselineLabel: 'SE allowed',
      ratio: null,
      goal: `≥ −1 SE in every shift cell at ${JUDGED_WINDOWS.join(' and ')} rows`,
      met: powerFailed === 0,
      note: `dataset-level detection rate vs per-feature scipy ks_2samp + Bonferroni at the same family-wise rate (1 %), same windows, references ${POWER_REFERENCES.join('/')}; worst: ${worstPower.label}; ${powerFailed} judged cells below`,
    },
  ];
  const notes = [
    `Families: ${FAMILIES.map((f) => `${f} = ${FAMILY_NOTES[f]}`).join('; ')}. ${COLS} features; the reference profile keeps a ${SAMPLE_ROWS}-row sample (all rows below that); windows are fresh draws. ${design}. Rates are % of windows ± one SE.`,
    `ours = calibrated dataset decision at falseAlarmRate ${RATE} (Holm-corrected per-feature KS at ${RATE * DECISION_BUDGET.feature} ∪ bootstrap-calibrated Cramér–von Mises sum at ${RATE * DECISION_BUDGET.combined}; the rest of the rate is the product's margin for calibration error, docs/drift.md); ours (feature) = feature-level signal (Holm at ${RATE * DECISION_BUDGET.feature}); baseline = scipy ks_2samp per feature against the full reference data, Bonferroni at family-wise 1 % (and 5 % for reference).`,
  ];
  const sections: Section[] = [
    {
      title: 'drift.calibration: false alarms on stationary data (% of windows)',
      header: [
        'family',
        'reference rows',
        'window rows',
        'windows',
        'ours (dataset)',
        'ours (feature)',
        'KS+Bonferroni 1 %',
        'KS+Bonferroni 5 %',
        'ours ≤ 1 %',
      ],
      rows: faRows,
      notes,
    },
    {
      title: 'drift.calibration: power on shifted normal data (% of windows detected)',
      header: [
        'shift',
        'reference rows',
        'window rows',
        'windows',
        'ours (dataset)',
        'ours (feature)',
        'KS+Bonferroni 1 %',
        'KS+Bonferroni 5 %',
        'ours − KS+Bonferroni 1 % (paired)',
        '≥ baseline − 1 SE',
      ],
      rows: powerRows,
      notes: [
        `Judged at ${JUDGED_WINDOWS.join(' and ')} rows: the paired difference (ours − baseline on the same windows, clustered by reference) must be ≥ −1 SE of that difference.`,
      ],
    },
  ];
  writeCalibrationReport(resultsDir, ctx.quick, figures, sections, run);
  return { figures, sections };
}

function writeCalibrationReport(
  dir: string,
  quick: boolean,
  figures: Figure[],
  sections: Section[],
  run: RunInfo,
): void {
  const out: string[] = [
    `# drift.calibration (${quick ? 'quick' : 'full'})`,
    '',
    `Date: ${new Date().toISOString()} · ${run.seconds.toFixed(0)} s wall, ${run.cpuSeconds.toFixed(0)} s CPU (main thread, ${run.threads} worker threads; the baseline's Python not counted)`,
    '',
  ];
  for (const f of figures)
    out.push(
      `- \`${f.name}\`: ${f.value?.toFixed(2)} ${f.unit}; goal ${f.goal}: ${f.met ? 'met' : '**missed**'}. ${f.note ?? ''}`,
    );
  for (const s of sections) {
    out.push('', `## ${s.title}`, '', `| ${s.header.join(' | ')} |`, `|${s.header.map(() => '---').join('|')}|`);
    for (const r of s.rows) out.push(`| ${r.join(' | ')} |`);
    for (const n of s.notes ?? []) out.push('', n);
  }
  writeFileSync(join(dir, `drift-calibration${quick ? '' : '-full'}.md`), out.join('\n') + '\n');
}
