// Fuzzing the API from its own OpenAPI document: at least 10 000 malformed or hostile requests
// (bodies and parameters generated from the schemas, then broken; random JSON; broken JSON;
// wrong content types; oversized bodies; raw malformed HTTP). None may get a 5xx, the process
// must stay up and its memory bounded.
//
// The API allows 1200 requests a minute per API key. So that the fuzz reaches the handlers
// instead of the rate limiter, it runs against a second API process of the same code and
// database, configured (as a deployment would be for several clients) with ten keys; requests
// rotate over them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, serviceEnv } from '../../compose/local/components.js';
import { projectRoot } from '../../compose/local/paths.js';
import { endpoints } from '../../compose/local/stack.js';
import { rssOf } from '../support/observe.js';
import { eventually, sleep } from '../support/stack-clients.js';

const e = endpoints('test');
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const KEYS = Array.from({ length: 10 }, (_, i) => `fuzz-key-${i}-${'k'.repeat(8)}`);
const MB = 1024 * 1024;

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  additionalProperties?: boolean | Schema;
  default?: unknown;
};

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: Record<string, Schema>;
  body?: Schema;
}

let api: ChildProcess;
let apiUrl: string;
let operations: Operation[] = [];

function operationsOf(doc: {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string; schema?: Schema }[];
        requestBody?: { content?: Record<string, { schema?: Schema }> };
      }
    >
  >;
}): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}])),
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return out;
}

/** Values that fit the schema (roughly): the starting point that mutations then break. */
function valid(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.jsonValue({ maxDepth: 2 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((s) => valid(s, depth + 1)));
  if (schema.allOf?.length) return valid(Object.assign({}, ...schema.allOf) as Schema, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const shape = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valid(s, depth + 1)]));
      return fc.record(shape, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    case 'array':
      return fc.array(valid(schema.items, depth + 1), {
        minLength: Math.min(schema.minItems ?? 0, 20),
        maxLength: Math.min(schema.maxItems ?? 8, 20),
      });
    case 'string':
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'date-time')
        return fc.date().map((d) => (Number.isNaN(d.getTime()) ? '' : d.toISOString()));
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 60) });
    case 'integer':
      return fc.integer({
        min: typeof schema.minimum === 'number' ? Math.ceil(schema.minimum) : -1000,
        max: typeof schema.maximum === 'number' ? Math.floor(Math.min(schema.maximum, 2 ** 31)) : 1000,
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    '../../../../etc/passwd',
    '%00',
    '\u0000',
    "' OR 1=1 --",
    '"; DROP TABLE datasets; --',
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    '{{7*7}}',
    '__proto__',
    'constructor',
    'NaN',
    'Infinity',
    '-0',
    '1e309',
    '\ud800',
    '😀'.repeat(500),
  ),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'a'.repeat(n)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 5e-324, [], {}, [[]], [{}]),
  fc.jsonValue({ maxDepth: 4 }),
  // Deep nesting: parsers and validators that recurse must not fall over.
  fc.integer({ min: 50, max: 500 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}') as unknown),
  fc.array(fc.double(), { minLength: 500, maxLength: 5000 }),
);

/** A value that fits the schema, then broken in one place (or replaced outright). */
function mutated(schema: Schema | undefined): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 2, arbitrary: valid(schema) },
    {
      weight: 4,
      arbitrary: fc.tuple(valid(schema), hostileValue, fc.nat(), fc.boolean()).map(([v, bad, pick, drop]) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad;
        const obj = { ...(v as Record<string, unknown>) };
        const keys = Object.keys(obj);
        if (keys.length === 0) return { extra: bad };
        const k = keys[pick % keys.length]!;
        if (drop) delete obj[k];
        else obj[k] = bad;
        return obj;
      }),
    },
    { weight: 1, arbitrary: hostileValue },
  );
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  kind: string;
}

function pathArb(op: Operation): fc.Arbitrary<string> {
  const param = fc.oneof(
    fc.uuid(),
    // A lone surrogate cannot be percent-encoded; Buffer turns it into U+FFFD first.
    hostileString.map((s) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8')).slice(0, 4000)),
  );
  return fc.tuple(...op.pathParams.map(() => param)).map((values) => {
    let p = op.path;
    op.pathParams.forEach((name, i) => (p = p.replace(`{${name}}`, values[i]!)));
    return p;
  });
}

function queryArb(op: Operation): fc.Arbitrary<string> {
  const entries = Object.entries(op.query);
  return fc
    .tuple(
      fc.tuple(...entries.map(([, s]) => fc.option(fc.oneof(valid(s), hostileValue), { nil: undefined }))),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
    )
    .map(([values, extra]) => {
      const q = new URLSearchParams();
      entries.forEach(([name], i) => {
        const v = values[i];
        if (v !== undefined) q.set(name, (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')).slice(0, 4000));
      });
      for (const [k, v] of Object.entries(extra)) q.append(k, v);
      const s = q.toString();
      return s ? `?${s}` : '';
    });
}

function requestArb(op: Operation): fc.Arbitrary<FuzzRequest> {
  const auth = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...KEYS).map((k) => ({ 'x-api-key': k })) },
    { weight: 1, arbitrary: fc.constant({} as Record<string, string>) },
    {
      weight: 1,
      arbitrary: hostileString.map((s) => ({
        authorization: `Bearer ${s.replace(/[^\x20-\x7e]/g, 'x').slice(0, 4000)}`,
      })),
    },
  );
  const body = fc.oneof(
    {
      weight: 6,
      arbitrary: mutated(op.body).map((v) => ({
        kind: 'json',
        body: JSON.stringify(v) ?? 'null',
        type: 'application/json',
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(mutated(op.body), fc.nat()).map(([v, cut]) => {
        const text = JSON.stringify(v) ?? '{';
        return {
          kind: 'broken-json',
          body: text.slice(0, Math.max(1, cut % Math.max(1, text.length))),
          type: 'application/json',
        };
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            'text/plain',
            'application/xml',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
            'application/json; charset=utf-16',
            '',
          ),
          fc.string({ maxLength: 200 }),
        )
        .map(([type, text]) => ({ kind: 'content-type', body: text, type })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'no-body', body: undefined as string | undefined, type: '' }) },
    {
      // Nesting far deeper than any value above: as text, it only has to be parsed.
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1000, max: 100_000 }), fc.constantFrom('[]', '{}'))
        .map(([n, [open, close]]) => ({
          kind: 'deep-json',
          body: open!.repeat(n) + close!.repeat(n),
          type: 'application/json',
        })),
    },
  );
  return fc.tuple(pathArb(op), queryArb(op), auth, body).map(([path, query, headers, b]) => ({
    method: op.method,
    path: path + query,
    headers: { ...headers, ...(b.type ? { 'content-type': b.type } : {}) },
    body: op.method === 'GET' ? undefined : b.body,
    kind: op.method === 'GET' ? 'params' : b.kind,
  }));
}

/** Requests fetch refuses to send: broken request lines, bad lengths, bad chunking. */
const RAW = [
  'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  'GARBAGE\r\n\r\n',
  'POST /api/v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"a":',
  'POST /api/v1/datasets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  'POST /api/v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  `GET /api/v1/datasets HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${'a'.repeat(70_000)}\r\n\r\n`,
  'GET /api/v1/datasets/%zz HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /health/live HTTP/9.9\r\nHost: x\r\n\r\n',
];

function rawRequest(port: number, text: string): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      sock.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : -1); // -1: the server closed without answering (allowed)
    };
    sock.setTimeout(5000, done);
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\r\n\r\n')) done();
    });
    sock.on('error', done);
    sock.on('close', done);
    sock.write(text, 'latin1');
    sock.end();
  });
}

beforeAll(async () => {
  const ctx = context('test');
  const port = Number(new URL(e.apiUrl).port) + 7;
  apiUrl = `http://127.0.0.1:${port}`;
  const logDir = e.logsDir('api-fuzz');
  mkdirSync(logDir, { recursive: true });
  const out = createWriteStream(join(logDir, 'stdout.txt'));
  api = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'services', 'api', 'src', 'main.ts')], {
    cwd: projectRoot,
    env: {
      ...process.env,
      ...serviceEnv(ctx, 'api'),
      API_PORT: String(port),
      // Ten admin keys, the last one the webhook's alerts:write key.
      PYNOMALY_API_KEYS: JSON.stringify(
        KEYS.map((k, i) => ({
          name: `fuzz-${i}`,
          scopes: i === KEYS.length - 1 ? ['alerts:write'] : ['admin'],
          keys: [k],
        })),
      ),
      // A tenth of the requests carry no or a hostile key: all from one address, they would
      // otherwise lock it out within seconds and the rest of the run would only see 429.
      PYNOMALY_AUTH_FAILURES_PER_MINUTE: '1000000',
      LOG_DIR: logDir,
      // Thousands of 4xx lines are not what this run is about.
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  api.stdout!.pipe(out);
  api.stderr!.pipe(out);
  const exited = new Promise<never>((_, reject) =>
    api.once('exit', (code) => reject(new Error(`the fuzz API instance exited (${code}); see ${logDir}/stdout.txt`))),
  );
  exited.catch(() => undefined);
  await Promise.race([
    exited,
    eventually(
      'the fuzz API instance ready',
      async () => ((await fetch(`${apiUrl}/health/ready`)).status === 200 ? true : undefined),
      90_000,
    ),
  ]);
  const doc = (await (await fetch(`${apiUrl}/docs/json`)).json()) as Parameters<typeof operationsOf>[0];
  operations = operationsOf(doc);
}, 120_000);

afterAll(async () => {
  if (!api || api.exitCode !== null) return;
  const exited = new Promise((r) => api.once('exit', r));
  api.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (api.exitCode === null) api.kill('SIGKILL');
});

describe('API fuzz from its OpenAPI document', () => {
  it(`${TOTAL} malformed or hostile requests: zero 5xx, the API stays up, memory bounded`, async () => {
    const port = Number(new URL(apiUrl).port);
    const pid = api.pid!;
    expect(operations.length).toBeGreaterThan(5);
    const byOp = fc.oneof(...operations.map((op) => requestArb(op)));
    const requests = fc.sample(byOp, { numRuns: TOTAL, seed: 20261125 });
    // A few bodies just over the limits (16 MiB dataset JSON, 4 MiB detect, 1 MiB elsewhere).
    for (const [path, size] of [
      ['/api/v1/datasets', 17 * MB],
      ['/api/v1/detectors/00000000-0000-4000-8000-000000000000/detect', 5 * MB],
      ['/api/v1/alerts/webhook', 2 * MB],
    ] as const) {
      requests.push({
        method: 'POST',
        path,
        headers: {
          'x-api-key': path.endsWith('/webhook') ? KEYS.at(-1)! : KEYS[0]!,
          'content-type': 'application/json',
        },
        body: Buffer.alloc(size, 0x20),
        kind: 'oversized',
      });
    }

    const statuses: Record<number, number> = {};
    const byKind: Record<string, number> = {};
    const fiveXx: string[] = [];
    let networkErrors = 0;
    let oversizedResets = 0;
    const rssStart = rssOf(pid);
    let rssPeak = rssStart;
    const sampler = setInterval(() => {
      try {
        rssPeak = Math.max(rssPeak, rssOf(pid));
      } catch {
        // the process is gone: the liveness check below reports it
      }
    }, 500);
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= requests.length) return;
        const r = requests[i]!;
        byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
        try {
          const res = await fetch(`${apiUrl}${r.path}`, {
            method: r.method,
            headers: r.headers,
            body: r.body,
            signal: AbortSignal.timeout(30_000),
          });
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status >= 500 && fiveXx.length < 20)
            fiveXx.push(
              `${res.status} ${r.method} ${r.path.slice(0, 120)} [${r.kind}] ${String(r.body ?? '').slice(0, 200)}`,
            );
        } catch (err) {
          // A server may answer 413 and close before an oversized body is fully sent; the client
          // then sees a reset instead of the status. That is a refusal, not a failure.
          if (r.kind === 'oversized') {
            oversizedResets += 1;
            continue;
          }
          networkErrors += 1;
          if (fiveXx.length < 20)
            fiveXx.push(`network error ${String(err)} on ${r.method} ${r.path.slice(0, 120)} [${r.kind}]`);
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    const rawStatuses: number[] = [];
    for (const text of RAW) rawStatuses.push(await rawRequest(port, text));
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    const rssEnd = rssOf(pid);
    const live = await fetch(`${apiUrl}/health/live`);
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    console.log(
      [
        `fuzz: ${requests.length} requests over ${operations.length} operations in ${seconds.toFixed(0)} s (+${RAW.length} raw malformed HTTP)`,
        `  by kind: ${Object.entries(byKind)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `  statuses: ${Object.entries(statuses)
          .sort()
          .map(([k, v]) => `${k}×${v}`)
          .join(
            ' ',
          )}; network errors ${networkErrors}; oversized bodies refused by closing ${oversizedResets}; raw: ${rawStatuses.join(',')}`,
        `  API RSS: start ${(rssStart / MB).toFixed(0)} MiB, peak ${(rssPeak / MB).toFixed(0)} MiB, end ${(rssEnd / MB).toFixed(0)} MiB; alive afterwards: ${live.status}`,
        ...fiveXx.map((l) => `  ${l}`),
      ].join('\n'),
    );
    expect(total + networkErrors + oversizedResets).toBe(requests.length);
    expect(total).toBeGreaterThanOrEqual(10_000 > TOTAL ? TOTAL : 10_000);
    expect(fiveXx).toEqual([]);
    expect(networkErrors).toBe(0);
    expect(rawStatuses.every((s) => s < 500)).toBe(true);
    expect(live.status).toBe(200);
    expect(api.exitCode).toBeNull();
    // Bounded: 10 000 requests, some of them 17 MiB bodies and 100 000-deep JSON, may grow the heap
    // (V8 collects lazily) but not without limit (the process starts near 200 MiB).
    expect(rssPeak).toBeLessThan(1024 * MB);
    expect(rssEnd - rssStart).toBeLessThan(384 * MB);
  });
});
