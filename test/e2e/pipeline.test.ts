// The whole pipeline on the live test stack, read back from where operators would read it: the
// trace backend's store, Prometheus and the log files. (The alert chain, which takes minutes of
// configured waiting, runs in faults.test.ts alongside the faults that leave it alone.)
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { components } from '../../compose/local/components.js';
import { endpoints } from '../../compose/local/stack.js';
import { METRICS, type MetricDefinition } from '../../services/shared/src/metrics/catalog.js';
import { ApiClient } from '../../testkit/api-client.js';
import { jobsByName, logLines, spansOf, type StoredSpan } from '../support/observe.js';
import { eventually, promQuery } from '../support/stack-clients.js';
import { describeCounts, streamRows, trainDetector, type TrainedDetector } from '../../testkit/traffic.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const WINDOW = Number(process.env.DRIFT_WINDOW_SIZE ?? 200);

/**
 * Each service exports its spans in batches of its own, so the trace backend can hold some of a
 * trace's spans before the rest (a consumer span ends after the work inside it, and can come in a
 * later batch). A trace is complete here once the worker's consumer span and `done` span, the
 * API's server span and the parent of every consumer span have all arrived.
 */
const complete = (s: StoredSpan[], worker: string, done: (x: StoredSpan) => boolean) =>
  s.some((x) => x.service === worker && x.kind === 5) &&
  s.some((x) => x.service === worker && done(x)) &&
  s.some((x) => x.service === 'pynomaly-api' && x.kind === 2) &&
  s.filter((x) => x.kind === 5).every((c) => s.some((p) => p.spanId === c.parentSpanId));
const show = (spans: StoredSpan[]) => spans.map((s) => `${s.service.replace('pynomaly-', '')}:${s.name}`).join(', ');

let main: TrainedDetector;
const detectTraceIds: string[] = [];
beforeAll(async () => {
  main = await trainDetector(api, { name: `pipeline-${Date.now()}`, seed: 2 });
  // One full drift window of normal rows for the main detector: every detect request's trace
  // should reach the drift worker, and one of them runs the drift check.
  const traffic = await streamRows(api, main.detectorId, {
    rate: 100,
    seconds: WINDOW / 100,
    seed: 5,
    onResponse: (r) => {
      if (r.status === 200) detectTraceIds.push(r.traceId);
    },
  });
  console.log(`pipeline traffic: ${describeCounts(traffic)}`);
  expect(traffic.rowsAccepted).toBe(WINDOW);
}, 300_000);

describe('pipeline on the live stack', () => {
  it('one trace: train request → API (HTTP, outbox, Kafka produce) → training worker (consume, fit, Postgres)', async () => {
    const traceId = main.trainTraceId;
    const spans = await eventually(
      `trace ${traceId} with the training worker's spans`,
      async () => {
        const s = (await spansOf(e.traceBackend.query, [traceId])).get(traceId)!;
        return complete(s, 'pynomaly-training-worker', (x) => x.name === 'train') ? s : undefined;
      },
      90_000,
    );
    console.log(`train trace ${traceId}: ${spans.length} spans: ${show(spans)}`);
    const by = (service: string) => spans.filter((s) => s.service === service);
    const apiSpans = by('pynomaly-api');
    const worker = by('pynomaly-training-worker');
    expect(apiSpans.find((s) => s.kind === 2)?.name).toMatch(/train/); // the HTTP server span
    expect(apiSpans.some((s) => s.name.startsWith('pg.query:INSERT'))).toBe(true); // job + outbox row
    // The event leaves through the outbox, whose relay runs in every service, so the Kafka produce
    // span belongs to whichever relay claimed the row first (usually the API's, woken by its own
    // commit; under load another service's polling relay can win). Its context always comes from
    // the API's request, carried in the outbox row, so it sits in this trace either way, and the
    // worker's consumer span continues it.
    const parentOf = (s: StoredSpan) => spans.find((p) => p.spanId === s.parentSpanId);
    const produce = spans.find((s) => s.kind === 4 && s.name.includes('training.requested'));
    expect(produce, 'a Kafka produce span for training.requested in the trace').toBeDefined();
    const consume = worker.find((s) => s.kind === 5 && parentOf(s)?.kind === 4);
    expect(consume, 'a training-worker consumer span whose parent is a producer span').toBeDefined();
    const produced = parentOf(consume!)!;
    console.log(`  produced by ${produced.service} (${produced.name}), consumed as ${consume!.name}`);
    expect(produced.name).toContain('training.requested');
    // The producer span descends from the API's server span, whichever relay sent it.
    const server = apiSpans.find((s) => s.kind === 2)!;
    const ancestors = (s: StoredSpan): StoredSpan[] => {
      const p = parentOf(s);
      return p ? [p, ...ancestors(p)] : [];
    };
    expect(ancestors(produced).map((s) => s.spanId)).toContain(server.spanId);
    expect(worker.map((s) => s.name)).toContain('train');
    expect(worker.some((s) => s.name.startsWith('pg.query'))).toBe(true);
  });

  it('one trace: detect request → API → Kafka → drift worker (consume, window, drift check)', async () => {
    const wanted = detectTraceIds;
    const traces = await eventually(
      'every detect trace to reach the drift worker',
      async () => {
        const m = await spansOf(e.traceBackend.query, wanted);
        const reached = [...m.values()].filter((s) => complete(s, 'pynomaly-drift-worker', () => true));
        return reached.length === wanted.length ? m : undefined;
      },
      90_000,
      2000,
    );
    const withCheck = [...traces.entries()].filter(([, s]) => s.some((x) => x.name === 'drift'));
    console.log(
      `detect traces: ${wanted.length} requests, ${wanted.length} traces reach the drift worker, ${withCheck.length} hold the drift check`,
    );
    const [id, spans] = withCheck[0] ?? [];
    expect(id, 'a detect trace holding the drift check').toBeDefined();
    console.log(`detect trace ${id}: ${show(spans!)}`);
    const parentOf = (s: StoredSpan) => spans!.find((p) => p.spanId === s.parentSpanId);
    const consume = spans!.find(
      (s) => s.service === 'pynomaly-drift-worker' && s.kind === 5 && parentOf(s)?.kind === 4,
    );
    expect(consume, 'a drift-worker consumer span whose parent is a producer span').toBeDefined();
    expect(parentOf(consume!)!.name).toContain('detections.scored');
    expect(spans!.find((s) => s.service === 'pynomaly-api' && s.kind === 2)?.name).toMatch(/detect/);
    expect(spans!.some((s) => s.service === 'pynomaly-api' && s.name === 'score')).toBe(true);
  });

  it('metrics: every job up; OTLP metrics under the catalog names via the Collector; scrape metrics from the services; one source per name; Kafka consumer lag', async () => {
    // One poison message so the dead-letter counter exists too (its handling is in faults.test.ts).
    const kafka = new Kafka({ clientId: 'pipeline-test', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'pynomaly.training.requested',
      messages: [{ key: randomUUID(), value: 'pipeline test: not JSON' }],
    });
    await producer.disconnect();

    const required = [
      'api',
      'api-views',
      'training-worker',
      'drift-worker',
      'otel-collector',
      'otel-collector-exporter',
      'prometheus',
      'alertmanager',
      'postgres-exporter',
      'node-exporter',
    ];
    // Targets come from file_sd, discovered a little after Prometheus starts: wait for every job.
    const up = await eventually(
      'every Prometheus job discovered and up',
      async () => {
        const rows = await promQuery(e.prometheusUrl, 'up');
        const present = new Set(rows.map((r) => r.metric.job));
        return required.every((j) => present.has(j)) && rows.every((r) => r.value[1] === '1') ? rows : undefined;
      },
      120_000,
      2000,
    );
    const jobs = [...new Set(up.map((r) => r.metric.job!))].sort();
    console.log(`up == 1 for ${up.length} targets in ${jobs.length} jobs: ${jobs.join(', ')}`);
    for (const job of required) expect(jobs).toContain(job);

    // Catalog metric → the jobs that may report it: OTLP ones under the exporter's
    // pynomaly/<service.name> job, scrape ones under the service's own scrape job.
    const expectedJobs = (m: MetricDefinition) =>
      m.emittedBy.map((s) => (m.path === 'otlp' ? `pynomaly/pynomaly-${s}` : s));
    const seriesNames = (m: MetricDefinition) =>
      m.kind === 'histogram' ? [`${m.promName}_bucket`, `${m.promName}_sum`, `${m.promName}_count`] : [m.promName];
    const byName = await eventually(
      'every catalog metric in Prometheus',
      async () => {
        const map = await jobsByName(e.prometheusUrl);
        const missing = METRICS.filter((m) => seriesNames(m).some((n) => !map.has(n)));
        if (missing.length) throw new Error(`missing: ${missing.map((m) => m.promName).join(', ')}`);
        return map;
      },
      150_000,
      5000,
    );
    const wrongSource: string[] = [];
    for (const m of METRICS) {
      for (const n of seriesNames(m)) {
        const got = [...byName.get(n)!];
        const extra = got.filter((j) => !expectedJobs(m).includes(j));
        if (extra.length)
          wrongSource.push(`${n} (${m.path}, by ${m.emittedBy.join('/')}) also from job(s) ${extra.join(', ')}`);
      }
    }
    const otlp = METRICS.filter((m) => m.path === 'otlp');
    const scrape = METRICS.filter((m) => m.path === 'scrape');
    console.log(
      `catalog: ${otlp.length} OTLP metrics via the Collector exporter, ${scrape.length} scrape metrics, all present`,
    );

    // Any other name: one source. The exporter's series carry the sender's job (honor_labels),
    // so pynomaly/* counts as the exporter; families every process or scrape has are exempt, and so
    // are series Prometheus writes itself from rules (recorded names with ':' and ALERTS*, whose job
    // label is whatever the firing alert carries), since no target reports them.
    const shared = /^(go_|process_|nodejs_|promhttp_|net_conntrack_|scrape_|up$|ALERTS$|ALERTS_FOR_STATE$)|:/;
    const catalogNames = new Set(METRICS.flatMap(seriesNames));
    const source = (job: string) => (job.startsWith('pynomaly/') ? 'otel-collector-exporter' : job);
    const twoSources: string[] = [];
    for (const [name, js] of byName) {
      if (catalogNames.has(name) || shared.test(name)) continue;
      const sources = new Set([...js].map(source));
      if (sources.size > 1) twoSources.push(`${name}: ${[...js].join(', ')}`);
    }
    console.log(
      `${byName.size} metric names in Prometheus; names from more than one source: ${wrongSource.length + twoSources.length}`,
    );
    for (const l of [...wrongSource, ...twoSources]) console.log(`  ${l}`);
    expect(wrongSource).toEqual([]);
    expect(twoSources).toEqual([]);

    const lag = await eventually(
      'kafkametrics consumer lag for the pynomaly groups',
      async () => {
        const rows = await promQuery(
          e.prometheusUrl,
          'sum by (group, job) (kafka_consumer_group_lag_ratio{group=~"pynomaly-.*"})',
        );
        const groups = new Set(rows.map((r) => r.metric.group));
        return groups.has('pynomaly-training-worker') && groups.has('pynomaly-drift-worker') ? rows : undefined;
      },
      90_000,
      3000,
    );
    console.log(`consumer lag: ${lag.map((r) => `${r.metric.group}=${r.value[1]} (job ${r.metric.job})`).join(', ')}`);
    expect(lag.every((r) => r.metric.job === 'otel-collector-exporter')).toBe(true);
  });

  it("logs: each component's log under its logs dir; API and worker lines carry the request's trace id", async () => {
    const sizes = components.map((c) => {
      const dir = e.logsDir(c.name);
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.log')) : [];
      return { name: c.name, dir, bytes: files.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
    });
    console.log(`logs: ${sizes.map((s) => `${s.name} ${s.bytes} B`).join(', ')}`);
    for (const s of sizes) expect(s.bytes, `${s.dir} holds ${s.name}'s log`).toBeGreaterThan(0);

    const traceId = main.trainTraceId;
    const lines = await eventually(
      'log lines with the train trace id in the API, training worker and drift worker logs',
      async () => {
        const found = Object.fromEntries(
          ['api', 'training-worker', 'drift-worker'].map((c) => [
            c,
            logLines(e.logsDir(c)).filter((l) => l.trace_id === traceId),
          ]),
        );
        return Object.values(found).every((l) => l.length > 0) ? found : undefined;
      },
      30_000,
    );
    for (const [c, l] of Object.entries(lines))
      console.log(`  ${c}: ${l.length} lines with trace ${traceId}, e.g. "${String(l.at(-1)!.msg)}"`);
    expect(
      lines['training-worker']!.some((l) => l.msg === 'training succeeded' || String(l.msg).includes('train')),
    ).toBe(true);
    // A detect request's trace id is on the drift worker's report line too.
    const driftLines = logLines(e.logsDir('drift-worker')).filter(
      (l) => typeof l.trace_id === 'string' && detectTraceIds.includes(l.trace_id),
    );
    console.log(`  drift-worker: ${driftLines.length} lines carry a detect request's trace id`);
    expect(driftLines.length).toBeGreaterThan(0);
  });
});
