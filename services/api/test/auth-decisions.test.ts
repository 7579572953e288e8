// Every authentication decision is counted (pynomaly_auth_decisions_total) and logged with the
// key's name, the scope and the outcome; the key itself appears in neither.
import { Writable } from 'node:stream';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '@pynomaly/shared';
import { API_KEY, TEST_KEYS, testApp } from './helpers.js';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
afterAll(() => metrics.disable());

describe('auth decisions', () => {
  it('are counted and logged by key name, scope and outcome, never with the key', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const { app } = await testApp({
      logger: pino({ level: 'info' }, sink) as unknown as Logger,
      auth: { apiKeys: TEST_KEYS, authDisabled: false, scrapeTokens: [], failuresPerMinute: 2 },
    });
    const get = (url: string, key?: string) => app.inject({ url, headers: key ? { 'x-api-key': key } : {} });
    expect((await get('/api/v1/datasets', API_KEY)).statusCode).toBe(200);
    expect((await get('/api/v1/datasets', 'unit-test-key-alertmanager')).statusCode).toBe(403);
    expect((await get('/api/v1/datasets', 'a-guessed-key-0123456789')).statusCode).toBe(401);
    expect((await get('/api/v1/datasets')).statusCode).toBe(401);
    expect((await get('/api/v1/datasets', API_KEY)).statusCode).toBe(429);
    await app.close();

    await reader.forceFlush();
    const points = exporter
      .getMetrics()
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .filter((m) => m.descriptor.name === 'pynomaly.auth.decisions')
      .flatMap((m) => m.dataPoints.map((p) => ({ ...p.attributes, n: p.value })));
    expect(points).toEqual(
      expect.arrayContaining([
        { key: 'unit-admin', scope: 'read', outcome: 'allowed', n: 1 },
        { key: 'unit-alertmanager', scope: 'read', outcome: 'forbidden', n: 1 },
        { key: 'unknown', scope: 'read', outcome: 'unauthenticated', n: 2 },
        { key: 'unknown', scope: 'read', outcome: 'throttled', n: 1 },
      ]),
    );

    const decisions = lines.map((l) => JSON.parse(l) as { msg: string; auth?: { key: string; outcome: string } });
    expect(decisions.filter((d) => d.msg === 'auth decision').map((d) => [d.auth?.key, d.auth?.outcome])).toEqual([
      ['unit-admin', 'allowed'],
      ['unit-alertmanager', 'forbidden'],
      ['unknown', 'unauthenticated'],
      ['unknown', 'unauthenticated'],
      ['unknown', 'throttled'],
    ]);
    const everything = lines.join('\n') + JSON.stringify(points);
    for (const secret of [API_KEY, 'unit-test-key-alertmanager', 'a-guessed-key-0123456789'])
      expect(everything).not.toContain(secret);
  });
});
