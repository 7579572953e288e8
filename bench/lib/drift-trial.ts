// One Monte Carlo unit of drift.calibration: a fresh reference draw, its reference profile with the
// training-time calibration, and a few fresh windows per case judged against it. Each reference
// is an independent cluster: the windows judged against one reference share its calibration, so
// the bench's standard errors come from the spread between references.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildReferenceProfile,
  compareToReference,
  DEFAULT_CALIBRATION_WINDOWS,
  defaultDraws,
  tailFor,
  type CalibrationOptions,
  type DriftCalibration,
} from '@pynomaly/algorithms';
import { applyShift, generate, rowScores, type Family, type Shift } from './drift-data.js';

export const COLS = 10;
/** Rows of the reference sample the product keeps (buildReferenceProfile's default sampleSize). */
export const SAMPLE_ROWS = 2000;

/** One window size (and shift) judged against the reference: `windows` fresh windows. */
export type TrialCase = { windowRows: number; shift: Shift | null; windows: number };

export type TrialJob = {
  family: Family;
  refRows: number;
  cases: TrialCase[];
  seed: number;
  /** Directory for the reference and window files the scipy baseline reads. */
  dir: string;
  tag: string;
  falseAlarmRate: number;
};

export type TrialCaseResult = {
  /** Windows called drifted at the dataset level / at the feature level, out of the case's windows. */
  dataset: number;
  feature: number;
  /** Per-window dataset decisions (1/0), in window order, to pair with the baseline's. */
  decisions: number[];
  windowsFile: string;
};

export type TrialResult = { refFile: string; cases: TrialCaseResult[] };

/** The default calibration's window size that judges a window of n rows against m sample rows. */
function calibratedSizeFor(n: number, m: number): number {
  const cal: DriftCalibration = {
    statistic: 'cvm_sum_2s',
    windowRows: DEFAULT_CALIBRATION_WINDOWS[0]!,
    draws: 1,
    seed: 0,
    tail: [],
    referenceRows: m,
    byWindow: DEFAULT_CALIBRATION_WINDOWS.map((w) => ({ windowRows: w, tail: [] })),
  };
  return tailFor(cal, n).windowRows;
}

/**
 * Calibration options giving the same decisions as the product's default calibration for these
 * window sizes, while drawing only the tails they use: the same draws per size (the default work
 * budget), the same seeds (one stream per size, by its position in the default list, so only a
 * prefix of the list may be dropped). Undefined when every default size is needed.
 */
export function benchCalibration(windowRows: number[], refRows: number): CalibrationOptions | undefined {
  const m = Math.min(refRows, SAMPLE_ROWS);
  const used = new Set(windowRows.map((n) => calibratedSizeFor(n, m)));
  const sizes = [...DEFAULT_CALIBRATION_WINDOWS];
  while (sizes.length > 1 && !used.has(sizes[sizes.length - 1]!)) sizes.pop();
  if (sizes.length === DEFAULT_CALIBRATION_WINDOWS.length) return undefined;
  const largest = DEFAULT_CALIBRATION_WINDOWS[DEFAULT_CALIBRATION_WINDOWS.length - 1]!;
  return { windowSizes: sizes, draws: defaultDraws(COLS, m, largest) };
}

export function runTrial(job: TrialJob): TrialResult {
  let seed = job.seed;
  const ref = generate(job.family, job.refRows, COLS, seed++);
  const refFile = join(job.dir, `dc-${job.tag}-ref.f64`);
  writeFileSync(refFile, Buffer.from(ref.data.buffer));
  const calibration = benchCalibration(
    job.cases.map((c) => c.windowRows),
    job.refRows,
  );
  const profile = buildReferenceProfile(ref, rowScores(ref), calibration ? { calibration } : {});
  const cases = job.cases.map((c, ci): TrialCaseResult => {
    const buf = new Float64Array(c.windows * c.windowRows * COLS);
    const out: TrialCaseResult = { dataset: 0, feature: 0, decisions: [], windowsFile: '' };
    for (let t = 0; t < c.windows; t++) {
      const w = generate(job.family, c.windowRows, COLS, seed++);
      if (c.shift) applyShift(w, c.shift);
      buf.set(w.data, t * c.windowRows * COLS);
      const res = compareToReference(profile, w, rowScores(w), { falseAlarmRate: job.falseAlarmRate });
      out.decisions.push(res.datasetDrift ? 1 : 0);
      if (res.datasetDrift) out.dataset++;
      if (res.featureDrift) out.feature++;
    }
    out.windowsFile = join(job.dir, `dc-${job.tag}-case${ci}.f64`);
    writeFileSync(out.windowsFile, Buffer.from(buf.buffer));
    return out;
  });
  return { refFile, cases };
}
