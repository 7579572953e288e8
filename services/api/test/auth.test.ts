import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { keyDigests, matchesAny } from '../src/plugins/auth.js';
import { API_KEY, testApp } from './helpers.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('API keys', () => {
  it('accepts raw and sha256-hashed keys and nothing else', () => {
    const digests = keyDigests(['raw-one', `sha256:${sha('hashed-two')}`]);
    expect(matchesAny('raw-one', digests)).toBe(true);
    expect(matchesAny('hashed-two', digests)).toBe(true);
    expect(matchesAny(`sha256:${sha('hashed-two')}`, digests)).toBe(false);
    expect(matchesAny('raw-one ', digests)).toBe(false);
    expect(matchesAny('', digests)).toBe(false);
  });

  it('guards /api/v1 with X-API-Key or a Bearer key', async () => {
    ({ app } = await testApp({
      auth: { apiKeys: [`sha256:${sha(API_KEY)}`], authDisabled: false, scrapeToken: undefined },
    }));
    const url = '/api/v1/datasets';
    expect((await app.inject({ url })).statusCode).toBe(401);
    const wrong = await app.inject({ url, headers: { 'x-api-key': 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toMatch(/API key is not valid/);
    expect((await app.inject({ url, headers: { 'x-api-key': API_KEY } })).statusCode).toBe(200);
    expect((await app.inject({ url, headers: { authorization: `Bearer ${API_KEY}` } })).statusCode).toBe(200);
  });

  it('leaves probes and docs public, and metrics open unless a scrape token is set', async () => {
    ({ app } = await testApp());
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/docs/json' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/metrics' })).statusCode).toBe(200);
  });

  it('requires the scrape token on every metrics view when one is configured', async () => {
    ({ app } = await testApp({ auth: { apiKeys: [API_KEY], authDisabled: false, scrapeToken: 'scrape-secret' } }));
    for (const url of ['/api/metrics', '/api/metrics/business', '/api/metrics/models', '/api/metrics/drift']) {
      expect((await app.inject({ url })).statusCode).toBe(401);
      // An API key is not a scrape token.
      expect((await app.inject({ url, headers: { authorization: `Bearer ${API_KEY}` } })).statusCode).toBe(401);
      const ok = await app.inject({ url, headers: { authorization: 'Bearer scrape-secret' } });
      expect(ok.statusCode).toBe(200);
      if (url === '/api/metrics') expect(ok.body).toContain('pynomaly_build_info');
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

describe('rate limiting', () => {
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
