// Regenerates the fixture data from its seeded spec, bit-identical to the Python generator in
// scripts/fixtures/make_algorithm_fixtures.py (mulberry32 + Irwin–Hall sums only use exact IEEE ops).
import { irwinHallNormal, mulberry32 } from '../src/random.js';
import type { Matrix } from '../src/index.js';

export type SampleSpec = {
  seed: number;
  n: number;
  kind: 'normal' | 'uniform' | 'int';
  loc: number;
  scale: number;
  k?: number;
};

export function genSample(spec: SampleSpec): Float64Array {
  const rng = mulberry32(spec.seed);
  const out = new Float64Array(spec.n);
  for (let i = 0; i < spec.n; i++) {
    if (spec.kind === 'normal') out[i] = spec.loc + spec.scale * irwinHallNormal(rng);
    else if (spec.kind === 'uniform') out[i] = spec.loc + spec.scale * rng();
    else out[i] = Math.floor(rng() * spec.k!) + spec.loc;
  }
  return out;
}

export type DatasetSpec = {
  name: string;
  seed: number;
  d: number;
  clusters: { center: number[]; scale: number; count: number }[];
  outliers:
    | { kind: 'uniform'; count: number; low: number; high: number }
    | { kind: 'shift'; count: number; scale: number; shift: number[] };
};

export function genDataset(spec: DatasetSpec): { x: Matrix; labels: Uint8Array } {
  const rng = mulberry32(spec.seed);
  const rows = spec.clusters.reduce((s, c) => s + c.count, 0) + spec.outliers.count;
  const data = new Float64Array(rows * spec.d);
  const labels = new Uint8Array(rows);
  let k = 0;
  let r = 0;
  for (const c of spec.clusters) {
    for (let i = 0; i < c.count; i++, r++) {
      for (let f = 0; f < spec.d; f++) data[k++] = c.center[f]! + c.scale * irwinHallNormal(rng);
    }
  }
  const o = spec.outliers;
  for (let i = 0; i < o.count; i++, r++) {
    labels[r] = 1;
    for (let f = 0; f < spec.d; f++) {
      data[k++] =
        o.kind === 'uniform' ? o.low + (o.high - o.low) * rng() : o.shift[f]! + o.scale * irwinHallNormal(rng);
    }
  }
  return { x: { data, rows, cols: spec.d }, labels };
}

/** ROC AUC by the rank-sum (Mann–Whitney) formula with average ranks for ties, as sklearn. */
export function rocAuc(labels: Uint8Array, scores: Float64Array): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        rankSumPos += avgRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Python's math.fsum is exact; a Neumaier sum is close enough to compare generator checksums. */
export function neumaierSum(values: Float64Array): number {
  let sum = 0;
  let comp = 0;
  for (const v of values) {
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + comp;
}
