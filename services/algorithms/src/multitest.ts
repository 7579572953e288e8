/**
 * Multiple-testing adjustments of a family of p-values, as statsmodels.stats.multitest.multipletests
 * computes them ('bonferroni', 'holm', 'fdr_bh'): each returns adjusted p-values in input order,
 * so a hypothesis is rejected at level alpha when its adjusted p-value is <= alpha.
 */

function order(p: readonly number[]): number[] {
  for (const v of p) if (!(v >= 0 && v <= 1)) throw new RangeError(`p-values must be in [0, 1], got ${v}`);
  return p.map((_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
}

/** Bonferroni: min(1, k·p). Controls the family-wise error rate under any dependence. */
export function bonferroniAdjust(p: readonly number[]): number[] {
  order(p);
  return p.map((v) => Math.min(1, v * p.length));
}

/**
 * Holm's step-down: the i-th smallest p-value (1-based) times (k − i + 1), made monotone.
 * Same family-wise guarantee as Bonferroni under any dependence, never less powerful.
 */
export function holmAdjust(p: readonly number[]): number[] {
  const idx = order(p);
  const k = p.length;
  const out = new Array<number>(k);
  let running = 0;
  idx.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (k - rank) * p[i]!));
    out[i] = running;
  });
  return out;
}

/**
 * Benjamini–Hochberg step-up: the i-th smallest p-value times k / i, made monotone from the top.
 * Controls the false discovery rate (expected share of wrongly named features) for independent
 * or positively dependent tests.
 */
export function benjaminiHochbergAdjust(p: readonly number[]): number[] {
  const idx = order(p);
  const k = p.length;
  const out = new Array<number>(k);
  let running = 1;
  for (let rank = k - 1; rank >= 0; rank--) {
    const i = idx[rank]!;
    running = Math.min(running, (k / (rank + 1)) * p[i]!);
    out[i] = Math.min(1, running);
  }
  return out;
}
