/**
 * Credentials on the live local stack (test profile): scrapes need the token and Prometheus sends
 * it; the services talk to Kafka over SASL/SCRAM-SHA-512 and the pipeline works through it; wrong
 * Kafka credentials stop a service at start-up naming the setting; the webhook takes only its key.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  context,
  KAFKA_SASL_USER,
  kafkaSaslBrokers,
  profileSecret,
  serviceEnv,
} from '../../compose/local/components.js';
import { projectRoot } from '../../compose/local/paths.js';
import { endpoints } from '../../compose/local/stack.js';
import { ApiClient } from '../../testkit/api-client.js';
import { eventually, promTargets } from '../support/stack-clients.js';

const e = endpoints('test');
const ctx = context('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const SCRAPE_ENDPOINTS = [
  `${e.apiUrl}/api/metrics`,
  `${e.apiUrl}/api/metrics/business`,
  e.trainingWorkerMetrics,
  e.driftWorkerMetrics,
];

describe('authenticated scrapes', () => {
  it.each(SCRAPE_ENDPOINTS)('%s: 401 without the token or with a wrong one, 200 with it', async (url) => {
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer not-the-scrape-token' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${e.scrapeToken}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^# (HELP|TYPE) pynomaly_/m);
  });

  it('Prometheus scrapes every target with the token: all up', async () => {
    const targets = await eventually(
      'every Prometheus target up',
      async () => {
        const t = await promTargets(e.prometheusUrl);
        return t.length > 0 && t.every((x) => x.health === 'up') ? t : undefined;
      },
      120_000,
      3000,
    ).catch(async (err: Error) => {
      const down = (await promTargets(e.prometheusUrl)).filter((x) => x.health !== 'up');
      throw new Error(`${err.message}; not up: ${down.map((d) => `${d.scrapePool} ${d.lastError}`).join('; ')}`);
    });
    const jobs = new Set(targets.map((t) => t.scrapePool));
    for (const job of ['api', 'api-views', 'training-worker', 'drift-worker']) expect(jobs).toContain(job);
  });
});

describe('Kafka with SASL/SCRAM', () => {
  it('the services use the SCRAM listener, and it refuses a client without the right password', async () => {
    const env = serviceEnv(ctx, 'training-worker');
    expect(env.KAFKA_BROKERS).toBe(kafkaSaslBrokers(ctx).join(','));
    expect(env.KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
    const client = (password: string) =>
      new Kafka({
        clientId: 'sasl-e2e',
        brokers: kafkaSaslBrokers(ctx),
        sasl: { mechanism: 'scram-sha-512', username: KAFKA_SASL_USER, password },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      }).admin();
    const good = client(profileSecret('test', 'kafka-password'));
    await good.connect();
    expect((await good.describeCluster()).brokers.length).toBe(1);
    await good.disconnect();
    await expect(client('wrong-password').connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed/);
  });

  it('the pipeline works through it: train (API → Kafka → training worker), detect → drift worker → report', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => [Math.sin(i) * 3, Math.cos(i * 0.7) * 2, (i % 11) - 5]);
    const ds = (
      await api.expect<{ id: string }>(201, 'POST', '/api/v1/datasets', {
        name: `sasl-${Date.now()}`,
        featureNames: ['a', 'b', 'c'],
        rows,
      })
    ).body;
    const det = (
      await api.expect<{ id: string }>(201, 'POST', '/api/v1/detectors', {
        name: 'sasl',
        datasetId: ds.id,
        algorithm: 'robust_zscore',
        parameters: {},
      })
    ).body;
    const job = (await api.expect<{ id: string }>(202, 'POST', `/api/v1/detectors/${det.id}/train`)).body;
    const done = await eventually(
      'the training job to finish',
      async () => {
        const j = (await api.expect<{ state: string; reason: string | null }>(200, 'GET', `/api/v1/jobs/${job.id}`))
          .body;
        return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
      },
      120_000,
    );
    expect(done).toMatchObject({ state: 'succeeded' });
    // One drift window of scored rows: detections.scored → the drift worker → a stored report.
    const window = Number(process.env.DRIFT_WINDOW_SIZE ?? '200');
    const scored = (
      await api.expect<{ scores: number[] }>(200, 'POST', `/api/v1/detectors/${det.id}/detect`, {
        rows: rows.slice(0, window),
      })
    ).body;
    expect(scored.scores).toHaveLength(window);
    const reports = await eventually(
      'a drift report for the window',
      async () => {
        const r = (await api.expect<{ items: unknown[] }>(200, 'GET', `/api/v1/detectors/${det.id}/drift-reports`))
          .body;
        return r.items.length > 0 ? r.items : undefined;
      },
      120_000,
    );
    expect(reports.length).toBe(1);
  });

  it.each(['training-worker', 'api'] as const)(
    '%s with a wrong Kafka password stops at start-up naming the setting',
    async (service) => {
      const logDir = e.logsDir(`${service}-wrong-sasl`);
      mkdirSync(logDir, { recursive: true });
      const env = serviceEnv(ctx, service);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(projectRoot, 'services', service, 'src', 'main.ts')],
        {
          cwd: projectRoot,
          env: {
            ...process.env,
            ...env,
            KAFKA_SASL_PASSWORD: 'not-the-password',
            // Its own ports: it must not take over the stack's.
            API_PORT: String(Number(new URL(e.apiUrl).port) + 9),
            METRICS_PORT: String(Number(new URL(e.trainingWorkerMetrics).port) + 9),
            LOG_DIR: logDir,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(null);
        }, 90_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code, output.slice(-2000)).toBe(78);
      expect(output).toMatch(/KAFKA_SASL_PASSWORD/);
    },
  );
});
