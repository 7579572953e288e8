// Every route × every scope, generated from the routes the app registers (and cross-checked with
// the OpenAPI document): a route added without `'x-scope'` in its schema shows up here as a failing
// case. The expected matrix is written out below, independently of the code that enforces it.
import { afterAll, describe, expect, it } from 'vitest';
import { SCOPES, type ApiKeyEntry, type Scope } from '@pynomaly/shared';
import type { RouteScope } from '../src/plugins/auth.js';
import { testApp } from './helpers.js';

const secretFor = (scope: Scope) => `scope-test-key-${scope}`;
const KEYS: ApiKeyEntry[] = SCOPES.map((scope) => ({
  name: `only-${scope.replace(':', '-')}`,
  scopes: [scope],
  keys: [secretFor(scope)],
}));
const SCRAPE_TOKEN = 'scope-test-scrape-token';

/** Which single-scope keys may use a route that requires the column's scope. */
const ALLOWED: Record<RouteScope, readonly Scope[]> = {
  public: SCOPES,
  read: ['read', 'write', 'admin'],
  write: ['write', 'admin'],
  admin: ['admin'],
  'alerts:write': ['alerts:write'],
  'metrics:read': ['metrics:read'],
};

const { app } = await testApp({
  auth: { apiKeys: KEYS, authDisabled: false, scrapeTokens: [SCRAPE_TOKEN], failuresPerMinute: 1_000_000 },
});
afterAll(() => app.close());
await app.ready();

// HEAD and OPTIONS mirror their GET; every other method of every route is a row.
const routes = app.routeTable.filter((r) => r.method !== 'OPTIONS');
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
const call = (method: string, url: string, headers: Record<string, string> = {}) =>
  app.inject({ method: method as 'GET', url: concrete(url), headers });

describe('route declarations', () => {
  it('lists the API routes (the generator sees them all)', () => {
    const urls = new Set(routes.map((r) => r.url));
    for (const u of ['/api/v1/datasets', '/api/v1/alerts/webhook', '/api/metrics', '/health/live', '/docs/json'])
      expect(urls).toContain(u);
  });

  it.each(routes.map((r) => [`${r.method} ${r.url}`, r] as const))('%s declares its scope', (_name, route) => {
    expect(route.scope, `add 'x-scope' to the schema of ${route.method} ${route.url}`).toBeDefined();
  });

  it("shows each operation's scope in the OpenAPI document", async () => {
    const doc = (await call('GET', '/docs/json')).json() as {
      paths: Record<string, Record<string, { 'x-scope'?: string }>>;
    };
    let operations = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = path.replace(/\{(\w+)\}/g, ':$1');
        const route = routes.find((r) => r.url === url && r.method === method.toUpperCase());
        expect(route, `${method} ${path}`).toBeDefined();
        expect(op['x-scope'], `${method} ${path}`).toBe(route!.scope);
        operations++;
      }
    }
    expect(operations).toBeGreaterThanOrEqual(15);
  });
});

const cases = routes.flatMap((r) =>
  SCOPES.map((scope) => [`${r.method} ${r.url} with a ${scope} key`, r, scope] as const),
);

describe('route × scope', () => {
  it.each(cases)('%s', async (_name, route, scope) => {
    const r = await call(route.method, route.url, { 'x-api-key': secretFor(scope) });
    const required = route.scope ?? 'undeclared';
    if (required !== 'undeclared' && ALLOWED[required].includes(scope)) {
      expect([401, 403, 429], `${r.statusCode} ${r.body}`).not.toContain(r.statusCode);
    } else {
      expect(r.statusCode, r.body).toBe(403);
      // HEAD answers carry no body.
      if (route.method !== 'HEAD')
        expect(r.json().message).toContain(required === 'undeclared' ? 'declares no scope' : `"${required}"`);
    }
  });

  it.each(routes.map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s without a key, and with the scrape token',
    async (_name, route) => {
      const anonymous = await call(route.method, route.url);
      const scrape = await call(route.method, route.url, { authorization: `Bearer ${SCRAPE_TOKEN}` });
      if (route.scope === 'public') {
        expect([401, 403]).not.toContain(anonymous.statusCode);
      } else if (route.scope === undefined) {
        expect(anonymous.statusCode).toBe(403);
      } else {
        expect(anonymous.statusCode).toBe(401);
        // The scrape token opens the metrics endpoints and nothing else.
        if (route.scope === 'metrics:read') expect(scrape.statusCode).toBe(200);
        else expect(scrape.statusCode).toBe(401);
      }
    },
  );
});

describe('a route that declares no scope', () => {
  it('is closed to every key, even admin', async () => {
    const { app: open } = await testApp({
      auth: { apiKeys: KEYS, authDisabled: false, scrapeTokens: [] },
    });
    open.get('/api/v1/undeclared', async () => ({ ok: true }));
    await open.ready();
    try {
      expect(open.routeTable.find((r) => r.url === '/api/v1/undeclared')?.scope).toBeUndefined();
      for (const scope of SCOPES) {
        const r = await open.inject({ url: '/api/v1/undeclared', headers: { 'x-api-key': secretFor(scope) } });
        expect(r.statusCode).toBe(403);
        expect(r.json().message).toMatch(/declares no scope/);
      }
    } finally {
      await open.close();
    }
  });
});
