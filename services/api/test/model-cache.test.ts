import { describe, expect, it } from 'vitest';
import { ModelCache } from '../src/model-cache.js';

describe('ModelCache', () => {
  it('returns what was stored and nothing for unknown ids', () => {
    const cache = new ModelCache<{ v: number }>(100);
    cache.set('a', { v: 1 }, 10);
    expect(cache.get('a')).toEqual({ v: 1 });
    expect(cache.get('b')).toBeUndefined();
  });

  it('evicts the least recently used entries until the bytes fit the budget', () => {
    const cache = new ModelCache<number>(100);
    cache.set('a', 1, 40);
    cache.set('b', 2, 40);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3, 40);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.bytes).toBe(80);
    cache.set('d', 4, 90); // needs both a and c gone
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([undefined, undefined, 4]);
    expect(cache.bytes).toBe(90);
  });

  it('does not keep a value larger than the whole budget, and keeps what it had', () => {
    const cache = new ModelCache<number>(100);
    cache.set('a', 1, 60);
    expect(cache.set('huge', 2, 101)).toBe(false);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.bytes).toBe(60);
  });

  it('counts a replaced entry once', () => {
    const cache = new ModelCache<number>(100);
    cache.set('a', 1, 60);
    cache.set('a', 2, 30);
    expect(cache.bytes).toBe(30);
    expect(cache.size).toBe(1);
  });

  it('refuses a budget that cannot hold a model', () => {
    expect(() => new ModelCache(0)).toThrow(/positive number of bytes/);
  });
});
