/**
 * Seeded PRNG (mulberry32). Small, fast and — because it only uses 32-bit integer ops — bit-identical
 * to the Python port in scripts/fixtures/make_algorithm_fixtures.py, so fixtures can be regenerated
 * from a seed on both sides.
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Approximately standard normal: Irwin–Hall sum of 12 uniforms minus 6 (no transcendental calls). */
export function irwinHallNormal(rng: Rng): number {
  let s = 0;
  for (let i = 0; i < 12; i++) s += rng();
  return s - 6;
}

/**
 * Standard normal by Box–Muller, from two draws. `1 - rng()` lies in (0, 1], so the logarithm is
 * always finite: no clamp needed. The one seeded normal generator for test, demo and bench data.
 */
export function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}
