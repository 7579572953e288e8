/**
 * "One metric, one path": every metric the services emit is in the catalog and every catalog
 * metric is emitted. OTLP instruments are enumerated by creating them against a recording meter;
 * scrape metrics by rendering each service's registry; a static scan makes sure no code creates
 * instruments or prom-client metrics anywhere but the two catalog-driven modules.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import {
  CatalogFilteringExporter,
  createInstruments,
  METRICS,
  RUNTIME_METRIC_PREFIXES,
  ScrapeMetrics,
  type Emitter,
  type StateSnapshot,
} from '@pynomaly/shared';
import { defineApiGauges } from '../../services/api/src/state-metrics.js';
import { defineTrainingGauges } from '../../services/training-worker/src/metrics.js';
import { defineDriftGauges } from '../../services/drift-worker/src/metrics.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}
const serviceSources = ['shared', 'api', 'training-worker', 'drift-worker'].flatMap((s) =>
  sourceFiles(join(ROOT, 'services', s, 'src')),
);

type Created = { name: string; kind: string; unit: string | undefined; description: string | undefined };

function recordingMeter(created: Created[]): Meter {
  const record = (kind: string) => (name: string, options?: { unit?: string; description?: string }) => {
    created.push({ name, kind, unit: options?.unit, description: options?.description });
    return { add: () => {}, record: () => {} };
  };
  // An observable counter is a counter to Prometheus (a cumulative monotonic sum).
  const observable = (kind: string) => (name: string, options?: { unit?: string; description?: string }) => {
    created.push({ name, kind, unit: options?.unit, description: options?.description });
    return { addCallback: () => {} };
  };
  return {
    createObservableCounter: observable('counter'),
    createCounter: record('counter'),
    createHistogram: record('histogram'),
    createUpDownCounter: record('updowncounter'),
    createGauge: record('gauge'),
  } as unknown as Meter;
}

describe('OTLP metrics', () => {
  const created: Created[] = [];
  createInstruments(recordingMeter(created));
  const otlpCatalog = METRICS.filter((m) => m.path === 'otlp');

  it('our instruments are exactly the catalog OTLP metrics', () => {
    const emitted = created.map((c) => c.name).sort();
    expect(emitted).toEqual(otlpCatalog.map((m) => m.name).sort());
    expect(new Set(emitted).size).toBe(emitted.length);
  });

  it('each instrument has the kind, unit and help of its catalog entry', () => {
    for (const c of created) {
      const def = otlpCatalog.find((m) => m.name === c.name)!;
      expect({ name: c.name, kind: c.kind, unit: c.unit, help: c.description }).toEqual({
        name: def.name,
        kind: def.kind,
        unit: def.unit,
        help: def.help,
      });
    }
  });

  it('every instrument is used by service code and nothing else creates instruments', () => {
    const instrumentsFile = join(ROOT, 'services/shared/src/metrics/instruments.ts');
    const keys = Object.keys(createInstruments(recordingMeter([])));
    const others = serviceSources
      .filter((f) => f !== instrumentsFile)
      .map((f) => [f, readFileSync(f, 'utf8')] as const);
    for (const key of keys) {
      expect(
        others.some(([, text]) => text.includes(`.${key}.`)),
        `${key} is never recorded`,
      ).toBe(true);
    }
    const creators = /\.create(Counter|Histogram|UpDownCounter|Gauge|Observable\w*)\s*\(/;
    const offenders = others.filter(([, text]) => creators.test(text)).map(([f]) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('no instrumentation that emits a catalog metric is installed: the HTTP server duration is our own', () => {
    const telemetry = readFileSync(join(ROOT, 'services/shared/src/telemetry.ts'), 'utf8');
    expect(telemetry).not.toMatch(/HttpInstrumentation/);
    expect(created.find((c) => c.name === 'http.server.request.duration')?.kind).toBe('histogram');
  });

  it('the exporter drops whatever the instrumentations emit beyond the catalog', async () => {
    const batches: ResourceMetrics[] = [];
    const inner: PushMetricExporter = {
      export: (batch, done) => {
        batches.push(batch);
        done({ code: 0 });
      },
      forceFlush: async () => {},
      shutdown: async () => {},
      selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    };
    const metric = (name: string) => ({
      descriptor: { name, description: '', unit: '', type: InstrumentType.COUNTER, valueType: 1 },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [],
    });
    const exporter = new CatalogFilteringExporter(inner);
    await new Promise((resolve) =>
      exporter.export(
        {
          resource: {} as ResourceMetrics['resource'],
          scopeMetrics: [
            {
              scope: { name: 'a' },
              metrics: [metric('db.client.operation.duration'), metric('pynomaly.detection.rows')],
            },
            { scope: { name: 'b' }, metrics: [metric('messaging.client.sent.messages')] },
          ],
        } as unknown as ResourceMetrics,
        resolve,
      ),
    );
    expect(batches[0]!.scopeMetrics.map((s) => s.metrics.map((m) => m.descriptor.name))).toEqual([
      ['pynomaly.detection.rows'],
    ]);
    expect(exporter.selectAggregationTemporality(InstrumentType.COUNTER)).toBe(AggregationTemporality.CUMULATIVE);
  });
});

const snapshot: StateSnapshot = {
  datasets: 2,
  detectors: [{ algorithm: 'isolation_forest', status: 'trained', count: 1 }],
  jobs: [{ type: 'training', state: 'succeeded', count: 3 }],
  oldestQueuedAgeSeconds: [],
  outboxPending: 0,
  outboxOldestPendingAgeSeconds: 0,
  models: [{ detectorId: 'd1', version: 2, ageSeconds: 60 }],
  lastTrainingSuccess: 1_700_000_000,
  drift: [
    {
      id: 'r',
      detectorId: 'd1',
      modelId: 'm',
      modelVersion: 2,
      windowIndex: 0,
      windowRows: 500,
      datasetDrift: true,
      driftShare: 1,
      scoreDrift: true,
      anomalyRateDrift: false,
      result: {
        features: [{ feature: 0, name: 'x', psi: 0.3, ksStatistic: 0.4, ksPValue: 0.001, wassersteinNormalized: 0.5 }],
      },
      createdAt: new Date(),
    },
  ],
  retentionLastSuccess: 1_700_000_000,
};

async function servedNames(emitter: Emitter): Promise<string[]> {
  const scrape = new ScrapeMetrics({ emitter, version: 'test', environment: 'test', runtimeMetrics: true });
  if (emitter === 'api') defineApiGauges(scrape, async () => snapshot);
  if (emitter === 'training-worker') defineTrainingGauges(scrape, { value: 0 });
  if (emitter === 'drift-worker') defineDriftGauges(scrape, async () => [{ detectorId: 'd1', rows: 12 }]);
  expect(scrape.missing()).toEqual([]);
  const { body } = await scrape.render('all', undefined);
  return [...body.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!);
}

describe('scrape metrics', () => {
  for (const emitter of ['api', 'training-worker', 'drift-worker'] as const) {
    it(`${emitter} serves exactly its catalog scrape metrics (plus runtime metrics)`, async () => {
      const names = await servedNames(emitter);
      const own = names.filter((n) => !RUNTIME_METRIC_PREFIXES.some((p) => n.startsWith(p)));
      const expected = METRICS.filter((m) => m.path === 'scrape' && m.emittedBy.includes(emitter)).map(
        (m) => m.promName,
      );
      expect(own.sort()).toEqual([...expected].sort());
      expect(names.length).toBeGreaterThan(own.length);
    });
  }

  it('API views serve the catalog subsets', async () => {
    const scrape = new ScrapeMetrics({ emitter: 'api', version: 'test', environment: 'test', runtimeMetrics: false });
    defineApiGauges(scrape, async () => snapshot);
    for (const view of ['business', 'models', 'drift'] as const) {
      const { body } = await scrape.render(view, undefined);
      const names = [...body.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!).sort();
      expect(names).toEqual(
        METRICS.filter((m) => m.views?.includes(view))
          .map((m) => m.promName)
          .sort(),
      );
    }
    const { body } = await scrape.render('drift', undefined);
    expect(body).toContain('pynomaly_drift_score{detector_id="d1",feature="x",statistic="ks_pvalue"} 0.001');
  });

  it('no code creates prom-client metrics outside the catalog-driven registry', () => {
    const scrapeFile = join(ROOT, 'services/shared/src/metrics/scrape.ts');
    const offenders = serviceSources
      .filter((f) => f !== scrapeFile && /new (Gauge|Counter|Histogram|Summary)\s*[<(]/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});
