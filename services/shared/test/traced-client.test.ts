// The pool's client opens a CLIENT span per query inside a traced operation, in every calling form
// pg has; it never changes what the query returns or how it fails. pg's own query is replaced by a
// recording fake here (the live stack's traces cover the real driver).
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useInMemoryTracing } from '../../../testkit/tracing.js';
import { queryOperation, SPAN_SHAPES_PER_CLIENT, TracedClient } from '../src/db/traced-client.js';

const spans = useInMemoryTracing();
const original = pg.Client.prototype.query;
let calls: unknown[][];
let fail: Error | undefined;

beforeEach(() => {
  calls = [];
  fail = undefined;
  // What pg does with each form: a callback gets the result, otherwise a promise; a submittable is returned.
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    calls.push(args);
    const cb = args.at(-1);
    const result = { rows: [{ one: 1 }], command: 'SELECT' };
    if (typeof (args[0] as { submit?: unknown }).submit === 'function') return args[0];
    if (typeof cb === 'function') {
      setImmediate(() => (fail ? cb(fail) : cb(null, result)));
      return undefined;
    }
    return fail ? Promise.reject(fail) : Promise.resolve(result);
  } as typeof pg.Client.prototype.query;
});
afterEach(() => {
  pg.Client.prototype.query = original;
});

const client = (): pg.Client =>
  new TracedClient({ host: '127.0.0.1', port: 45432, database: 'pynomaly', user: 'u', password: 'p' });
const inSpan = <T>(fn: () => Promise<T>) =>
  trace.getTracer('test').startActiveSpan('parent', async (parent) => {
    try {
      return { result: await fn(), parent };
    } finally {
      parent.end();
    }
  });
const querySpans = () => spans.getFinishedSpans().filter((s) => s.name.startsWith('pg.query'));

describe('TracedClient', () => {
  it('names the operation by the statement it runs', () => {
    expect(queryOperation('  select 1')).toBe('SELECT');
    expect(queryOperation('WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x')).toBe('WITH');
    expect(queryOperation('')).toBeUndefined();
  });

  it('opens a CLIENT span per query inside a traced operation, as the pg instrumentation names it', async () => {
    const { result, parent } = await inSpan(() => client().query('SELECT $1::int AS one', [1]));
    expect(result.rows).toEqual([{ one: 1 }]);
    expect(calls).toEqual([['SELECT $1::int AS one', [1]]]);
    const [span] = querySpans();
    expect(span?.name).toBe('pg.query:SELECT pynomaly');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'pynomaly',
      'server.address': '127.0.0.1',
      'server.port': 45432,
      'db.query.text': 'SELECT $1::int AS one',
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('traces the callback form (the pool uses it) and ends the span before the callback runs', async () => {
    const { result } = await inSpan(
      () =>
        new Promise<number>((resolve, reject) => {
          client().query({ text: 'INSERT INTO t VALUES (1)' }, (err: Error | null) => {
            if (err) return reject(err);
            resolve(querySpans().length);
          });
        }),
    );
    expect(result).toBe(1);
    expect(querySpans()[0]?.name).toBe('pg.query:INSERT pynomaly');
  });

  it('a failed query fails unchanged, its span an error with the SQLSTATE', async () => {
    fail = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
    await expect(inSpan(() => client().query('INSERT INTO t VALUES (1)'))).rejects.toBe(fail);
    const [span] = querySpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: fail.message });
    expect(span?.attributes['db.response.status_code']).toBe('23505');
    const viaCallback = await inSpan(
      () => new Promise<Error | null>((resolve) => client().query('SELECT 1', (err: Error | null) => resolve(err))),
    );
    expect(viaCallback.result).toBe(fail);
    expect(querySpans()[1]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('outside a traced operation, with tracing suppressed, or for a submittable, the query is passed through', async () => {
    await client().query('SELECT 1');
    await inSpan(() => context.with(suppressTracing(context.active()), () => client().query('SELECT 2')));
    const cursor = { text: 'SELECT 3', submit: () => {} };
    const returned = await inSpan(async () => client().query(cursor as never) as unknown);
    expect(returned.result).toBe(cursor);
    expect(calls.map((c) => c[0])).toEqual(['SELECT 1', 'SELECT 2', cursor]);
    expect(querySpans()).toEqual([]);
  });

  it('a statement run again gets the same name and attributes, and a span changed later leaves the next alone', async () => {
    const c = client();
    await inSpan(async () => {
      await c.query('SELECT 1');
      await c.query({ text: 'UPDATE t SET x = 1' }).catch(() => undefined);
      fail = Object.assign(new Error('boom'), { code: '57014' });
      await c.query('SELECT 1').catch(() => undefined);
      fail = undefined;
      await c.query('SELECT 1');
    });
    const [first, update, failed, last] = querySpans();
    expect([first, update, failed, last].map((s) => s?.name)).toEqual([
      'pg.query:SELECT pynomaly',
      'pg.query:UPDATE pynomaly',
      'pg.query:SELECT pynomaly',
      'pg.query:SELECT pynomaly',
    ]);
    // The failed query's span gained error attributes; the one after it starts from the statement's own.
    expect(failed?.attributes['db.response.status_code']).toBe('57014');
    expect(last?.attributes).toEqual(first?.attributes);
    expect(last?.attributes['db.response.status_code']).toBeUndefined();
    expect(update?.attributes['db.query.text']).toBe('UPDATE t SET x = 1');
  });

  it('keeps naming statements right past the number of statements a client remembers', async () => {
    const c = client();
    const texts = Array.from({ length: SPAN_SHAPES_PER_CLIENT + 10 }, (_, i) =>
      i % 2 === 0 ? `SELECT ${i}` : `DELETE FROM t WHERE id = ${i}`,
    );
    await inSpan(async () => {
      for (const t of [...texts, texts[0]!]) await c.query(t);
    });
    const got = querySpans();
    expect(got).toHaveLength(texts.length + 1);
    got.forEach((s, i) => {
      const text = i < texts.length ? texts[i]! : texts[0]!;
      expect(s.attributes['db.query.text']).toBe(text);
      expect(s.name).toBe(text.startsWith('SELECT') ? 'pg.query:SELECT pynomaly' : 'pg.query:DELETE pynomaly');
    });
  });
});
