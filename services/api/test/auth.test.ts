import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { findCredential, presentedSecret, secretDigest, type ApiKeyEntry } from '@pynomaly/shared';
import type { AuthOptions } from '../src/plugins/auth.js';
import type { FakeStore } from './fake-store.js';
import { API_KEY, TEST_KEYS, testApp } from './helpers.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const WEBHOOK_KEY = 'unit-test-alertmanager';
const WRITE_KEY = 'unit-test-writer-key';
const KEYS: ApiKeyEntry[] = [
  ...TEST_KEYS,
  { name: 'writer', scopes: ['write'], keys: [`sha256:${sha(WRITE_KEY)}`] },
  { name: 'alertmanager', scopes: ['alerts:write'], keys: [WEBHOOK_KEY] },
];
const auth = (over: Partial<AuthOptions> = {}): AuthOptions => ({
  apiKeys: KEYS,
  authDisabled: false,
  scrapeTokens: [],
  ...over,
});

const alert = (status: 'firing' | 'resolved') => ({
  version: '4',
  status,
  receiver: 'pynomaly-webhook',
  groupKey: '{}:{alertname="DataDriftDetected"}',
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  truncatedAlerts: 0,
  alerts: [
    {
      status,
      labels: { alertname: 'DataDriftDetected', severity: 'critical' },
      annotations: { summary: 'forged?' },
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: 'f00d',
    },
  ],
});

describe('credentials', () => {
  it('finds keys given raw or as sha256 digests, by exact secret only', () => {
    const candidates = [
      { digest: secretDigest('raw-one-0123456789'), value: 'one' },
      { digest: secretDigest(`sha256:${sha('hashed-two-0123456789')}`), value: 'two' },
    ];
    expect(findCredential('raw-one-0123456789', candidates)).toBe('one');
    expect(findCredential('hashed-two-0123456789', candidates)).toBe('two');
    expect(findCredential(`sha256:${sha('hashed-two-0123456789')}`, candidates)).toBeUndefined();
    expect(findCredential('raw-one-012345678', candidates)).toBeUndefined();
    expect(findCredential('', candidates)).toBeUndefined();
  });

  it('reads the key from X-API-Key or any spelling of a Bearer header', () => {
    for (const headers of [
      { 'x-api-key': 'k1' },
      { 'x-api-key': ' k1 ' },
      { authorization: 'Bearer k1' },
      { authorization: 'bearer   k1' },
      { authorization: '  BEARER k1  ' },
    ])
      expect(presentedSecret(headers)).toBe('k1');
    expect(presentedSecret({ authorization: 'Basic k1' })).toBeUndefined();
    expect(presentedSecret({ authorization: 'Bearer k1 k2' })).toBeUndefined();
  });
});

describe('API keys', () => {
  it('guards /api/v1 with X-API-Key or a Bearer key', async () => {
    ({ app } = await testApp({ auth: auth() }));
    const url = '/api/v1/datasets';
    expect((await app.inject({ url })).statusCode).toBe(401);
    const wrong = await app.inject({ url, headers: { 'x-api-key': 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toMatch(/API key is not valid/);
    expect((await app.inject({ url, headers: { 'x-api-key': API_KEY } })).statusCode).toBe(200);
    expect((await app.inject({ url, headers: { authorization: `Bearer ${WRITE_KEY}` } })).statusCode).toBe(200);
  });

  it('answers 403 naming the missing scope', async () => {
    ({ app } = await testApp({ auth: auth() }));
    const r = await app.inject({ url: '/api/v1/alerts', headers: { 'x-api-key': WEBHOOK_KEY } });
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'forbidden' });
    expect(r.json().message).toBe('API key "alertmanager" lacks the scope "read" that GET /api/v1/alerts requires');
  });

  it('accepts both keys of a rotation under one name', async () => {
    ({ app } = await testApp({
      auth: auth({
        apiKeys: [{ name: 'ci', scopes: ['read'], keys: ['ci-old-key-0123456789', 'ci-new-key-0123456789'] }],
      }),
    }));
    for (const key of ['ci-old-key-0123456789', 'ci-new-key-0123456789'])
      expect((await app.inject({ url: '/api/v1/datasets', headers: { 'x-api-key': key } })).statusCode).toBe(200);
  });

  it('leaves probes and docs public, and metrics open unless a scrape token is set', async () => {
    ({ app } = await testApp());
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/docs/json' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/metrics' })).statusCode).toBe(200);
  });

  it('requires the scrape token (or a metrics:read key) on every metrics view when one is configured', async () => {
    ({ app } = await testApp({
      auth: auth({
        scrapeTokens: ['scrape-secret-0123456789'],
        apiKeys: [...KEYS, { name: 'grafana', scopes: ['metrics:read'], keys: ['metrics-reader-0123456789'] }],
      }),
    }));
    for (const url of ['/api/metrics', '/api/metrics/business', '/api/metrics/models', '/api/metrics/drift']) {
      expect((await app.inject({ url })).statusCode).toBe(401);
      // An ordinary key, even admin, is not a scrape credential.
      expect((await app.inject({ url, headers: { authorization: `Bearer ${API_KEY}` } })).statusCode).toBe(403);
      const ok = await app.inject({ url, headers: { authorization: 'Bearer scrape-secret-0123456789' } });
      expect(ok.statusCode).toBe(200);
      if (url === '/api/metrics') expect(ok.body).toContain('pynomaly_build_info');
      const key = await app.inject({ url, headers: { 'x-api-key': 'metrics-reader-0123456789' } });
      expect(key.statusCode).toBe(200);
    }
  });

  it('serves OpenMetrics when asked', async () => {
    ({ app } = await testApp());
    const r = await app.inject({
      url: '/api/metrics',
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(r.headers['content-type']).toMatch(/application\/openmetrics-text/);
    expect(r.body.trimEnd().endsWith('# EOF')).toBe(true);
    const plain = await app.inject({ url: '/api/metrics' });
    expect(plain.headers['content-type']).toMatch(/text\/plain/);
  });

  it('reports unready with the failing dependency named', async () => {
    ({ app } = await testApp({
      readiness: { postgres: async () => {}, kafka: async () => Promise.reject(new Error('no brokers')) },
    }));
    const r = await app.inject({ url: '/health/ready' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({
      status: 'unavailable',
      checks: { postgres: { status: 'ok' }, kafka: { status: 'fail', error: 'no brokers' } },
    });
  });
});

describe('the Alertmanager webhook', () => {
  it('refuses ordinary keys (a forged alert leaves the history unchanged) and accepts only alerts:write', async () => {
    let store: FakeStore;
    ({ app, store } = await testApp({ auth: auth() }));
    const post = (key: string, status: 'firing' | 'resolved') =>
      app!.inject({
        method: 'POST',
        url: '/api/v1/alerts/webhook',
        headers: { authorization: `Bearer ${key}` },
        payload: alert(status),
      });
    for (const key of [WRITE_KEY, API_KEY]) {
      const forged = await post(key, 'resolved');
      expect(forged.statusCode).toBe(403);
      expect(forged.json().message).toMatch(/lacks the scope "alerts:write"/);
    }
    expect(await store.listAlerts()).toEqual([]);

    const real = await post(WEBHOOK_KEY, 'firing');
    expect(real.statusCode).toBe(200);
    expect(real.json()).toEqual({ stored: 1 });
    const history = await store.listAlerts();
    expect(history.map((a) => [a.alertname, a.status])).toEqual([['DataDriftDetected', 'firing']]);

    // The webhook credential can do nothing else: not read, not write.
    for (const [method, url] of [
      ['GET', '/api/v1/alerts'],
      ['GET', '/api/v1/datasets'],
      ['POST', '/api/v1/detectors'],
    ] as const) {
      const r = await app.inject({ method, url, headers: { 'x-api-key': WEBHOOK_KEY }, payload: {} });
      expect(r.statusCode).toBe(403);
    }
  });
});

describe('failed authentications', () => {
  it('throttle an address with 429 after the configured failures, before any key is compared', async () => {
    ({ app } = await testApp({ auth: auth({ failuresPerMinute: 3 }) }));
    const get = (headers: Record<string, string>, remoteAddress = '203.0.113.7') =>
      app!.inject({ url: '/api/v1/datasets', headers, remoteAddress });
    for (const guess of ['guess-1', 'guess-2', 'guess-3'])
      expect((await get({ 'x-api-key': guess })).statusCode).toBe(401);
    for (const headers of [{ 'x-api-key': 'guess-4' }, {}, { 'x-api-key': API_KEY }] as Record<string, string>[]) {
      // Even the right key: the address is refused before its key is looked at.
      const r = await get(headers);
      expect(r.statusCode).toBe(429);
      expect(r.json()).toMatchObject({ code: 'rate_limited' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Other addresses are not affected.
    expect((await get({ 'x-api-key': API_KEY }, '198.51.100.1')).statusCode).toBe(200);
  });

  it('are not counted for a valid key that lacks a scope', async () => {
    ({ app } = await testApp({ auth: auth({ failuresPerMinute: 2 }) }));
    for (let i = 0; i < 4; i++) {
      const r = await app.inject({ url: '/api/v1/alerts', headers: { 'x-api-key': WEBHOOK_KEY } });
      expect(r.statusCode).toBe(403);
    }
  });
});

describe('rate limiting', () => {
  it('gives every spelling of one key, and both keys of a rotation, one shared quota', async () => {
    ({ app } = await testApp({
      auth: auth({
        apiKeys: [{ name: 'ci', scopes: ['read'], keys: ['ci-old-key-0123456789', 'ci-new-key-0123456789'] }],
      }),
      rateLimit: { max: 5, timeWindowMs: 60_000 },
    }));
    const variants = [
      { 'x-api-key': 'ci-old-key-0123456789' },
      { authorization: 'Bearer ci-old-key-0123456789' },
      { authorization: 'bearer    ci-old-key-0123456789' },
      { authorization: ' BEARER ci-old-key-0123456789 ' },
      { 'x-api-key': 'ci-new-key-0123456789' },
    ];
    for (const headers of variants)
      expect((await app.inject({ url: '/api/v1/datasets', headers })).statusCode).toBe(200);
    for (const headers of variants) {
      const r = await app.inject({ url: '/api/v1/datasets', headers });
      expect(r.statusCode).toBe(429);
    }
  });

  it('answers 429 once a client exceeds its budget, keyed per API key', async () => {
    ({ app } = await testApp({ rateLimit: { max: 2, timeWindowMs: 60_000 } }));
    const get = (key: string) => app!.inject({ url: '/api/v1/datasets', headers: { 'x-api-key': key } });
    expect((await get(API_KEY)).statusCode).toBe(200);
    expect((await get(API_KEY)).statusCode).toBe(200);
    const limited = await get(API_KEY);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(limited.headers['retry-after']).toBeDefined();
    // Probes are never rate limited.
    expect((await app!.inject({ url: '/health/live' })).statusCode).toBe(200);
  });
});

describe('infrastructure failures', () => {
  it('answers 503 with Retry-After when the database is down, 500 for a bug', async () => {
    const { FakeStore } = await import('./fake-store.js');
    const store = new FakeStore();
    let failure: Error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    store.listDatasets = async () => {
      throw failure;
    };
    ({ app } = await testApp({ store }));
    const down = await app.inject({ url: '/api/v1/datasets', headers: { 'x-api-key': API_KEY } });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.json().message).toMatch(/database is unavailable/);
    failure = new TypeError('boom');
    const bug = await app.inject({ url: '/api/v1/datasets', headers: { 'x-api-key': API_KEY } });
    expect(bug.statusCode).toBe(500);
    expect(bug.json().message).toBe('internal server error');
  });
});
