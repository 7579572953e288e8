/**
 * A cache of CommonJS resolutions of relative requests, keyed like Node's own (the requiring
 * module's directory and the request).
 *
 * Why: the instrumentations' require hook (require-in-the-middle) resolves the file of every
 * `require` call, cached module or not, to see whether it is one to patch, and under the tsx
 * runtime a resolution tries several candidate files, throwing and catching an error with a
 * source-mapped stack for each miss. kafkajs requires its protocol request and response modules
 * inside every produce and fetch, so without this each relay pass paid for four fresh resolutions
 * (about 1.5 % of a /detect request's CPU). Node caches the same resolutions itself when no hook
 * is in the way (Module._load's relative resolve cache), with the same key and lifetime.
 */
import Module from 'node:module';

type Resolve = (request: string, parent?: { path?: string } | null, isMain?: boolean, options?: unknown) => string;
interface Resolver {
  _resolveFilename: Resolve;
}

const CACHED = Symbol.for('pynomaly.resolve-cache');

export function cacheRelativeResolution(target: Resolver = Module as unknown as Resolver): void {
  const original = target._resolveFilename as Resolve & { [CACHED]?: true };
  if (original[CACHED]) return;
  const cache = new Map<string, string>();
  const cached = function (this: unknown, request, parent, isMain, options) {
    // Only the plain form Node itself caches: relative, from a module with a directory, no options.
    if (options !== undefined || isMain || !parent?.path || !(request.startsWith('./') || request.startsWith('../')))
      return original.call(this, request, parent, isMain, options);
    const key = `${parent.path}\x00${request}`;
    let filename = cache.get(key);
    if (filename === undefined) {
      filename = original.call(this, request, parent, isMain, options);
      cache.set(key, filename);
    }
    return filename;
  } as Resolve & { [CACHED]?: true };
  cached[CACHED] = true;
  target._resolveFilename = cached;
}
