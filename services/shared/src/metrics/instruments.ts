/**
 * The OTel instruments of the services, each created from its catalog entry (name, kind, unit,
 * help, buckets). This is the only place our code creates OTel instruments, which is what lets a
 * test compare "what the code emits" with the catalog.
 */
import type { Attributes, Counter, Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';
import { HISTOGRAM_BUCKETS, metricByName, type MetricDefinition } from './catalog.js';

/** Catalog names of the OTLP metrics our own code creates (the rest come from instrumentations). */
export const OWN_OTLP_METRICS = [
  'http.server.request.duration',
  'pynomaly.detection.duration',
  'pynomaly.detection.rows',
  'pynomaly.detection.anomalies',
  'pynomaly.dataset.rows.ingested',
  'pynomaly.training.runs',
  'pynomaly.training.duration',
  'pynomaly.training.jobs.reaped',
  'pynomaly.drift.checks',
  'pynomaly.drift.check.duration',
  'pynomaly.messages.consumed',
  'pynomaly.message.processing.duration',
  'pynomaly.messages.produced',
  'pynomaly.messages.dead_lettered',
  'pynomaly.dead_letters.actions',
  'pynomaly.outbox.relayed',
  'pynomaly.alerts.received',
  'pynomaly.retention.rows.deleted',
  'pynomaly.auth.decisions',
] as const;

type OwnMetric = (typeof OWN_OTLP_METRICS)[number];

function definition(name: OwnMetric, kind: MetricDefinition['kind']): MetricDefinition {
  const def = metricByName(name);
  if (def.path !== 'otlp') throw new Error(`${name} is a ${def.path} metric in the catalog, not otlp`);
  if (def.kind !== kind) throw new Error(`${name} is a ${def.kind} in the catalog, not a ${kind}`);
  return def;
}

function counter(m: Meter, name: OwnMetric): Counter {
  const def = definition(name, 'counter');
  return m.createCounter(def.name, { unit: def.unit, description: def.help });
}

/** Attribute sets a summed counter keeps apart, like the SDK's default cardinality limit. */
export const SUMMED_COUNTER_SERIES_LIMIT = 2000;
const OVERFLOW_KEY = '\u0000overflow';

/**
 * A counter summed in the process and reported when metrics are collected (an observable
 * counter), for counters added to on every request: a synchronous counter sorts and hashes its
 * attribute set on each add, while here the caller names the set with a key it already holds (a
 * detector id), so an add is one map lookup. Past SUMMED_COUNTER_SERIES_LIMIT sets, adds go to one
 * overflow series, as the SDK's own limit does.
 */
export class SummedCounter {
  private readonly sums = new Map<string, { attributes: Attributes; value: number }>();

  constructor(private readonly limit = SUMMED_COUNTER_SERIES_LIMIT) {}

  /** `key` must identify `attributes`: the first set seen under a key is the one reported. */
  add(value: number, attributes: Attributes, key: string): void {
    let sum = this.sums.get(key);
    if (!sum) {
      if (this.sums.size >= this.limit) {
        sum = this.sums.get(OVERFLOW_KEY) ?? { attributes: { 'otel.metric.overflow': true }, value: 0 };
        this.sums.set(OVERFLOW_KEY, sum);
      } else {
        sum = { attributes, value: 0 };
        this.sums.set(key, sum);
      }
    }
    sum.value += value;
  }

  observe(result: ObservableResult): void {
    for (const { attributes, value } of this.sums.values()) result.observe(value, attributes);
  }
}

function summedCounter(m: Meter, name: OwnMetric): SummedCounter {
  const def = definition(name, 'counter');
  const sums = new SummedCounter();
  m.createObservableCounter(def.name, { unit: def.unit, description: def.help }).addCallback((r) => sums.observe(r));
  return sums;
}

function histogram(m: Meter, name: OwnMetric): Histogram {
  const def = definition(name, 'histogram');
  const boundaries = HISTOGRAM_BUCKETS[def.name];
  return m.createHistogram(def.name, {
    unit: def.unit,
    description: def.help,
    ...(boundaries ? { advice: { explicitBucketBoundaries: [...boundaries] } } : {}),
  });
}

export function createInstruments(m: Meter = metrics.getMeter('pynomaly')) {
  return {
    httpServerDuration: histogram(m, 'http.server.request.duration'),
    detectionDuration: histogram(m, 'pynomaly.detection.duration'),
    // Added to on every /detect call: summed in the process.
    detectionRows: summedCounter(m, 'pynomaly.detection.rows'),
    detectionAnomalies: summedCounter(m, 'pynomaly.detection.anomalies'),
    datasetRowsIngested: counter(m, 'pynomaly.dataset.rows.ingested'),
    trainingRuns: counter(m, 'pynomaly.training.runs'),
    trainingDuration: histogram(m, 'pynomaly.training.duration'),
    trainingJobsReaped: counter(m, 'pynomaly.training.jobs.reaped'),
    driftChecks: counter(m, 'pynomaly.drift.checks'),
    driftCheckDuration: histogram(m, 'pynomaly.drift.check.duration'),
    messagesConsumed: counter(m, 'pynomaly.messages.consumed'),
    messageProcessingDuration: histogram(m, 'pynomaly.message.processing.duration'),
    messagesProduced: counter(m, 'pynomaly.messages.produced'),
    messagesDeadLettered: counter(m, 'pynomaly.messages.dead_lettered'),
    deadLetterActions: counter(m, 'pynomaly.dead_letters.actions'),
    outboxRelayed: counter(m, 'pynomaly.outbox.relayed'),
    alertsReceived: counter(m, 'pynomaly.alerts.received'),
    retentionRowsDeleted: counter(m, 'pynomaly.retention.rows.deleted'),
    // Added to on every request.
    authDecisions: summedCounter(m, 'pynomaly.auth.decisions'),
  } satisfies Record<string, Counter | Histogram | SummedCounter>;
}

export type Instruments = ReturnType<typeof createInstruments>;

let shared: Instruments | undefined;
/** Process-wide instruments (created lazily, after telemetry has installed the meter provider). */
export function instruments(): Instruments {
  shared ??= createInstruments();
  return shared;
}
