// The radix sort must order exactly as Float64Array#sort does: every statistic built on sorted
// samples (KS, Wasserstein, quantiles) then gives the same results as before.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/random.js';
import { RADIX_MIN_LENGTH, sortFloat64Copy } from '../src/radix-sort.js';

function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('sortFloat64Copy', () => {
  it('orders like Float64Array#sort over signs, zeros, subnormals, infinities and ties', () => {
    const rand = mulberry32(11);
    for (const n of [RADIX_MIN_LENGTH, 10_000, 65_537]) {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = rand();
        a[i] = r < 0.1 ? Math.round(r * 100) / 10 : (rand() - 0.5) * Math.exp(rand() * 80 - 40);
      }
      a.set([-0, 0, -0, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1, 1, 1]);
      const before = Float64Array.from(a);
      const sorted = sortFloat64Copy(a);
      expect(sameBits(sorted, Float64Array.from(a).sort())).toBe(true);
      expect(sameBits(a, before), 'the input is left as it was').toBe(true);
    }
  });

  it('handles arrays where every value shares high bits (passes skipped) and all-equal arrays', () => {
    const n = RADIX_MIN_LENGTH * 2;
    const a = Float64Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % n) / n);
    expect(sameBits(sortFloat64Copy(a), Float64Array.from(a).sort())).toBe(true);
    const same = new Float64Array(n).fill(-3.25);
    expect(sameBits(sortFloat64Copy(same), same)).toBe(true);
  });

  it('orders values that differ only in their low bits (long runs of one high half), either sign', () => {
    const n = RADIX_MIN_LENGTH * 3;
    const rand = mulberry32(5);
    const a = Float64Array.from({ length: n }, (_, i) => {
      const base = i % 3 === 0 ? 1.5 : i % 3 === 1 ? -2.25 : 7;
      return base + (i % 3 === 1 ? -1 : 1) * Math.floor(rand() * 1000) * Number.EPSILON * 4;
    });
    expect(sameBits(sortFloat64Copy(a), Float64Array.from(a).sort())).toBe(true);
    const short = Float64Array.from({ length: RADIX_MIN_LENGTH }, (_, i) => 3 + ((i * 37) % 20) * Number.EPSILON * 4);
    expect(sameBits(sortFloat64Copy(short), Float64Array.from(short).sort())).toBe(true);
  });

  it('leaves arrays holding NaN and short arrays to the native sort', () => {
    const a = Float64Array.from({ length: RADIX_MIN_LENGTH + 5 }, (_, i) => (i % 3 === 0 ? NaN : -i));
    expect(sameBits(sortFloat64Copy(a), Float64Array.from(a).sort())).toBe(true);
    const short = Float64Array.from([3, -1, 2, -0, 0]);
    expect(sameBits(sortFloat64Copy(short), Float64Array.from(short).sort())).toBe(true);
  });
});
