// The API's server spans and http.server.request.duration, from fastify's hooks, over a real
// loopback socket: the body then arrives in the connection's events, outside the request's
// context, which is the case the span's context must survive.
import { metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { DataPointType, MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import pino from 'pino';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useInMemoryTracing } from '../../../testkit/tracing.js';
import { METRICS, type Logger } from '@pynomaly/shared';
import { API_KEY, seed, testApp } from './helpers.js';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const spans = useInMemoryTracing();
const reader = new TestReader();
const logLines: Record<string, unknown>[] = [];
let app: FastifyInstance;
let base: string;
let detectorId: string;

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

beforeAll(async () => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(l));
      done();
    },
  });
  const logger = pino(
    {
      level: 'info',
      mixin: () => {
        const s = trace.getActiveSpan()?.spanContext();
        return s ? { trace_id: s.traceId, span_id: s.spanId } : {};
      },
    },
    sink,
  ) as unknown as Logger;
  const t = await testApp({ logger });
  app = t.app;
  ({
    detector: { id: detectorId },
  } = await seed(t.store, true));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  metrics.disable();
});

beforeEach(() => {
  logLines.length = 0;
});

async function detect(headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/v1/detectors/${detectorId}/detect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'user-agent': 'span-test/1', ...headers },
    body: JSON.stringify({ rows: [[0.1, 0.2, 3]] }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

/**
 * A detect request whose body arrives in two writes 50 ms apart: its end is then read from the
 * socket in a later event, as a large body from a real client is.
 */
function detectInTwoParts(): Promise<number> {
  const body = JSON.stringify({ rows: [[0.1, 0.2, 3]] });
  const url = new URL(`${base}/api/v1/detectors/${detectorId}/detect`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-api-key': API_KEY },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, 10));
    setTimeout(() => req.end(body.slice(10)), 50);
  });
}

/** The spans of one request are complete once the server span has ended (onResponse). */
async function finished(n = 1) {
  for (let i = 0; i < 100 && spans.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER).length < n; i++)
    await new Promise((r) => setTimeout(r, 10));
  return spans.getFinishedSpans();
}

describe('server spans', () => {
  it('one SERVER span per request, named by the route, continuing the caller trace', async () => {
    await detect({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, 'x-probe': 'yes' });
    const all = await finished();
    const server = all.find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.name).toBe('POST /api/v1/detectors/:id/detect');
    expect(server.spanContext().traceId).toBe(CALLER_TRACE);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/v1/detectors/:id/detect',
      'url.path': `/api/v1/detectors/${detectorId}/detect`,
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'client.address': '127.0.0.1',
      'network.protocol.version': '1.1',
      'user_agent.original': 'span-test/1',
      'http.response.status_code': 200,
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("the handler's spans are children of the server span, after the body was read from the socket", async () => {
    expect(await detectInTwoParts()).toBe(200);
    const all = await finished();
    const server = all.find((s) => s.kind === SpanKind.SERVER)!;
    const score = all.find((s) => s.name === 'score');
    expect(score, 'the score span').toBeDefined();
    expect(score!.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(score!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it('the access line carries the server span ids', async () => {
    await detect();
    const server = (await finished()).find((s) => s.kind === SpanKind.SERVER)!;
    const access = logLines.filter((l) => l.msg === 'request completed');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ trace_id: server.spanContext().traceId, span_id: server.spanContext().spanId });
  });

  it('an unmatched route is named by its method alone; a 4xx is not an error', async () => {
    const res = await fetch(`${base}/api/v1/nothing-here?x=1`, { headers: { 'x-api-key': API_KEY } });
    expect(res.status).toBe(404);
    const server = (await finished()).find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.name).toBe('GET');
    expect(server.attributes['http.route']).toBeUndefined();
    expect(server.attributes['url.query']).toBe('x=1');
    expect(server.attributes['http.response.status_code']).toBe(404);
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('an unknown method is _OTHER, with the original kept on the span', async () => {
    const res = await fetch(`${base}/api/v1/datasets`, { method: 'PURGE', headers: { 'x-api-key': API_KEY } });
    expect(res.status).toBe(404);
    const server = (await finished()).find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.name).toBe('_OTHER');
    expect(server.attributes['http.request.method']).toBe('_OTHER');
    expect(server.attributes['http.request.method_original']).toBe('PURGE');
  });

  it('a 5xx marks the span as an error', async () => {
    // A store whose listing fails: a 500 from the route, through the error handler.
    const failing = await testApp();
    failing.store.listDatasets = () => Promise.reject(new Error('the database went away'));
    const url = await failing.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const r = await fetch(`${url}/api/v1/datasets`, { headers: { 'x-api-key': API_KEY } });
      expect(r.status).toBe(500);
      const server = (await finished()).find((s) => s.kind === SpanKind.SERVER)!;
      expect(server.attributes['http.response.status_code']).toBe(500);
      expect(server.attributes['error.type']).toBe('500');
      expect(server.status.code).toBe(SpanStatusCode.ERROR);
    } finally {
      await failing.app.close();
    }
  });

  it('probes and scrapes are not traced', async () => {
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    await detect();
    const servers = (await finished()).filter((s) => s.kind === SpanKind.SERVER);
    expect(servers.map((s) => s.name)).toEqual(['POST /api/v1/detectors/:id/detect']);
  });
});

describe('http.server.request.duration', () => {
  it('is recorded per request with exactly the catalog labels', async () => {
    await detect();
    await fetch(`${base}/health/live`);
    await finished();
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'http.server.request.duration') as HistogramMetricData | undefined;
    expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const detectPoint = metric!.dataPoints.find((p) => p.attributes['http.route'] === '/api/v1/detectors/:id/detect');
    expect(detectPoint?.attributes).toEqual({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'http.route': '/api/v1/detectors/:id/detect',
    });
    expect(detectPoint!.value.count).toBeGreaterThanOrEqual(1);
    // No probe series: probes are not measured.
    expect(metric!.dataPoints.some((p) => String(p.attributes['http.route']).startsWith('/health'))).toBe(false);
    // Every attribute key becomes a catalog label once the Collector has renamed it.
    const labels = METRICS.find((m) => m.name === 'http.server.request.duration')!.labels;
    for (const p of metric!.dataPoints)
      for (const k of Object.keys(p.attributes)) expect(labels).toContain(k.replace(/\./g, '_'));
    expect(metric!.dataPoints[0]!.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
  });
});
