/**
 * Ascending sort of float64 values by radix sort on their bits: linear in n, several times faster
 * than the comparison sort of Float64Array#sort for large arrays. The order is exactly
 * Float64Array#sort's for non-NaN values (-0 before +0); arrays holding NaN are left to it.
 *
 * Each value's 64 bits become an unsigned key that orders like the number: negative values have
 * every bit flipped, non-negative ones only the sign bit. The keys' high halves (sign, exponent
 * and the top 20 mantissa bits) are sorted 11 bits at a time (three passes, 2048 buckets: the
 * counts stay in cache), skipping digits every key shares; values that share a high half (few,
 * for measured data) are then put in order among themselves by comparison. Works on the two
 * 32-bit halves (little-endian layout, as on every platform Node runs on).
 */

const BITS = 11;
const BUCKETS = 1 << BITS;
const MASK = BUCKETS - 1;
const PASSES = 3; // ceil(32 / 11)
/** Runs of equal high halves up to this length are insertion-sorted, longer ones natively. */
const INSERTION_RUN = 24;

/** Below this many values the native sort is as fast (the passes have a fixed cost). */
export const RADIX_MIN_LENGTH = 4096;

/** Sorts out[from, to) ascending by comparison (all non-NaN). */
function sortRun(out: Float64Array, from: number, to: number): void {
  if (to - from > INSERTION_RUN) {
    out.subarray(from, to).sort();
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const v = out[i]!;
    let j = i - 1;
    // Strictly greater moves, so -0 stays before +0 (they never share a high half anyway).
    while (j >= from && out[j]! > v) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = v;
  }
}

/** A sorted copy of `values` (the input is not modified). */
export function sortFloat64Copy(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN_LENGTH) return Float64Array.from(values).sort();
  // The input's bits, read in place (no copy); keys go to a buffer of our own.
  const input = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  let keys = new Uint32Array(2 * n);
  const counts = new Uint32Array(PASSES * BUCKETS);
  // One pass: NaN check, key transform and every digit's histogram.
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) return Float64Array.from(values).sort(); // NaN: leave its placement to the native sort
    let lo = input[2 * i]!;
    let hi = input[2 * i + 1]!;
    if (hi & 0x80000000) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    } else {
      hi = (hi | 0x80000000) >>> 0;
    }
    keys[2 * i] = lo;
    keys[2 * i + 1] = hi;
    counts[hi & MASK]!++;
    counts[BUCKETS + ((hi >>> BITS) & MASK)]!++;
    counts[2 * BUCKETS + (hi >>> (2 * BITS))]!++;
  }
  let other = new Uint32Array(2 * n);
  for (let p = 0; p < PASSES; p++) {
    const base = p * BUCKETS;
    const shift = p * BITS;
    // A digit every key shares moves nothing: skip the pass.
    let skip = false;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[base + b]!;
      if (c === n) skip = true;
      if (c !== 0) break;
    }
    if (skip) continue;
    let sum = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[base + b]!;
      counts[base + b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const lo = keys[2 * i]!;
      const hi = keys[2 * i + 1]!;
      const at = counts[base + ((hi >>> shift) & MASK)]!++;
      other[2 * at] = lo;
      other[2 * at + 1] = hi;
    }
    const t = keys;
    keys = other;
    other = t;
  }
  // Back to the values; runs sharing a high half (in any low-half order so far) get sorted.
  const out = new Float64Array(keys.buffer);
  let runStart = 0;
  let runHi = keys[1]!;
  for (let i = 0; i < n; i++) {
    const hi = keys[2 * i + 1]!;
    if (hi !== runHi) {
      if (i - runStart > 1) sortRun(out, runStart, i);
      runStart = i;
      runHi = hi;
    }
    if (hi & 0x80000000) {
      keys[2 * i + 1] = hi & 0x7fffffff;
    } else {
      keys[2 * i] = ~keys[2 * i]!;
      keys[2 * i + 1] = ~hi;
    }
  }
  if (n - runStart > 1) sortRun(out, runStart, n);
  return out;
}
