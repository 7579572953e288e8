// One access line per request, when it completes (fastify's "incoming request" line is gone);
// probes and scrapes are not logged.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Logger } from '@pynomaly/shared';
import { API_KEY, testApp } from './helpers.js';

type Line = { msg: string; req?: { method: string; url: string }; res?: { statusCode: number }; responseTime?: number };

describe('access log', () => {
  it('writes one line per request with method, url, status and response time', async () => {
    const lines: Line[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
        done();
      },
    });
    const { app } = await testApp({ logger: pino({ level: 'info' }, sink) as unknown as Logger });
    expect((await app.inject({ url: '/api/v1/datasets', headers: { 'x-api-key': API_KEY } })).statusCode).toBe(200);
    expect(
      (await app.inject({ url: '/api/v1/datasets/not-a-uuid', headers: { 'x-api-key': API_KEY } })).statusCode,
    ).toBe(400);
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    await app.close();

    expect(lines.filter((l) => l.msg === 'incoming request')).toEqual([]);
    const access = lines.filter((l) => l.msg === 'request completed');
    expect(access.map((l) => [l.req?.method, l.req?.url, l.res?.statusCode])).toEqual([
      ['GET', '/api/v1/datasets', 200],
      ['GET', '/api/v1/datasets/not-a-uuid', 400],
    ]);
    for (const l of access) expect(l.responseTime).toBeGreaterThanOrEqual(0);
  });
});
