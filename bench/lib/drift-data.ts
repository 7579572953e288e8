// Seeded data for the drift calibration bench: stationary families and known shifts, row-major.
import { irwinHallNormal, mulberry32, type Matrix, type Rng } from '@pynomaly/algorithms';

export const FAMILIES = ['normal', 'skewed', 'ties', 'offset', 'correlated'] as const;
export type Family = (typeof FAMILIES)[number];

export const FAMILY_NOTES: Record<Family, string> = {
  normal: 'independent N(0, 1)',
  skewed: 'independent lognormal exp(N(0, 1))',
  ties: 'integers round(5 + 2·N(0, 1)), about 15 distinct values',
  offset: '10⁶ + N(0, 1) (large offset, small spread)',
  correlated: 'equicorrelated normal, ρ = 0.8',
};

export type Shift = { name: string; features: 'half' | 'one'; mean: number; scale: number };

export const SHIFTS: Shift[] = [
  { name: 'mean +0.1σ, half the features', features: 'half', mean: 0.1, scale: 1 },
  { name: 'mean +0.25σ, half the features', features: 'half', mean: 0.25, scale: 1 },
  { name: 'mean +0.5σ, half the features', features: 'half', mean: 0.5, scale: 1 },
  { name: 'mean +0.5σ, one feature', features: 'one', mean: 0.5, scale: 1 },
  { name: 'mean +1σ, one feature', features: 'one', mean: 1, scale: 1 },
  { name: 'variance ×1.5, half the features', features: 'half', mean: 0, scale: Math.sqrt(1.5) },
];

const RHO = 0.8;

function value(family: Family, rng: Rng, common: number): number {
  const z = irwinHallNormal(rng);
  switch (family) {
    case 'normal':
      return z;
    case 'skewed':
      return Math.exp(z);
    case 'ties':
      return Math.round(5 + 2 * z);
    case 'offset':
      return 1e6 + z;
    case 'correlated':
      return Math.sqrt(RHO) * common + Math.sqrt(1 - RHO) * z;
  }
}

export function generate(family: Family, rows: number, cols: number, seed: number): Matrix {
  const rng = mulberry32(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const common = family === 'correlated' ? irwinHallNormal(rng) : 0;
    for (let j = 0; j < cols; j++) data[i * cols + j] = value(family, rng, common);
  }
  return { data, rows, cols };
}

/** Applies a shift to normal data in place (standard deviation 1, mean 0). */
export function applyShift(x: Matrix, s: Shift): void {
  const shifted = s.features === 'one' ? 1 : Math.floor(x.cols / 2);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < shifted; j++) {
      const k = i * x.cols + j;
      x.data[k] = x.data[k]! * s.scale + s.mean;
    }
}

/** A cheap stand-in for anomaly scores: the row's mean absolute value. */
export function rowScores(x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let j = 0; j < x.cols; j++) s += Math.abs(x.data[i * x.cols + j]!);
    out[i] = s / x.cols;
  }
  return out;
}
