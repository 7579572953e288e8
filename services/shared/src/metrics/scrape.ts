/**
 * The scrape side of the catalog: prom-client gauges whose values are read at scrape time (from
 * Postgres or process memory), plus prom-client's process/runtime metrics. Served in the
 * Prometheus text format, or OpenMetrics when the scraper asks for it.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { METRICS, metricByName, type ApiMetricsView, type Emitter } from './catalog.js';

export type ScrapeView = 'all' | ApiMetricsView;

type AnyRegistry =
  | Registry<'text/plain; version=0.0.4; charset=utf-8'>
  | Registry<'application/openmetrics-text; version=1.0.0; charset=utf-8'>;

export type GaugeCollector = (gauge: Gauge<string>) => void | Promise<void>;

export interface ScrapeMetricsOptions {
  emitter: Emitter;
  version: string;
  environment: string;
  /** Default process/runtime metrics (off in unit tests to keep output small and deterministic). */
  runtimeMetrics?: boolean;
  /** Told when a gauge could not be collected (it is then absent from that scrape). */
  onCollectError?: (metric: string, err: unknown) => void;
}

export class ScrapeMetrics {
  private readonly text = new Map<ScrapeView, Registry>();
  private readonly open = new Map<ScrapeView, AnyRegistry>();
  readonly gauges = new Map<string, Gauge<string>>();

  constructor(private readonly opts: ScrapeMetricsOptions) {
    for (const view of ['all', 'business', 'models', 'drift'] as const) {
      this.text.set(view, new Registry());
      const om = new Registry<'application/openmetrics-text; version=1.0.0; charset=utf-8'>();
      om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      this.open.set(view, om);
    }
    if (opts.runtimeMetrics ?? true) {
      collectDefaultMetrics({ register: this.text.get('all')! });
      collectDefaultMetrics({ register: this.open.get('all')! });
    }
    this.define('pynomaly_build_info', (g) => {
      g.reset();
      g.set({ service: opts.emitter, version: opts.version, environment: opts.environment }, 1);
    });
  }

  /** Registers a catalog gauge; its collector runs on every scrape. */
  define(name: string, collect: GaugeCollector): Gauge<string> {
    const def = metricByName(name);
    if (def.path !== 'scrape' || def.kind !== 'gauge') throw new Error(`${name} is not a scrape gauge in the catalog`);
    if (!def.emittedBy.includes(this.opts.emitter)) {
      throw new Error(`${name} is not emitted by ${this.opts.emitter} according to the catalog`);
    }
    if (this.gauges.has(name)) throw new Error(`${name} is already defined`);
    const views: ScrapeView[] = ['all', ...(def.views ?? [])];
    const registers: AnyRegistry[] = views.flatMap((v) => [this.text.get(v)!, this.open.get(v)!]);
    const onError = this.opts.onCollectError;
    const gauge = new Gauge<string>({
      name: def.name,
      help: def.help,
      labelNames: [...def.labels],
      registers,
      async collect() {
        try {
          await collect(this);
        } catch (err) {
          // A gauge whose source (Postgres) is down is left out of this scrape rather than failing
          // the whole endpoint: process metrics and build info still answer, so the target stays up.
          this.reset();
          onError?.(def.name, err);
        }
      },
    });
    this.gauges.set(name, gauge);
    return gauge;
  }

  /** Catalog scrape metrics this emitter must serve but has not defined yet. */
  missing(): string[] {
    return METRICS.filter(
      (m) => m.path === 'scrape' && m.emittedBy.includes(this.opts.emitter) && !this.gauges.has(m.name),
    ).map((m) => m.name);
  }

  /** Renders a view, negotiating OpenMetrics from the Accept header. */
  async render(view: ScrapeView, accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const wantsOpenMetrics = typeof accept === 'string' && accept.includes('application/openmetrics-text');
    const registry = wantsOpenMetrics ? this.open.get(view)! : this.text.get(view)!;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
}

/**
 * Shares one loader call among the gauges collected in the same scrape (prom-client collects them
 * concurrently), so a scrape costs one round of queries, not one per gauge.
 */
export function sharedSnapshot<T>(load: () => Promise<T>, ttlMs = 1000): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > ttlMs) {
      const value = load();
      cached = { at: now, value };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}
