/**
 * API-key and scrape-token authentication. Keys are configured raw or as `sha256:<hex>` (so a
 * deployment can keep only hashes); both sides are compared as SHA-256 digests with
 * timingSafeEqual, against every configured key, so timing does not reveal which one matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

export type AuthMode = 'api' | 'scrape' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
}

export interface AuthOptions {
  apiKeys: string[];
  authDisabled: boolean;
  scrapeToken: string | undefined;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function keyDigests(keys: string[]): Buffer[] {
  return keys.map((k) => (k.startsWith('sha256:') ? Buffer.from(k.slice(7), 'hex') : sha256(k)));
}

export function matchesAny(candidate: string, digests: Buffer[]): boolean {
  const d = sha256(candidate);
  let ok = false;
  for (const known of digests) ok = timingSafeEqual(d, known) || ok;
  return ok;
}

function presented(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  return undefined;
}

export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const apiDigests = keyDigests(opts.apiKeys);
  const scrapeDigests = opts.scrapeToken ? [sha256(opts.scrapeToken)] : [];
  app.addHook('onRequest', async (request) => {
    const mode: AuthMode = request.routeOptions.config.auth ?? 'api';
    if (mode === 'public') return;
    if (mode === 'scrape') {
      if (scrapeDigests.length === 0) return;
      const token = presented(request);
      if (!token) throw new ApiError(401, 'unauthorized', 'metrics require Authorization: Bearer <scrape token>');
      if (!matchesAny(token, scrapeDigests)) throw new ApiError(401, 'unauthorized', 'scrape token is not valid');
      return;
    }
    if (opts.authDisabled) return;
    const key = presented(request);
    if (!key) throw new ApiError(401, 'unauthorized', 'missing API key: send X-API-Key or Authorization: Bearer <key>');
    if (!matchesAny(key, apiDigests)) throw new ApiError(401, 'unauthorized', 'API key is not valid');
  });
}
