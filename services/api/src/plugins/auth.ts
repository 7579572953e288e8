/**
 * Who may call which route. Every route declares the scope it needs in its schema, as
 * `'x-scope'` (so the OpenAPI document shows it per operation):
 *
 *   app.get('/api/v1/things', { schema: { 'x-scope': 'read', ... } }, handler)
 *
 * `'public'` opens a route to everyone (probes, docs). A route that declares nothing is closed:
 * every request to it gets 403 until it does (and the route × scope test fails).
 *
 * Order of checks per request: (1) an address that has used up its failed authentications gets
 * 429 before its key is even compared; (2) no key or an unknown key is 401 and counts as a
 * failure; (3) a known key without the route's scope is 403 naming the missing scope. Every
 * decision is logged and counted with the key's name (never the key).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  findCredential,
  grants,
  instruments,
  presentedSecret,
  secretDigest,
  SCOPES,
  type ApiKeyEntry,
  type Credential,
  type Scope,
} from '@pynomaly/shared';
import { ApiError } from '../errors.js';
import { FailureWindows } from './auth-failures.js';

export type RouteScope = Scope | 'public';

export interface Principal {
  /** The key's configured name (or `scrape` for the scrape token); what logs and metrics show. */
  name: string;
  scopes: readonly Scope[];
}

declare module 'fastify' {
  interface FastifySchema {
    /** The scope a caller needs for this route, or 'public'. Required on every route. */
    'x-scope'?: RouteScope;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthOptions {
  apiKeys: ApiKeyEntry[];
  /** Outside production only: every request is let through as `anonymous`. */
  authDisabled: boolean;
  /** Accepted on the metrics:read routes besides keys with that scope; none: metrics are open. */
  scrapeTokens: string[];
  /** Failed authentications per address per minute before 429 (default 20). */
  failuresPerMinute?: number;
}

export type AuthOutcome = 'allowed' | 'forbidden' | 'unauthenticated' | 'throttled';

/** The scope a route declared, `public`, or undefined when it declared none. */
export function routeScope(request: FastifyRequest): RouteScope | undefined {
  return request.routeOptions.schema?.['x-scope'];
}

export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const keys: Credential<Principal>[] = opts.apiKeys.flatMap((k) =>
    k.keys.map((secret) => ({ digest: secretDigest(secret), value: { name: k.name, scopes: k.scopes } })),
  );
  const scrapeKeys: Credential<Principal>[] = opts.scrapeTokens.map((t) => ({
    digest: secretDigest(t),
    value: { name: 'scrape', scopes: ['metrics:read'] },
  }));
  const failures = new FailureWindows(opts.failuresPerMinute ?? 20);
  const anonymous: Principal = { name: 'anonymous', scopes: [...SCOPES] };

  const decide = (request: FastifyRequest, outcome: AuthOutcome, key: string, scope: string, reason?: string) => {
    instruments().authDecisions.add(1, { key, scope, outcome }, `${key}\u0000${scope}\u0000${outcome}`);
    const entry = { auth: { key, scope, outcome, ...(reason ? { reason } : {}) } };
    if (outcome === 'allowed') request.log.info(entry, 'auth decision');
    else request.log.warn(entry, 'auth decision');
  };

  // Synchronous: deciding needs no I/O, and an async hook costs two promises on every request.
  const authenticate = (request: FastifyRequest, reply: FastifyReply): void => {
    const declared = routeScope(request);
    if (declared === 'public') return;
    // Unknown URLs still need a valid key (so the API's shape is not probed anonymously), then 404.
    const required: Scope | undefined = request.is404 ? undefined : declared;
    const scopeLabel = request.is404 ? 'none' : (declared ?? 'undeclared');
    if (!request.is404 && declared === undefined) {
      decide(request, 'forbidden', 'unknown', scopeLabel, 'route declares no scope');
      throw new ApiError(
        403,
        'forbidden',
        `route ${request.method} ${request.routeOptions.url} declares no scope; it is closed`,
      );
    }
    if (required === 'metrics:read' && scrapeKeys.length === 0) {
      request.principal = anonymous;
      return;
    }
    if (opts.authDisabled) {
      request.principal = anonymous;
      return;
    }

    const address = request.ip;
    const wait = failures.blocked(address);
    if (wait > 0) {
      decide(request, 'throttled', 'unknown', scopeLabel);
      void reply.header('retry-after', String(wait));
      throw new ApiError(429, 'rate_limited', `too many failed authentications from ${address}; retry in ${wait} s`);
    }
    const secret = presentedSecret(request.headers);
    const principal = secret
      ? findCredential(secret, required === 'metrics:read' ? [...keys, ...scrapeKeys] : keys)
      : undefined;
    if (!principal) {
      failures.record(address);
      decide(request, 'unauthenticated', 'unknown', scopeLabel, secret ? 'key not valid' : 'no key');
      if (!secret) {
        throw new ApiError(
          401,
          'unauthorized',
          required === 'metrics:read'
            ? 'metrics require Authorization: Bearer <scrape token>'
            : 'missing API key: send X-API-Key or Authorization: Bearer <key>',
        );
      }
      throw new ApiError(
        401,
        'unauthorized',
        required === 'metrics:read' ? 'scrape token is not valid' : 'API key is not valid',
      );
    }
    if (required !== undefined && !grants(principal.scopes, required)) {
      decide(request, 'forbidden', principal.name, scopeLabel, `missing scope ${required}`);
      throw new ApiError(
        403,
        'forbidden',
        `API key "${principal.name}" lacks the scope "${required}" that ${request.method} ${request.routeOptions.url} requires`,
      );
    }
    request.principal = principal;
    decide(request, 'allowed', principal.name, scopeLabel);
  };
  app.addHook('onRequest', (request, reply, done) => {
    try {
      authenticate(request, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });
}
