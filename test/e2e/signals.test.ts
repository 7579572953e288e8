// The three signals through the Collector, on the live stack: one detect request's trace in Jaeger
// and in Zipkin and its log lines in the log store (VictoriaLogs), each found by the same trace id
// through the store's own query API; Zipkin's UI and the log store's UI showing them in headless
// Chromium (screenshots in logs/test/screenshots/, docs/screenshots/ with
// PYNOMALY_UPDATE_SCREENSHOTS=1). Then the outages: the log store down for 60 s under traffic
// loses no log record; Zipkin down while Jaeger is up: Jaeger keeps every trace, Zipkin catches up.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../compose/local/paths.js';
import { endpoints, startNamed, stopNamed } from '../../compose/local/stack.js';
import { ApiClient, newTraceId } from '../../testkit/api-client.js';
import {
  describeCounts,
  makeRows,
  seededRandom,
  streamRows,
  trainDetector,
  type TrainedDetector,
} from '../../testkit/traffic.js';
import { exposedValue, logLines, spansOf, traceSpans } from '../support/observe.js';
import { logsOfTrace, logsOfTraces, zipkinTraces, type StoredLog } from '../support/signal-stores.js';
import { eventually, sleep } from '../support/stack-clients.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const CHROMIUM = process.env.PYNOMALY_CHROMIUM ?? '/usr/bin/chromium';
const shots =
  process.env.PYNOMALY_UPDATE_SCREENSHOTS === '1'
    ? join(projectRoot, 'docs', 'screenshots')
    : join(projectRoot, 'logs', 'test', 'screenshots');
const collectorMetrics = `${e.collector.telemetry}/metrics`;
const SERVICES = ['api', 'training-worker', 'drift-worker'] as const;

let detector: TrainedDetector;
let browser: Browser;
let page: Page;
/**
 * When this file's traffic began. Jaeger keeps traces in memory, so traces from before another
 * file restarted it are gone while their exemplars stay in Prometheus: only this file's count.
 */
let since = 0;

beforeAll(async () => {
  since = Date.now() / 1000;
  detector = await trainDetector(api, { name: `signals-${Date.now()}`, seed: 15, trainingRows: 500 });
}, 180_000);

afterAll(async () => browser?.close());

/** The services' own log files' records (what stdout and LOG_DIR got) of these traces. */
function fileRecordsOf(traceIds: ReadonlySet<string>): Record<string, unknown>[] {
  return SERVICES.flatMap((s) => logLines(e.logsDir(s))).filter((r) => traceIds.has(String(r.trace_id)));
}

/**
 * A record's identity across the file and the store: trace, span, message and time (as an
 * instant: the store writes `.81Z` where pino wrote `.810Z`).
 */
const fileKey = (r: Record<string, unknown>) =>
  `${String(r.trace_id)} ${String(r.span_id)} ${String(r.msg)} ${Date.parse(String(r.time))}`;
const storeKey = (r: StoredLog) => `${r.trace_id} ${r.span_id} ${r._msg} ${Date.parse(r._time ?? '')}`;

/** Detect traffic whose accepted requests' trace ids are collected. */
async function tracedTraffic(seconds: number, rate = 20) {
  const traceIds: string[] = [];
  const counts = await streamRows(api, detector.detectorId, {
    rate,
    seconds,
    batchSize: 5,
    seed: Math.floor(Math.random() * 1e6),
    onResponse: (r) => {
      if (r.status === 200) traceIds.push(r.traceId);
    },
  });
  return { counts, traceIds };
}

describe('one detect request in Jaeger, Zipkin and the log store', () => {
  const traceId = newTraceId();

  it("is found by its trace id through each store's query API: the same spans in both trace backends, every log line in the log store", async () => {
    const res = await api.call<{ anomalies: number }>(
      'POST',
      `/api/v1/detectors/${detector.detectorId}/detect`,
      { rows: makeRows(5, seededRandom(5)) },
      { traceId },
    );
    expect(res.status).toBe(200);

    // Jaeger: the API's server span (and what the request caused downstream).
    const jaeger = await eventually(
      'the trace in Jaeger with the API server span',
      async () => {
        const spans = await traceSpans(e.traceBackend.query, traceId);
        return spans.some((s) => s.service === 'pynomaly-api' && s.kind === 2) ? spans : undefined;
      },
      60_000,
      1000,
    );
    // Zipkin: the same spans (ids), once both backends have them all.
    const both = await eventually(
      'the same span ids in Zipkin as in Jaeger',
      async () => {
        const [j, z] = [
          await traceSpans(e.traceBackend.query, traceId),
          (await zipkinTraces(e.zipkin, [traceId])).get(traceId)!,
        ];
        const jIds = new Set(j.map((s) => s.spanId));
        const zIds = new Set(z.map((s) => s.id));
        return jIds.size >= jaeger.length && jIds.size === zIds.size && [...jIds].every((id) => zIds.has(id))
          ? { j, z }
          : undefined;
      },
      60_000,
      1000,
    );
    const zipkinServer = both.z.find((s) => s.localEndpoint?.serviceName === 'pynomaly-api' && s.kind === 'SERVER');
    expect(zipkinServer, 'Zipkin has the API server span').toBeDefined();
    expect(zipkinServer!.traceId).toBe(traceId);

    // The log store: every line the services wrote to their files for this trace, with the span it
    // was written in and the service's resource attributes.
    const spanIds = new Set(both.j.map((s) => s.spanId));
    const logs = await eventually(
      "every log line of the trace from the services' files in the log store",
      async () => {
        const inFiles = fileRecordsOf(new Set([traceId]));
        const stored = await logsOfTrace(e.logStore, traceId);
        const keys = new Set(stored.map(storeKey));
        return inFiles.length > 0 && inFiles.every((r) => keys.has(fileKey(r))) ? { inFiles, stored } : undefined;
      },
      60_000,
      1000,
    );
    console.log(
      `trace ${traceId}: Jaeger ${both.j.length} spans, Zipkin ${both.z.length} spans (same ids); ` +
        `log store ${logs.stored.length} records (${logs.inFiles.length} lines in the services' files)`,
    );
    const fromApi = logs.stored.filter((r) => r['service.name'] === 'pynomaly-api');
    expect(fromApi.length).toBeGreaterThan(0);
    for (const r of logs.stored) {
      expect(r.trace_id).toBe(traceId);
      expect(spanIds.has(r.span_id!), `log span ${r.span_id} is a span of the trace`).toBe(true);
      expect(r['service.namespace']).toBe('pynomaly');
      expect(r['deployment.environment']).toBe('test');
      expect(r['service.version']).toMatch(/^\d+\.\d+\.\d+/);
      expect(r.severity_text).toMatch(/^(trace|debug|info|warn|error|fatal)$/);
    }
  });

  it("the span latency histogram carries exemplars whose trace ids Jaeger has (Grafana's exemplar → trace link)", async () => {
    const found = await eventually(
      'exemplars on traces_span_metrics_duration_seconds_bucket in Prometheus',
      async () => {
        const end = Date.now() / 1000;
        const url = `${e.prometheusUrl}/api/v1/query_exemplars?${new URLSearchParams({
          query: 'traces_span_metrics_duration_seconds_bucket',
          start: String(since),
          end: String(end),
        })}`;
        const body = (await (await fetch(url)).json()) as {
          data: {
            seriesLabels: Record<string, string>;
            exemplars: { labels: Record<string, string>; timestamp: number }[];
          }[];
        };
        const ids = body.data
          .filter((s) => Object.values(s.seriesLabels).some((v) => v.includes('pynomaly-api')))
          .flatMap((s) => s.exemplars.filter((x) => x.timestamp >= since).map((x) => x.labels.trace_id))
          .filter((id): id is string => /^[0-9a-f]{32}$/.test(id ?? ''));
        return ids.length > 0 ? ids : undefined;
      },
      120_000,
      5000,
    );
    const sample = [...new Set(found)].slice(0, 5);
    // An exemplar can reach Prometheus before its trace's last batch reaches Jaeger: allow for that.
    const spans = await eventually(
      'every sampled exemplar trace in Jaeger',
      async () => {
        const got = await spansOf(e.traceBackend.query, sample);
        return sample.every((id) => (got.get(id)?.length ?? 0) > 0) ? got : undefined;
      },
      60_000,
      3000,
    ).catch(() => spansOf(e.traceBackend.query, sample));
    console.log(
      `exemplars: ${found.length} trace ids on the API's span histograms since this file began; checked ${sample.length} in Jaeger`,
    );
    for (const id of sample) expect(spans.get(id)?.length ?? 0, `exemplar trace ${id} in Jaeger`).toBeGreaterThan(0);
  });

  it("Zipkin's UI shows the trace and the log store's UI shows its log lines (headless Chromium)", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash compose/local/bootstrap.sh --tests`);
    mkdirSync(shots, { recursive: true });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1400,900'],
      defaultViewport: { width: 1400, height: 900 },
    });
    page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    const waitForText = (pattern: RegExp) =>
      page.waitForFunction(`${pattern.toString()}.test(document.body.innerText)`, { timeout: 60_000 });

    await page.goto(`${e.zipkin}/zipkin/traces/${traceId}`, { waitUntil: 'networkidle2' });
    await waitForText(/pynomaly-api/);
    await waitForText(/pynomaly-drift-worker|POST/);
    await page.screenshot({ path: join(shots, 'zipkin-trace.png') });
    expect(await page.evaluate('document.body.innerText')).toContain(traceId);

    const query = encodeURIComponent(`trace_id:"${traceId}"`);
    await page.goto(`${e.logStore}/select/vmui/?#/?query=${query}&g0.range_input=1h`, { waitUntil: 'networkidle2' });
    await waitForText(/request completed/);
    // Open the request's last line: its fields (trace and span ids, the service's resource).
    await page.locator('::-p-text(request completed)').click();
    await waitForText(/pynomaly-api/);
    await page.screenshot({ path: join(shots, 'victoria-logs-trace-logs.png') });
    expect(await page.evaluate('document.body.innerText')).toContain(traceId);
  });
});

describe('log and trace pipeline outages', () => {
  it('log store stopped for 60 s under traffic: every log record written meanwhile arrives afterwards; the Collector queue held them', async () => {
    const LOGS_EXPORTER = /exporter="otlp_http\/logs"/;
    await stopNamed('test', 'log-store');
    let maxQueue = 0;
    let traffic: Awaited<ReturnType<typeof tracedTraffic>>;
    const stoppedAt = Date.now();
    try {
      const sampling = (async () => {
        const until = Date.now() + 62_000;
        while (Date.now() < until) {
          maxQueue = Math.max(
            maxQueue,
            await exposedValue(collectorMetrics, 'otelcol_exporter_queue_size', LOGS_EXPORTER),
          );
          await sleep(2000);
        }
      })();
      traffic = await tracedTraffic(55);
      await sampling;
    } finally {
      await startNamed('test', 'log-store');
    }
    const ids = new Set(traffic.traceIds);
    const arrived = await eventually(
      'every log record of the outage in the log store',
      async () => {
        const inFiles = fileRecordsOf(ids);
        const keys = new Set((await logsOfTraces(e.logStore, ids)).map(storeKey));
        const missing = inFiles.filter((r) => !keys.has(fileKey(r)));
        return missing.length === 0 ? { inFiles: inFiles.length, stored: keys.size } : undefined;
      },
      180_000,
      3000,
    ).catch(async () => {
      const inFiles = fileRecordsOf(ids);
      const keys = new Set((await logsOfTraces(e.logStore, ids)).map(storeKey));
      return { inFiles: inFiles.length, stored: inFiles.filter((r) => keys.has(fileKey(r))).length };
    });
    const sent = await exposedValue(collectorMetrics, 'otelcol_exporter_sent_log_records_total', LOGS_EXPORTER);
    console.log(
      [
        `log store down ~${Math.round((Date.now() - stoppedAt) / 1000)} s (60 s of it under traffic); traffic: ${describeCounts(traffic.counts)}`,
        `  Collector logs queue (otelcol_exporter_queue_size, otlp_http/logs) peaked at ${maxQueue} batches`,
        `  log lines of the outage's ${ids.size} traces in the services' files: ${arrived.inFiles}; in the log store: ${arrived.stored}`,
        `  Collector: ${sent} log records sent to the log store in total`,
      ].join('\n'),
    );
    expect(ids.size).toBeGreaterThan(0);
    expect(maxQueue).toBeGreaterThan(0);
    expect(arrived.inFiles).toBeGreaterThan(0);
    expect(arrived.stored).toBe(arrived.inFiles);
  });

  it('Zipkin stopped while Jaeger is up: Jaeger keeps every trace meanwhile, Zipkin catches up afterwards', async () => {
    const ZIPKIN_EXPORTER = /exporter="zipkin"/;
    await stopNamed('test', 'zipkin');
    let traffic: Awaited<ReturnType<typeof tracedTraffic>>;
    let inJaegerWhileDown = 0;
    let maxQueue = 0;
    try {
      traffic = await tracedTraffic(30);
      maxQueue = await exposedValue(collectorMetrics, 'otelcol_exporter_queue_size', ZIPKIN_EXPORTER);
      // Jaeger has them while Zipkin is still down: one backend away never holds back the other.
      inJaegerWhileDown = await eventually(
        'every trace of the Zipkin outage in Jaeger while Zipkin is down',
        async () => {
          const got = await spansOf(e.traceBackend.query, traffic.traceIds);
          const n = [...got.values()].filter((l) => l.some((s) => s.service === 'pynomaly-api' && s.kind === 2)).length;
          return n === traffic.traceIds.length ? n : undefined;
        },
        60_000,
        2000,
      ).catch(async () => {
        const got = await spansOf(e.traceBackend.query, traffic.traceIds);
        return [...got.values()].filter((l) => l.some((s) => s.service === 'pynomaly-api' && s.kind === 2)).length;
      });
    } finally {
      await startNamed('test', 'zipkin');
    }
    const inZipkin = await eventually(
      'every trace of the outage in Zipkin after its restart',
      async () => {
        const got = await zipkinTraces(e.zipkin, traffic.traceIds);
        const n = [...got.values()].filter((l) =>
          l.some((s) => s.localEndpoint?.serviceName === 'pynomaly-api' && s.kind === 'SERVER'),
        ).length;
        return n === traffic.traceIds.length ? n : undefined;
      },
      180_000,
      3000,
    ).catch(async () => {
      const got = await zipkinTraces(e.zipkin, traffic.traceIds);
      return [...got.values()].filter((l) =>
        l.some((s) => s.localEndpoint?.serviceName === 'pynomaly-api' && s.kind === 'SERVER'),
      ).length;
    });
    console.log(
      [
        `Zipkin down under traffic: ${describeCounts(traffic.counts)}`,
        `  Collector zipkin queue after the traffic: ${maxQueue} batches`,
        `  traces sent: ${traffic.traceIds.length}; in Jaeger while Zipkin was down: ${inJaegerWhileDown}; in Zipkin after its restart: ${inZipkin}`,
      ].join('\n'),
    );
    expect(traffic.traceIds.length).toBeGreaterThan(0);
    expect(maxQueue).toBeGreaterThan(0);
    expect(inJaegerWhileDown).toBe(traffic.traceIds.length);
    expect(inZipkin).toBe(traffic.traceIds.length);
  });
});
