import { describe, expect, it } from 'vitest';
import { cacheRelativeResolution } from '../src/resolve-cache.js';

function countingResolver() {
  const calls: string[] = [];
  const target = {
    _resolveFilename(request: string, parent?: { path?: string } | null): string {
      calls.push(`${parent?.path ?? '-'} ${request}`);
      if (request.includes('missing'))
        throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
      return `${parent?.path ?? ''}/${request.replace(/^\.\//, '')}.js#${calls.length}`;
    },
  };
  return { target, calls };
}

describe('relative resolution cache', () => {
  it('resolves a relative request from one directory once, and from another directory again', () => {
    const { target, calls } = countingResolver();
    cacheRelativeResolution(target);
    const kafka = { path: '/app/node_modules/kafkajs/src/protocol/requests/produce' };
    const first = target._resolveFilename('./v7/request', kafka);
    expect(target._resolveFilename('./v7/request', kafka)).toBe(first);
    expect(target._resolveFilename('./v7/request', { path: '/elsewhere' })).not.toBe(first);
    expect(calls).toEqual([`${kafka.path} ./v7/request`, '/elsewhere ./v7/request']);
  });

  it('leaves package names, absolute paths, requests with options and failures uncached', () => {
    const { target, calls } = countingResolver();
    cacheRelativeResolution(target);
    const parent = { path: '/app' };
    for (let i = 0; i < 2; i++) {
      target._resolveFilename('pg', parent);
      target._resolveFilename('/abs/file', parent);
      (target._resolveFilename as (...a: unknown[]) => string)('./x', parent, false, { paths: ['/p'] });
      expect(() => target._resolveFilename('./missing', parent)).toThrow(/Cannot find module/);
    }
    expect(calls).toHaveLength(8);
  });

  it('installs once', () => {
    const { target, calls } = countingResolver();
    cacheRelativeResolution(target);
    const once = target._resolveFilename;
    cacheRelativeResolution(target);
    expect(target._resolveFilename).toBe(once);
    target._resolveFilename('./a', { path: '/d' });
    target._resolveFilename('./a', { path: '/d' });
    expect(calls).toHaveLength(1);
  });
});
