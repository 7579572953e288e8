import { describe, expect, it } from 'vitest';
import { ModelCache } from '../src/model-cache.js';

describe('ModelCache', () => {
  it('returns what was stored and nothing for unknown ids', () => {
    const cache = new ModelCache<{ v: number }>(2);
    cache.set('a', { v: 1 });
    expect(cache.get('a')).toEqual({ v: 1 });
    expect(cache.get('b')).toBeUndefined();
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const cache = new ModelCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('refuses a capacity that cannot hold a model', () => {
    expect(() => new ModelCache(0)).toThrow(/positive integer/);
  });
});
