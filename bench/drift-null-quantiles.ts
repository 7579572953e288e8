// Checks the two-sample bootstrap calibration of the Cramér–von Mises sum against direct
// simulation: the 99 % and 99.5 % null quantiles of the sum over ten independent normal features,
// from fresh reference and window samples, next to the bootstrap from three reference samples,
// for reference sizes 1000/2000 and window sizes 100–2000. Usage: npx tsx bench/drift-null-quantiles.ts
import { cvmTwoSampleSorted, irwinHallNormal, mulberry32, twoSampleNullDraws, type Rng } from '@pynomaly/algorithms';

const FEATURES = 10;
const TRIALS = 4000;

function columns(rng: Rng, rows: number): number[][] {
  return Array.from({ length: FEATURES }, () => Array.from({ length: rows }, () => irwinHallNormal(rng)));
}

function quantile(a: Float64Array, p: number): number {
  const s = Float64Array.from(a).sort();
  return s[Math.floor(p * s.length)]!;
}

for (const m of [1000, 2000]) {
  for (const n of [100, 500, 1000, 2000]) {
    const rng = mulberry32(n * 7 + m);
    const direct = new Float64Array(TRIALS);
    for (let t = 0; t < TRIALS; t++) {
      const ref = columns(rng, m);
      const win = columns(rng, n);
      let s = 0;
      for (let j = 0; j < FEATURES; j++)
        s += cvmTwoSampleSorted(Float64Array.from(ref[j]!).sort(), Float64Array.from(win[j]!).sort());
      direct[t] = s;
    }
    const boot: string[] = [];
    for (let r = 0; r < 3; r++) {
      const d = twoSampleNullDraws(columns(rng, m), n, TRIALS, mulberry32(r + 1));
      boot.push(`${quantile(d, 0.99).toFixed(3)}/${quantile(d, 0.995).toFixed(3)}`);
    }
    console.log(
      `m=${m} n=${n} direct q99/q99.5 ${quantile(direct, 0.99).toFixed(3)}/${quantile(direct, 0.995).toFixed(3)} | two-sample bootstrap ${boot.join(' ')}`,
    );
  }
}
