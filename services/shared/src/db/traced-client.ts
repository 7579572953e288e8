/**
 * Query spans for Postgres: the pool's clients are this subclass of pg.Client, which opens a
 * CLIENT span around each query issued inside a traced operation, named and attributed as the
 * OpenTelemetry pg instrumentation names them (`pg.query:<OPERATION> <database>`, db.system.name,
 * db.namespace, db.query.text, server.address, server.port).
 *
 * Why not the instrumentation: it wraps the query, the pool's connect and every callback, parses
 * the connection parameters on each call and records its own duration metrics, which the catalog
 * drops; on a /detect request that was about 1.5 % of the API's CPU for two spans. A subclass the
 * pool is configured with covers every query the services make (they all go through createPool)
 * with one check of the active span when untraced.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import pg from 'pg';

const tracer = trace.getTracer('pynomaly-pg');

/** The statement's first keyword (SELECT, INSERT, WITH, ...), as the span name's operation. */
export function queryOperation(text: string): string | undefined {
  const m = /^\s*([a-zA-Z]+)/.exec(text);
  return m ? m[1]!.toUpperCase() : undefined;
}

type Callback = (err: Error | null, result?: unknown) => void;

function queryText(config: unknown): string | undefined {
  if (typeof config === 'string') return config;
  if (config && typeof config === 'object' && typeof (config as { text?: unknown }).text === 'string')
    return (config as { text: string }).text;
  return undefined;
}

function endSpan(span: Span, err: unknown): void {
  if (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    const hasCode = err instanceof Error && 'code' in err;
    const code = hasCode ? (err as { code: unknown }).code : undefined;
    if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
    span.setAttribute('error.type', hasCode ? String(code) : 'Error');
  }
  span.end();
}

/** Statements a client keeps span names and attribute sets for; past it the set starts over. */
export const SPAN_SHAPES_PER_CLIENT = 256;

interface SpanShape {
  name: string;
  attributes: Attributes;
}

export class TracedClient extends pg.Client {
  // A pooled client issues the same few statements over and over: their span name (a regex over
  // the text) and attribute set are worked out once each, not per query. The SDK copies the
  // attributes it is given, so one object serves every span of a statement.
  private readonly shapes = new Map<string, SpanShape>();

  private spanShape(text: string): SpanShape {
    let shape = this.shapes.get(text);
    if (!shape) {
      if (this.shapes.size >= SPAN_SHAPES_PER_CLIENT) this.shapes.clear();
      const operation = queryOperation(text);
      shape = {
        name: `pg.query:${operation ?? 'query'}${this.database ? ` ${this.database}` : ''}`,
        attributes: {
          'db.system.name': 'postgresql',
          ...(this.database ? { 'db.namespace': this.database } : {}),
          ...(this.host ? { 'server.address': this.host } : {}),
          ...(this.port ? { 'server.port': this.port } : {}),
          'db.query.text': text,
        },
      };
      this.shapes.set(text, shape);
    }
    return shape;
  }

  // pg's query has a dozen overloads (text or config, values, callback, submittables); the span
  // wraps whichever form it was called with and hands everything through unchanged.
  override query(...args: unknown[]): never {
    const run = super.query as (...a: unknown[]) => unknown;
    const config = args[0];
    const active = context.active();
    const parent = trace.getSpan(active);
    const text = queryText(config);
    // Only inside a traced operation, as the instrumentation's requireParentSpan; submittables
    // (cursors, streams) report their rows through their own events and are passed through.
    if (
      !parent?.isRecording() ||
      isTracingSuppressed(active) ||
      text === undefined ||
      typeof (config as { submit?: unknown }).submit === 'function'
    )
      return run.apply(this, args) as never;
    const shape = this.spanShape(text);
    const span = tracer.startSpan(shape.name, { kind: SpanKind.CLIENT, attributes: shape.attributes }, active);
    const last = args.length - 1;
    const callback = args[last];
    const viaCallback = typeof callback === 'function';
    if (viaCallback)
      args[last] = ((err: Error | null, result?: unknown) => {
        endSpan(span, err);
        (callback as Callback)(err, result);
      }) satisfies Callback;
    let returned: unknown;
    try {
      returned = run.apply(this, args);
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
    if (viaCallback) return returned as never;
    return (returned as Promise<unknown>).then(
      (r) => {
        endSpan(span, undefined);
        return r;
      },
      (err: unknown) => {
        endSpan(span, err);
        throw err;
      },
    ) as never;
  }
}
