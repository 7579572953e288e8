import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging.js';
import { ScrapeMetrics } from '../src/metrics/scrape.js';
import { startMetricsServer } from '../src/worker.js';

const logger = createLogger({ service: 'training-worker', level: 'silent', version: 't', environment: 'test' });
const scrape = () =>
  new ScrapeMetrics({ emitter: 'training-worker', version: 't', environment: 'test', runtimeMetrics: false });
let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function start(tokens: string[]) {
  server = await startMetricsServer('127.0.0.1', 0, scrape(), () => true, logger, tokens);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
}

describe('worker metrics server', () => {
  it('requires a configured scrape token on /metrics (any of a rotation) and leaves the probes open', async () => {
    const get = await start(['scrape-old-0123456789', 'scrape-new-0123456789']);
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Basic scrape-old-0123456789' })).status).toBe(401);
    for (const token of ['scrape-old-0123456789', 'scrape-new-0123456789']) {
      const ok = await get('/metrics', { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('pynomaly_build_info');
    }
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/ready')).status).toBe(200);
  });

  it('serves /metrics to anyone when no token is configured', async () => {
    const get = await start([]);
    expect((await get('/metrics')).status).toBe(200);
  });
});
