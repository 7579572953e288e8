// Proves each part of the local stack is real and reachable on the test ports, with the client
// its users will use: kafkajs, pg, the OTel SDK's OTLP exporters, Prometheus' and Alertmanager's
// HTTP APIs, and the trace backend's own store.
import { randomUUID } from 'node:crypto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { endpoints, stackStatus } from '../../compose/local/stack.js';
import { pin, type PartName } from '../../compose/local/versions.js';
import { traceSpans } from '../support/observe.js';
import { eventually, promTargets } from '../support/stack-clients.js';

const e = endpoints('test');

async function counterValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('local stack smoke test (test profile)', () => {
  it('every component runs the version versions.yaml pins, as the running process reports it', async () => {
    const part: Record<string, PartName> = {
      postgres: 'postgres',
      kafka: 'kafka',
      'trace-backend': 'jaeger',
      zipkin: 'zipkin',
      'log-store': 'victoria-logs',
      'otel-collector': 'otel-collector',
      'postgres-exporter': 'postgres-exporter',
      'node-exporter': 'node-exporter',
      alertmanager: 'alertmanager',
      prometheus: 'prometheus',
    };
    const rows = await stackStatus('test');
    console.log(rows.map((r) => `${r.component}: ${r.version}`).join('\n'));
    for (const row of rows) {
      const name = part[row.component];
      // Our own services report the version of this package.
      if (!name) expect(row.version, row.component).toMatch(/^\d+\.\d+\.\d+/);
      // The Collector is our own distribution of that release: 0.148.0-pynomaly.1.
      else if (name === 'otel-collector') expect(row.version).toMatch(new RegExp(`^${pin(name).version}-pynomaly`));
      else expect(row.version, row.component).toBe(pin(name).version);
    }
  });

  it('Kafka: a kafkajs produce/consume round trip through a new topic', async () => {
    const kafka = new Kafka({ clientId: 'stack-smoke', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });
    const topic = `smoke.${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const payload = `ping-${randomUUID()}`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'smoke', value: payload }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `smoke-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
    });
    await consumer.disconnect();
    console.log(`kafka round trip: sent and received "${received}" on ${topic}`);
    expect(received).toBe(payload);
  });

  it('Postgres: answers a query as the application role', async () => {
    const client = new pg.Client({ connectionString: e.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ user: string; version: string }>(
      'SELECT current_user AS user, version() AS version',
    );
    await client.end();
    console.log(`postgres: ${rows[0]?.version}`);
    expect(rows[0]?.user).toBe('pynomaly');
    expect(rows[0]?.version).toMatch(new RegExp(`^PostgreSQL ${pin('postgres').version.replace('.', '\\.')} `));
  });

  it('Collector: accepts an OTLP span and metric; Jaeger stores the span; the metric reaches the Prometheus exporter', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'stack-smoke', 'service.namespace': 'pynomaly' });
    const spansBefore = await counterValue(`${e.collector.telemetry}/metrics`, 'otelcol_receiver_accepted_spans');

    const tracer = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: e.collector.otlpGrpc }))],
    });
    const span = tracer.getTracer('stack-smoke').startSpan('stack-smoke-span');
    const traceId = span.spanContext().traceId;
    span.end();
    await tracer.forceFlush();
    await tracer.shutdown();

    const meters = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: e.collector.otlpGrpc }),
          exportIntervalMillis: 60_000,
        }),
      ],
    });
    meters
      .getMeter('stack-smoke')
      .createCounter('stack.smoke.checks', { description: 'smoke test counter' })
      .add(1, { check: 'otlp' });
    await meters.forceFlush();
    await meters.shutdown();

    const spansAfter = await eventually(
      'the Collector to count the accepted span',
      async () => {
        const v = await counterValue(`${e.collector.telemetry}/metrics`, 'otelcol_receiver_accepted_spans');
        return v > spansBefore ? v : undefined;
      },
      30_000,
    );
    expect(spansAfter).toBeGreaterThan(spansBefore);

    const stored = await eventually(
      'the span in the trace backend',
      async () => {
        const spans = await traceSpans(e.traceBackend.query, traceId);
        return spans.length ? spans : undefined;
      },
      60_000,
    );
    console.log(`Jaeger holds trace ${traceId}: ${stored.map((s) => `${s.service}/${s.name}`).join(', ')}`);
    expect(stored.map((s) => s.name)).toContain('stack-smoke-span');

    const exported = await eventually(
      'the OTLP metric on the Collector Prometheus exporter',
      async () => {
        const text = await (await fetch(`${e.collector.prometheus}/metrics`)).text();
        return text.split('\n').find((l) => l.startsWith('stack_smoke_checks'));
      },
      30_000,
    );
    console.log(`collector exporter: ${exported}`);
    expect(exported).toMatch(/check="otlp"/);
  });

  it('Prometheus: every scrape target is up', async () => {
    const targets = await eventually(
      'all Prometheus targets up',
      async () => {
        const t = await promTargets(e.prometheusUrl);
        return t.length > 0 && t.every((x) => x.health === 'up') ? t : undefined;
      },
      120_000,
      2000,
    ).catch(async (err: unknown) => {
      const t = await promTargets(e.prometheusUrl);
      const bad = t
        .filter((x) => x.health !== 'up')
        .map((x) => `${x.scrapePool} ${x.scrapeUrl}: ${x.health} ${x.lastError}`);
      throw new Error(`${String(err)}\nnot up:\n${bad.join('\n')}`);
    });
    const jobs = [...new Set(targets.map((t) => t.labels.job))].sort();
    console.log(`prometheus: ${targets.length} targets up, jobs: ${jobs.join(', ')}`);
    for (const job of [
      'otel-collector',
      'otel-collector-exporter',
      'api',
      'training-worker',
      'drift-worker',
      'prometheus',
      'alertmanager',
      'postgres-exporter',
      'node-exporter',
    ]) {
      expect(jobs).toContain(job);
    }
  });

  it('Alertmanager: accepts a test alert and lists it', async () => {
    const alertname = `StackSmokeTest${Date.now()}`;
    const now = new Date();
    const res = await fetch(`${e.alertmanagerUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: { alertname, severity: 'info', service: 'stack-smoke' },
          annotations: { summary: 'stack smoke test alert', description: 'posted by test/e2e/stack-smoke.test.ts' },
          startsAt: now.toISOString(),
          endsAt: new Date(now.getTime() + 120_000).toISOString(),
        },
      ]),
    });
    expect(res.status).toBe(200);
    const listed = await eventually(
      'the alert in Alertmanager',
      async () => {
        const alerts = (await (
          await fetch(`${e.alertmanagerUrl}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${alertname}"`)}`)
        ).json()) as { labels: Record<string, string>; status: { state: string } }[];
        return alerts.length ? alerts : undefined;
      },
      15_000,
    );
    console.log(`alertmanager: ${alertname} is ${listed[0]?.status.state}`);
    expect(listed[0]?.labels.service).toBe('stack-smoke');
  });
});
