// A careful attacker with one valid API key, on the live stack, driven by a table of cases:
// amplifying invalid bodies, oversized bodies, deep and wide JSON, CSV files of tiny lines, of huge
// cells and of many columns, bursts of concurrent uploads, several large models filling the API's
// model cache, and a training request at the schema's largest parameters. For every case: each
// answer is a 4xx with a message (or the right 2xx), never a 5xx or a dropped connection; the API
// and both workers are the same processes afterwards; and each process's peak RSS during the case
// stays below the memory limit its Kubernetes manifest gives it (read from k8s/base, not copied).
// A table of peak RSS and /health/live latency per case is printed at the end.
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileSecret } from '../../compose/local/components.js';
import { projectRoot } from '../../compose/local/paths.js';
import { endpoints } from '../../compose/local/stack.js';
import { ApiClient, type Job } from '../../testkit/api-client.js';
import { livePid } from '../support/faults.js';
import { rssOf } from '../support/observe.js';
import { seededRandom, waitForJob } from '../../testkit/traffic.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const MiB = 1024 * 1024;
const SERVICES = ['api', 'training-worker', 'drift-worker'] as const;
type Service = (typeof SERVICES)[number];

/** Memory limit of a Deployment's container in k8s/base/<name>.yaml, in bytes. */
function manifestMemoryLimit(name: Service): number {
  const text = readFileSync(join(projectRoot, 'k8s', 'base', `${name}.yaml`), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as {
      kind?: string;
      spec?: {
        template?: { spec?: { containers?: { name: string; resources?: { limits?: { memory?: string } } }[] } };
      };
    };
    if (obj?.kind !== 'Deployment') continue;
    const container = obj.spec?.template?.spec?.containers?.find((c) => c.name === name);
    const quantity = container?.resources?.limits?.memory;
    if (!quantity) continue;
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
    if (!m) throw new Error(`k8s/base/${name}.yaml: memory limit ${quantity} is not a quantity this test reads`);
    const unit = { Ki: 1024, Mi: MiB, Gi: 1024 * MiB, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
    return Number(m[1]) * unit;
  }
  throw new Error(`k8s/base/${name}.yaml: no Deployment container "${name}" with a memory limit`);
}

interface Answer {
  status: number;
  message: string;
  body?: unknown;
  /** The connection failed (the server died or dropped it) instead of answering. */
  error?: string;
}

/** Raw HTTP, so a body the server refuses early still gets its status (fetch may only see a reset). */
function send(
  method: string,
  path: string,
  body?: string | Buffer,
  contentType?: string,
  /**
   * Send the headers and wait up to a second for an answer before sending the body: a server that
   * refuses by Content-Length answers at once and closes, and a body still being written then
   * turns its answer into a reset.
   */
  headersFirst = false,
): Promise<Answer> {
  return new Promise((resolve) => {
    const url = new URL(path, e.apiUrl);
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    let settled = false;
    const done = (a: Answer) => {
      if (!settled) {
        settled = true;
        resolve(a);
      }
    };
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent: false,
        timeout: 120_000,
        headers: {
          // The webhook takes only Alertmanager's alerts:write key; every other route the admin key.
          'x-api-key': path.startsWith('/api/v1/alerts/webhook')
            ? profileSecret('test', 'api-webhook-token')
            : e.apiKey,
          ...(payload ? { 'content-type': contentType ?? 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let message = '';
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
            message = String((parsed as { message?: unknown }).message ?? '');
          } catch {
            message = text.slice(0, 200);
          }
          done({ status: res.statusCode ?? 0, message, body: parsed });
          req.destroy(); // one connection per request; a refused body is not sent after its answer
        });
        res.on('error', (err) => done({ status: res.statusCode ?? 0, message: '', error: String(err) }));
      },
    );
    // A server that refuses a large body answers and closes while it is still being sent: the
    // write then fails (EPIPE) although the answer is on its way, so give the answer a moment.
    req.on('error', (err) => setTimeout(() => done({ status: 0, message: '', error: String(err) }), 2000));
    req.on('timeout', () => req.destroy(new Error('no answer within 120 s')));
    if (headersFirst) {
      req.flushHeaders();
      const later = setTimeout(() => req.end(payload), 1000);
      req.once('response', () => clearTimeout(later));
    } else {
      req.end(payload);
    }
  });
}

async function multipart(csv: string | Buffer): Promise<{ body: Buffer; type: string }> {
  const fd = new FormData();
  fd.append('file', new Blob([csv], { type: 'text/csv' }), 'hostile.csv');
  const r = new Request('http://localhost/', { method: 'POST', body: fd });
  return { body: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type')! };
}

const json = (v: unknown) => JSON.stringify(v);
const repeat = (item: string, n: number) => new Array<string>(n).fill(item).join(',');

// Shared by the cases that need a trained detector or a dataset.
let smallDetector: string;

/** Three detectors whose models (300 trees of 4000 samples over 500 features) are tens of MB each. */
async function largeModels(answers: Answer[]): Promise<string[]> {
  const rand = seededRandom(7);
  const features = Array.from({ length: 500 }, (_, i) => `f${i}`);
  // The largest dataset the defaults allow: 4000 rows × 500 features = 2 000 000 values.
  const lines = [features.join(',')];
  for (let r = 0; r < 4000; r++) lines.push(Array.from({ length: 500 }, () => rand().toFixed(3)).join(','));
  const mp = await multipart(lines.join('\n'));
  const ds = await send('POST', '/api/v1/datasets/upload?name=hostile-large', mp.body, mp.type);
  answers.push(ds);
  if (ds.status !== 201) throw new Error(`large dataset upload answered ${ds.status}: ${ds.message}`);
  const id = (ds.body as { id: string }).id;
  const jobs: string[] = [];
  const detectors: string[] = [];
  for (let i = 0; i < 3; i++) {
    const det = await api.call<{ id: string; message?: string }>('POST', '/api/v1/detectors', {
      name: `hostile-large-${i}`,
      datasetId: id,
      algorithm: 'isolation_forest',
      // The largest forests the training budget admits (TRAINING_MAX_MODEL_NODES: 240 × 7999 < 2e6).
      parameters: { nEstimators: 240, maxSamples: 4000, seed: i + 1 },
    });
    answers.push({ status: det.status, message: det.body.message ?? '' });
    if (det.status !== 201) throw new Error(`large detector answered ${det.status}: ${det.body.message}`);
    detectors.push(det.body.id);
    const train = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${det.body.id}/train`, {});
    jobs.push(train.body.id);
  }
  for (const j of jobs) {
    const job = await waitForJob(api, j, 360_000);
    if (job.state !== 'succeeded') throw new Error(`large model job ${j} ended ${job.state}: ${job.reason}`);
  }
  return detectors;
}

interface Case {
  name: string;
  /** Statuses a correct server may answer with. */
  accept: number[];
  /** What a 4xx message must say (it must always say something). */
  message?: RegExp;
  run: () => Promise<Answer[]>;
}

const cases: Case[] = [
  {
    name: '1.9M string cells in a dataset (7.8 MB)',
    accept: [400],
    message: /body\.rows\[0\]\[0\]: .*more issues/,
    run: async () => [
      await send(
        'POST',
        '/api/v1/datasets',
        `{"name":"x","featureNames":${json(Array.from({ length: 10 }, (_, i) => `f${i}`))},"rows":[${repeat(`[${repeat('"x"', 10)}]`, 190_000)}]}`,
      ),
    ],
  },
  {
    name: '900k string cells in a detect request (3.6 MB)',
    accept: [400],
    message: /body\.rows/,
    run: async () => [
      await send(
        'POST',
        `/api/v1/detectors/${smallDetector}/detect`,
        `{"rows":[${repeat(`[${repeat('"x"', 100)}]`, 9000)}]}`,
      ),
    ],
  },
  {
    name: '1M-entry array of numbers as detect rows (2 MB)',
    accept: [400, 413],
    message: /entries|rows/,
    run: async () => [
      await send('POST', `/api/v1/detectors/${smallDetector}/detect`, `{"rows":[${repeat('0', 1_000_000)}]}`),
    ],
  },
  {
    name: '340k empty alerts in a webhook (1 MB)',
    accept: [400, 413],
    message: /entries|alerts/,
    run: async () => [
      await send(
        'POST',
        '/api/v1/alerts/webhook',
        `{"version":"4","groupKey":"g","status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"x","alerts":[${repeat('{}', 340_000)}]}`,
      ),
    ],
  },
  {
    name: 'oversized bodies (17 MiB dataset, 5 MiB detect, 2 MiB detector)',
    accept: [413],
    message: /larger than the limit/,
    run: async () => [
      await send('POST', '/api/v1/datasets', Buffer.alloc(17 * MiB, 0x20), undefined, true),
      await send('POST', `/api/v1/detectors/${smallDetector}/detect`, Buffer.alloc(5 * MiB, 0x20), undefined, true),
      await send('POST', '/api/v1/detectors', Buffer.alloc(2 * MiB, 0x20), undefined, true),
    ],
  },
  {
    name: 'JSON nested 1 000 000 deep (2 MB)',
    accept: [400, 413],
    message: /nested|JSON/,
    run: async () => [await send('POST', '/api/v1/datasets', '['.repeat(1_000_000) + ']'.repeat(1_000_000))],
  },
  {
    name: 'object of 200k keys as detector parameters (1 MB)',
    accept: [400, 413],
    message: /entries|parameters|body/,
    run: async () => [
      await send(
        'POST',
        '/api/v1/detectors',
        `{"name":"x","algorithm":"robust_zscore","parameters":{${repeat('"":0', 200_000)}}}`,
      ),
    ],
  },
  {
    name: 'CSV of 8M tiny lines (16 MB)',
    accept: [413, 422],
    message: /rows|limit/,
    run: async () => {
      const mp = await multipart('a\n' + '1\n'.repeat(8_000_000));
      return [await send('POST', '/api/v1/datasets/upload', mp.body, mp.type)];
    },
  },
  {
    name: 'CSV with one 15 MB cell',
    accept: [413, 422],
    message: /line|cell|limit/,
    run: async () => {
      const mp = await multipart(`a,b\n1,"${'x'.repeat(15_000_000)}"\n`);
      return [await send('POST', '/api/v1/datasets/upload', mp.body, mp.type)];
    },
  },
  {
    name: 'CSV with 1.5M columns (12 MB)',
    accept: [413, 422],
    message: /columns|line|limit/,
    run: async () => {
      const header = Array.from({ length: 1_500_000 }, (_, i) => `c${i}`).join(',');
      const mp = await multipart(`${header}\n${repeat('1', 1_500_000)}\n`);
      return [await send('POST', '/api/v1/datasets/upload', mp.body, mp.type)];
    },
  },
  {
    name: 'burst: 10 JSON (12 MB) + 4 CSV (12 MB) dataset uploads at once',
    accept: [201, 429],
    message: /uploads/,
    run: async () => {
      const rand = seededRandom(11);
      const cols = 10;
      const rows = Array.from({ length: 150_000 }, () => `[${Array.from({ length: cols }, () => rand().toFixed(5))}]`);
      const body = `{"name":"burst","featureNames":${json(Array.from({ length: cols }, (_, i) => `f${i}`))},"rows":[${rows}]}`;
      const csvText = [
        Array.from({ length: cols }, (_, i) => `f${i}`).join(','),
        ...rows.map((r) => r.slice(1, -1)),
      ].join('\n');
      const mp = await multipart(csvText);
      // Headers first: an upload refused with 429 is refused before its body is read, and a body
      // still being written when the server closes would turn that answer into a reset.
      return Promise.all([
        ...Array.from({ length: 10 }, () => send('POST', '/api/v1/datasets', body, undefined, true)),
        ...Array.from({ length: 4 }, () => send('POST', '/api/v1/datasets/upload', mp.body, mp.type, true)),
      ]);
    },
  },
  {
    name: 'three large models: train, list, detect round-robin',
    accept: [200, 201, 202],
    run: async () => {
      const answers: Answer[] = [];
      const detectors = await largeModels(answers);
      const list = await send('GET', '/api/v1/detectors?limit=500');
      answers.push(list);
      const rand = seededRandom(5);
      const rows = json({ rows: Array.from({ length: 20 }, () => Array.from({ length: 500 }, () => rand())) });
      for (let round = 0; round < 2; round++) {
        answers.push(...(await Promise.all(detectors.map((d) => send('POST', `/api/v1/detectors/${d}/detect`, rows)))));
      }
      return answers;
    },
  },
  {
    name: "training at the schema's largest parameters (the API's answer)",
    accept: [201, 202, 422],
    message: /budget|exceeds|limit/,
    run: async () => {
      const rand = seededRandom(13);
      const rows = Array.from({ length: 100_000 }, () => [rand(), rand(), rand(), rand()]);
      const ds = await api.call<{ id: string; message?: string }>('POST', '/api/v1/datasets', {
        name: 'hostile-max',
        featureNames: ['a', 'b', 'c', 'd'],
        rows,
      });
      const answers: Answer[] = [{ status: ds.status, message: ds.body.message ?? '' }];
      if (ds.status !== 201) return answers;
      const det = await api.call<{ id: string; message?: string }>('POST', '/api/v1/detectors', {
        name: 'hostile-max',
        datasetId: ds.body.id,
        algorithm: 'isolation_forest',
        parameters: { nEstimators: 1000, maxSamples: 100_000, contamination: 0.5, seed: 1 },
      });
      answers.push({ status: det.status, message: det.body.message ?? '' });
      if (det.status !== 201) return answers;
      const train = await api.call<{ message?: string }>('POST', `/api/v1/detectors/${det.body.id}/train`, {});
      answers.push({ status: train.status, message: train.body.message ?? '' });
      return answers;
    },
  },
];

interface Row {
  name: string;
  statuses: string;
  seconds: number;
  peakRss: Record<Service, number>;
  liveMaxMs: number;
  liveP50Ms: number;
}
const table: Row[] = [];
const limits = Object.fromEntries(SERVICES.map((s) => [s, manifestMemoryLimit(s)])) as Record<Service, number>;
let pids: Record<Service, number>;

/**
 * /health/live latency probed from a worker thread, so the time this process spends building
 * hostile bodies does not count as the API's: what is left is the API's event loop (and the load
 * of the machine). The thread runs for the whole file (a new thread's first fetch is slow) and
 * hands over the latencies measured since the last ask once its current probe completes.
 */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
let latencies = [];
let running = true;
let asked = false;
parentPort.on('message', (m) => {
  if (m === 'stop') running = false;
  else asked = true;
});
(async () => {
  while (running) {
    const t = performance.now();
    await fetch(workerData.url, { signal: AbortSignal.timeout(60000) }).then((r) => r.arrayBuffer()).catch(() => undefined);
    latencies.push(performance.now() - t);
    // Answered after a probe completes, so a probe that overlapped the case is counted in it.
    if (asked) { parentPort.postMessage(latencies); latencies = []; asked = false; }
    await new Promise((r) => setTimeout(r, 200));
  }
})();
`;
let prober: Worker;

function latenciesSinceLastAsk(): Promise<number[]> {
  return new Promise((resolve) => {
    prober.once('message', resolve);
    prober.postMessage('take');
  });
}

/** Samples each process's RSS and the API's /health/live latency until stopped. */
async function watch() {
  const peak = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
  const sample = () => {
    for (const s of SERVICES) {
      try {
        peak[s] = Math.max(peak[s], rssOf(pids[s]));
      } catch {
        // gone: the pid check after the case reports it
      }
    }
  };
  sample();
  const timer = setInterval(sample, 100);
  await latenciesSinceLastAsk(); // drop what was measured between cases
  return async () => {
    const sorted = (await latenciesSinceLastAsk()).sort((a, b) => a - b);
    clearInterval(timer);
    sample();
    return { peak, liveMaxMs: sorted.at(-1) ?? 0, liveP50Ms: sorted[Math.floor(sorted.length / 2)] ?? 0 };
  };
}

beforeAll(async () => {
  prober = new Worker(PROBER, { eval: true, workerData: { url: `${e.apiUrl}/health/live` } });
  pids = Object.fromEntries(SERVICES.map((s) => [s, livePid(s)])) as Record<Service, number>;
  const rand = seededRandom(3);
  const ds = await api.expect<{ id: string }>(201, 'POST', '/api/v1/datasets', {
    name: 'hostile-small',
    featureNames: ['a', 'b', 'c'],
    rows: Array.from({ length: 300 }, () => [rand(), rand(), rand()]),
  });
  const det = await api.expect<{ id: string }>(201, 'POST', '/api/v1/detectors', {
    name: 'hostile-small',
    datasetId: ds.body.id,
    algorithm: 'robust_zscore',
  });
  const train = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${det.body.id}/train`, {});
  const job = await waitForJob(api, train.body.id, 120_000);
  if (job.state !== 'succeeded') throw new Error(`setup training ended ${job.state}: ${job.reason}`);
  smallDetector = det.body.id;
}, 180_000);

afterAll(async () => {
  prober?.postMessage('stop');
  await prober?.terminate();
  const mib = (n: number) => `${(n / MiB).toFixed(0)}`.padStart(5);
  const lines = [
    `hostile client: peak RSS per process (MiB; limits from k8s/base: api ${mib(limits.api)}, training ${mib(limits['training-worker'])}, drift ${mib(limits['drift-worker'])}) and /health/live latency`,
    `${'case'.padEnd(66)} ${'statuses'.padEnd(22)} ${'s'.padStart(5)}   api  train  drift  live p50/max ms`,
    ...table.map(
      (r) =>
        `${r.name.slice(0, 66).padEnd(66)} ${r.statuses.slice(0, 22).padEnd(22)} ${r.seconds.toFixed(1).padStart(5)} ${mib(r.peakRss.api)} ${mib(r.peakRss['training-worker'])}  ${mib(r.peakRss['drift-worker'])}  ${r.liveP50Ms.toFixed(0)}/${r.liveMaxMs.toFixed(0)}`,
    ),
  ];
  console.log(lines.join('\n'));
});

describe.sequential('a hostile client with a valid API key', () => {
  it.each(cases)(
    '$name',
    async (c) => {
      const stop = await watch();
      const started = performance.now();
      let answers: Answer[] = [];
      let failure: unknown;
      try {
        answers = await c.run();
      } catch (err) {
        failure = err;
      }
      const seen = await stop();
      const tally = new Map<string, number>();
      for (const a of answers) {
        const key = a.error ? 'conn-error' : String(a.status);
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
      table.push({
        name: c.name,
        statuses: [...tally].map(([k, v]) => `${k}×${v}`).join(' ') || 'none',
        seconds: (performance.now() - started) / 1000,
        peakRss: seen.peak,
        liveMaxMs: seen.liveMaxMs,
        liveP50Ms: seen.liveP50Ms,
      });
      if (failure) throw failure;

      expect(answers.length).toBeGreaterThan(0);
      for (const a of answers) {
        expect(a.error, `${c.name}: the connection failed instead of an answer`).toBeUndefined();
        expect(a.status, `${c.name}: ${a.status} ${a.message}`).toBeLessThan(500);
        expect(c.accept, `${c.name}: ${a.status} ${a.message}`).toContain(a.status);
        if (a.status >= 400) {
          expect(a.message.length).toBeGreaterThan(0);
          if (c.message) expect(a.message).toMatch(c.message);
        }
      }
      for (const s of SERVICES) {
        expect(livePid(s), `${s} was restarted or died`).toBe(pids[s]);
        expect(seen.peak[s], `${s} peak RSS vs its Kubernetes memory limit`).toBeLessThan(limits[s]);
      }
    },
    600_000,
  );
});
