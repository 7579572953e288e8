/**
 * Every dashboard panel's query, run against the real Prometheus of the local stack after a burst
 * of traffic (a dataset, a detector, training, scoring enough shifted rows to fill drift windows,
 * a 404, an unparseable Kafka message): each must return data. The few that cannot on a healthy
 * stack are listed in NEEDS_FAILURE with the reason; the test also asserts they are still there,
 * so the list cannot silently grow stale.
 */
import { Kafka, logLevel } from 'kafkajs';
import { gaussian, mulberry32 } from '@pynomaly/algorithms';
import { beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../compose/local/stack.js';
import { allDashboards } from '../../grafana/src/dashboards.js';
import { withGrafanaVariables } from '../../grafana/src/promql.js';
import { ApiClient } from '../../testkit/api-client.js';
import { eventually, promQuery, sleep } from '../support/stack-clients.js';

const e = endpoints('test');

/** Panels whose series exist only after something fails; a healthy burst cannot fill them. */
const NEEDS_FAILURE: Record<string, string> = {
  'overview / API 5xx ratio': 'the 5xx series of http_server_request_duration_seconds exist only after a 5xx',
  'api / Error ratio per SLO window': 'ratio of 5xx to all: empty until a 5xx has happened',
  'api / Error budget burn rate': 'same recorded 5xx ratio',
  'api / Availability (30 d)': 'the 5xx increase over 30 d is empty until a 5xx has happened',
  'api / Error budget left (30 d)': 'same 5xx increase',
  'collector / Export failures': 'the Collector creates its send_failed/enqueue_failed counters at the first failure',
};

interface PanelQuery {
  key: string;
  expr: string;
}

const dashboardPanels = Object.entries(await allDashboards()).flatMap(([file, d]) =>
  (d.panels ?? []).map((p) => [file, p as { title?: string; type?: string; targets?: { expr?: string }[] }] as const),
);

/** Logs panels: LogsQL for the log store, with the environment variable at All. */
const logsQueries: PanelQuery[] = dashboardPanels
  .filter(([, p]) => p.type === 'logs')
  .flatMap(([file, p]) =>
    (p.targets ?? []).map((t) => ({
      key: `${file} / ${p.title ?? ''}`,
      expr: (t.expr ?? '').replaceAll('$environment', '.*'),
    })),
  );

const panelQueries: PanelQuery[] = dashboardPanels
  .filter(([, p]) => p.type !== 'logs')
  .flatMap(([file, panel]) => {
    return (panel.targets ?? []).map((t) => ({
      key: `${file} / ${panel.title ?? ''}`,
      expr: withGrafanaVariables(t.expr ?? '', { __rate_interval: '1m' }),
    }));
  });

const client = new ApiClient(e.apiUrl, e.apiKey);

/** Seeded normal rows (the algorithms' mulberry32 and gaussian), so runs send the same data. */
function gaussianRows(n: number, shift: number, seed: number): number[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => [gaussian(rng) + shift, gaussian(rng) * 2 + shift, gaussian(rng) - shift]);
}

async function burst(): Promise<void> {
  const ds = await client.expect<{ id: string }>(201, 'POST', '/api/v1/datasets', {
    name: 'dashboards-e2e',
    featureNames: ['a', 'b', 'c'],
    rows: gaussianRows(400, 0, 1),
  });
  const datasetId = ds.body.id;
  const det = await client.expect<{ id: string }>(201, 'POST', '/api/v1/detectors', {
    name: 'dashboards-e2e',
    datasetId,
    algorithm: 'isolation_forest',
    parameters: { seed: 7 },
  });
  const detectorId = det.body.id;
  const train = await client.expect<{ id: string }>(202, 'POST', `/api/v1/detectors/${detectorId}/train`, {});
  await eventually(
    'training job to succeed',
    async () => {
      const job = await client.ok<{ state: string }>('GET', `/api/v1/jobs/${train.body.id}`);
      if (job.state === 'failed') throw new Error('training failed');
      return job.state === 'succeeded' ? job : undefined;
    },
    120_000,
  );
  // Shifted rows fill several drift windows (200 rows in the test profile) and drift.
  for (let i = 0; i < 6; i++) {
    await client.expect(200, 'POST', `/api/v1/detectors/${detectorId}/detect`, { rows: gaussianRows(100, 3, 10 + i) });
  }
  expect((await client.call('GET', '/api/v1/detectors/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  // An unparseable event: the training worker must dead-letter it.
  const kafka = new Kafka({ clientId: 'dashboards-e2e', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'pynomaly.training.requested', messages: [{ key: detectorId, value: 'not json' }] });
  await producer.disconnect();
}

describe('dashboards on the live stack', () => {
  const results = new Map<string, number>();

  beforeAll(async () => {
    await burst();
    // Rates need two scrapes inside the window, and OTLP metrics one export interval first.
    const deadline = Date.now() + 240_000;
    for (;;) {
      for (const q of panelQueries) {
        const n = (await promQuery(e.prometheusUrl, q.expr)).length;
        results.set(`${q.key} :: ${q.expr}`, n);
      }
      const missing = panelQueries.filter((q) => !NEEDS_FAILURE[q.key] && results.get(`${q.key} :: ${q.expr}`) === 0);
      if (missing.length === 0 || Date.now() > deadline) break;
      await sleep(15_000);
    }
  }, 600_000);

  it.each(panelQueries.filter((q) => !NEEDS_FAILURE[q.key]).map((q) => [q.key, q.expr] as const))(
    '%s returns data',
    (key, expr) => {
      expect(results.get(`${key} :: ${expr}`), expr).toBeGreaterThan(0);
    },
  );

  it.each(logsQueries.map((q) => [q.key, q.expr] as const))(
    '%s: the log store accepts its LogsQL',
    async (_key, expr) => {
      const res = await fetch(`${e.logStore}/select/logsql/query`, {
        method: 'POST',
        body: new URLSearchParams({ query: expr, limit: '10' }),
      });
      expect(res.status, `${expr}: ${await res.clone().text()}`).toBe(200);
    },
  );

  it('the panels exempted as needing a failure still exist (the list does not go stale)', () => {
    for (const key of Object.keys(NEEDS_FAILURE)) {
      const entries = [...results.entries()].filter(([k]) => k.startsWith(`${key} :: `));
      expect(entries.length, key).toBeGreaterThan(0);
    }
  });
});
