// Seeded data sets, generated once per run and written as raw little-endian float64 / uint8 so
// numpy reads exactly the same values (np.fromfile) that the TypeScript side uses.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gaussian as normal, mulberry32, type Matrix } from '@pynomaly/algorithms';

export interface Labelled {
  x: Matrix;
  labels: Uint8Array;
  xFile: string;
  labelsFile: string;
}

/**
 * Correlated Gaussian inliers (a few latent factors) with 2% anomalies: half shifted far on a
 * few features, half uniform over a wide box, so the forest has something to find.
 */
export function anomalyData(dir: string, rows: number, cols: number, seed: number): Labelled {
  const rng = mulberry32(seed);
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  const loadings = Array.from({ length: cols }, () => [normal(rng), normal(rng)]);
  for (let i = 0; i < rows; i++) {
    const anomalous = rng() < 0.02;
    labels[i] = anomalous ? 1 : 0;
    const f1 = normal(rng);
    const f2 = normal(rng);
    const kind = rng();
    for (let j = 0; j < cols; j++) {
      const l = loadings[j]!;
      let v = l[0]! * f1 + l[1]! * f2 + 0.5 * normal(rng);
      if (anomalous) v = kind < 0.5 ? (j % 3 === 0 ? v + 6 : v) : (rng() - 0.5) * 16;
      data[i * cols + j] = v;
    }
  }
  const xFile = join(dir, `x-${rows}x${cols}.f64`);
  const labelsFile = join(dir, `y-${rows}x${cols}.u8`);
  writeFileSync(xFile, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  writeFileSync(labelsFile, Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
  return { x: { data, rows, cols }, labels, xFile, labelsFile };
}

/** Two samples for the drift statistics: reference N(0,1), current shifted and wider. */
export function driftPair(
  dir: string,
  n: number,
  seed: number,
): { a: Float64Array; b: Float64Array; aFile: string; bFile: string } {
  const rng = mulberry32(seed);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = normal(rng);
  for (let i = 0; i < n; i++) b[i] = 0.1 + 1.1 * normal(rng);
  const aFile = join(dir, `a-${n}.f64`);
  const bFile = join(dir, `b-${n}.f64`);
  writeFileSync(aFile, Buffer.from(a.buffer));
  writeFileSync(bFile, Buffer.from(b.buffer));
  return { a, b, aFile, bFile };
}
