/**
 * Both Collector configs, validated by the Collector binary built from collector/builder-config.yaml
 * (`otelcol validate` resolves ${env:...}, builds every component with its config and checks the
 * pipelines, so an unknown or unbuilt component or a wrong key fails here). The structural
 * promises of the design are asserted on the parsed YAML.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { collectorBinary, jaegerBinary } from '../../compose/local/tools.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(root, 'collector', 'config.yaml');
const JAEGER = join(root, 'collector', 'jaeger.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'pynomaly-otelcol-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Pipeline {
  receivers: string[];
  processors?: string[];
  exporters: string[];
}
type Config = Record<string, Record<string, unknown>> & {
  service: {
    extensions: string[];
    pipelines: Record<string, Pipeline>;
    telemetry: { metrics: { readers: unknown[] } };
  };
};

// Only what the local runner sets differs from the defaults; the rest must be valid as written.
const env = { ...process.env, OTELCOL_QUEUE_DIR: join(tmp, 'queue'), TRACE_FILE_PATH: join(tmp, 'traces.json') };

async function validate(file: string): Promise<void> {
  await run(collectorBinary(), ['validate', '--config', file], { env });
}

const main = parse(readFileSync(MAIN, 'utf8')) as Config;
const jaeger = parse(readFileSync(JAEGER, 'utf8')) as Config;

describe('collector/config.yaml', () => {
  it('passes otelcol validate', async () => {
    await validate(MAIN);
  });

  it('fails otelcol validate with a component the build lacks (validation is real)', async () => {
    const broken = structuredClone(main);
    (broken.processors as Record<string, unknown>).transform = {};
    broken.service.pipelines.metrics!.processors = ['memory_limiter', 'transform', 'batch'];
    const file = join(tmp, 'broken.yaml');
    writeFileSync(file, stringify(broken));
    await expect(validate(file)).rejects.toThrow();
  });

  it('puts memory_limiter first in every pipeline', () => {
    for (const [name, p] of Object.entries(main.service.pipelines))
      expect(p.processors?.[0], name).toBe('memory_limiter');
  });

  it('exports traces with retry and a file_storage-backed sending queue, and feeds spanmetrics', () => {
    const traces = main.service.pipelines.traces!;
    const exporterName = traces.exporters.find((e) => e.startsWith('otlp'))!;
    const exporter = main.exporters![exporterName] as {
      endpoint: string;
      retry_on_failure: { enabled: boolean };
      sending_queue: { enabled: boolean; storage: string };
    };
    expect(exporter.endpoint).toBe('${env:TRACE_BACKEND_ENDPOINT:-trace-backend:4317}');
    expect(exporter.retry_on_failure.enabled).toBe(true);
    expect(exporter.sending_queue.enabled).toBe(true);
    expect(exporter.sending_queue.storage).toMatch(/^file_storage/);
    expect(main.service.extensions).toContain(exporter.sending_queue.storage);
    expect(traces.exporters).toContain('spanmetrics');
    expect(main.service.pipelines.metrics!.receivers).toContain('spanmetrics');
  });

  it('scrapes Kafka consumer lag every 15 s and exposes metrics on :8889, health on :13133, self-telemetry on :8888', () => {
    const kafka = main.receivers!.kafkametrics as {
      scrapers: string[];
      collection_interval: string;
      brokers: string[];
    };
    expect(kafka.scrapers).toContain('consumers');
    expect(kafka.collection_interval).toBe('15s');
    expect(kafka.brokers).toEqual(['${env:KAFKA_BROKERS:-kafka:9092}']);
    expect((main.exporters!.prometheus as { endpoint: string }).endpoint).toBe(
      '${env:OTELCOL_PROMETHEUS_ENDPOINT:-0.0.0.0:8889}',
    );
    expect((main.extensions!.health_check as { endpoint: string }).endpoint).toBe(
      '${env:OTELCOL_HEALTH_ENDPOINT:-0.0.0.0:13133}',
    );
    expect(JSON.stringify(main.service.telemetry.metrics.readers)).toContain('${env:OTELCOL_TELEMETRY_PORT:-8888}');
  });

  it('takes every address from the environment', () => {
    const text = readFileSync(MAIN, 'utf8');
    const literals = text
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .filter((l) => /\b(endpoint|host|port|directory):/.test(l) && !l.includes('${env:'));
    expect(literals).toEqual([]);
  });
});

describe('collector/jaeger.yaml (the trace backend, Jaeger v2)', () => {
  it("passes Jaeger's own validate (it is a Collector distribution)", async () => {
    await run(jaegerBinary(), ['validate', '--config', JAEGER], { env });
  });

  it('fails validation when a component is misspelt (the check can fail)', async () => {
    const broken = join(tmp, 'jaeger-broken.yaml');
    writeFileSync(
      broken,
      readFileSync(JAEGER, 'utf8').replace('jaeger_storage_exporter:\n', 'jaeger_storage_exportr:\n'),
    );
    await expect(run(jaegerBinary(), ['validate', '--config', broken], { env })).rejects.toThrow();
  });

  it('stores OTLP traces in one storage backend that the query API reads', () => {
    const pipeline = jaeger.service.pipelines.traces!;
    expect(pipeline.receivers).toEqual(['otlp']);
    expect(pipeline.exporters).toEqual(['jaeger_storage_exporter']);
    const exporter = jaeger.exporters!.jaeger_storage_exporter as { trace_storage: string };
    const query = jaeger.extensions!.jaeger_query as { storage: { traces: string } };
    expect(query.storage.traces).toBe(exporter.trace_storage);
  });
});
