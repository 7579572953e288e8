import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../src/random.js';

describe('gaussian (seeded Box–Muller)', () => {
  it('is finite at the ends of the uniform range, where log(0) would not be', () => {
    for (const [u1, u2] of [
      [0, 0],
      [0, 0.999999999],
      [1 - 2 ** -32, 0.25],
    ]) {
      const draws = [u1!, u2!];
      expect(Number.isFinite(gaussian(() => draws.shift()!))).toBe(true);
    }
  });

  it('repeats for a seed and has mean 0 and variance 1', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const n = 200_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const x = gaussian(a);
      expect(x).toBe(gaussian(b));
      sum += x;
      squares += x * x;
    }
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(squares / n - mean * mean - 1)).toBeLessThan(0.02);
  });
});
