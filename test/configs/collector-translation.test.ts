/**
 * The naming contract on a live Collector: every `otlp` metric of the catalog, sent through the
 * OTel SDK's OTLP exporter with its catalog name, unit and kind, comes out of the Collector's
 * Prometheus exporter (collector/config.yaml as written, addresses from env) under the catalog's
 * Prometheus name with its labels, `job` = <service.namespace>/<service.name> and `instance` =
 * service.instance.id — the names dashboards and rules use. Runs the built Collector on free
 * loopback ports; no network beyond 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorBinary } from '../../compose/local/tools.js';
import { HISTOGRAM_BUCKETS, METRICS, prometheusSeriesNames } from '../../services/shared/src/metrics/catalog.js';
import { freePort } from '../../testkit/net.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const otlpMetrics = METRICS.filter((m) => m.path === 'otlp');

/** Parses Prometheus text exposition into name -> label sets. */
function parseExposition(text: string): Map<string, Record<string, string>[]> {
  const out = new Map<string, Record<string, string>[]>();
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? /);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    const list = out.get(m[1]!) ?? [];
    list.push(labels);
    out.set(m[1]!, list);
  }
  return out;
}

describe('Collector translation of the catalog (live Collector)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pynomaly-otelcol-live-'));
  let proc: ChildProcess | undefined;
  let exposition = new Map<string, Record<string, string>[]>();
  let log = '';

  beforeAll(async () => {
    const [grpc, http, prom, health, telemetry, closed] = await Promise.all(Array.from({ length: 6 }, freePort));
    proc = spawn(collectorBinary(), ['--config', join(root, 'collector', 'config.yaml')], {
      env: {
        ...process.env,
        OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${prom}`,
        OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
        OTELCOL_TELEMETRY_HOST: '127.0.0.1',
        OTELCOL_TELEMETRY_PORT: String(telemetry),
        OTELCOL_QUEUE_DIR: join(tmp, 'queue'),
        // Nothing listens there: kafkametrics and the trace exporter just log their failures.
        KAFKA_BROKERS: `127.0.0.1:${closed}`,
        TRACE_BACKEND_ENDPOINT: `127.0.0.1:${closed}`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    for (let i = 0; ; i++) {
      if (
        await fetch(`http://127.0.0.1:${health}/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 150) throw new Error(`Collector did not become healthy:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${http}/v1/metrics` }),
      exportIntervalMillis: 60_000,
    });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({
        'service.name': 'api',
        'service.version': '0.0.0-test',
        'service.instance.id': 'translation-test',
        'deployment.environment': 'test',
        'process.pid': 4242,
      }),
      readers: [reader],
    });
    const meter = provider.getMeter('catalog-translation-test');
    for (const m of otlpMetrics) {
      const attributes = Object.fromEntries(m.labels.map((l) => [l, `v-${l}`]));
      const options = { unit: m.unit, description: m.help };
      if (m.kind === 'counter') meter.createCounter(m.name, options).add(3, attributes);
      else if (m.kind === 'updowncounter') meter.createUpDownCounter(m.name, options).add(3, attributes);
      else if (m.kind === 'gauge') meter.createGauge(m.name, options).record(3, attributes);
      else
        meter
          .createHistogram(m.name, {
            ...options,
            advice: { explicitBucketBoundaries: [...(HISTOGRAM_BUCKETS[m.name] ?? [0.1, 0.5, 1])] },
          })
          .record(0.3, attributes);
    }
    await provider.forceFlush();
    await provider.shutdown();

    for (let i = 0; ; i++) {
      exposition = parseExposition(await (await fetch(`http://127.0.0.1:${prom}/metrics`)).text());
      if (otlpMetrics.every((m) => prometheusSeriesNames(m).every((n) => exposition.has(n)))) break;
      if (i > 50) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(() => {
    proc?.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  });

  it.each(otlpMetrics.map((m) => [m.name, m] as const))(
    '%s is exposed under its catalog Prometheus name with its labels',
    (_name, m) => {
      for (const series of prometheusSeriesNames(m)) {
        const sets = exposition.get(series);
        expect(
          sets,
          `${series} missing; exposed: ${[...exposition.keys()].filter((k) => k.startsWith('pynomaly') || k.startsWith('http')).join(', ')}`,
        ).toBeDefined();
        const labels = sets![0]!;
        expect(labels.job).toBe('pynomaly/api');
        expect(labels.instance).toBe('translation-test');
        expect(labels.deployment_environment).toBe('test');
        for (const l of m.labels) expect(labels[l], l).toBe(`v-${l}`);
        // Dropped by the resource processor: it would only multiply series.
        expect(labels.process_pid).toBeUndefined();
      }
    },
  );
});
