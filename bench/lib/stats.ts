// Small numeric helpers for the bench: timing, geometric means, least squares, ROC AUC.

export function timeIt<T>(fn: () => T, repeats: number): { times: number[]; out: T } {
  const times: number[] = [];
  let out!: T;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    out = fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { times, out };
}

export const min = (xs: number[]): number => xs.reduce((a, b) => Math.min(a, b), Infinity);

export function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** The middle value, or the mean of the two middle values of an even count (unsorted input). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Ordinary least squares y = a + b x, with R². */
export function linearFit(x: number[], y: number[]): { intercept: number; slope: number; r2: number } {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** Exponent k of time ∝ size^k (least squares on logs): 1 means linear. */
export function logLogSlope(size: number[], time: number[]): { exponent: number; r2: number } {
  const f = linearFit(size.map(Math.log), time.map(Math.log));
  return { exponent: f.slope, r2: f.r2 };
}

/** ROC AUC by the rank-sum formula, ties counted half (as scikit-learn's roc_auc_score). */
export function rocAuc(scores: Float64Array, labels: Uint8Array): number {
  const idx = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]!] === 1) {
        pos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
