/**
 * The services on the live local stack (test profile): the whole path dataset → detector → train →
 * detect → drift report + drift.detected, a failing training job, the DLQ, bad input that writes
 * nothing, and a training request accepted while Kafka is down that completes once it is back.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import pg from 'pg';
import { gaussian, mulberry32 } from '@pynomaly/algorithms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, startNamed, stopNamed } from '../../compose/local/stack.js';
import { ApiClient } from '../../testkit/api-client.js';
import { traceSpans } from '../support/observe.js';
import { eventually } from '../support/stack-clients.js';

const e = endpoints('test');
const WINDOW = Number(process.env.DRIFT_WINDOW_SIZE ?? '200');
const auth = { 'x-api-key': e.apiKey };
const kafka = new Kafka({ clientId: 'services-e2e', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });
const db = new pg.Pool({ connectionString: e.databaseUrl, max: 2 });

/** Seeded normal data (the algorithms' mulberry32 and gaussian) so runs are reproducible. */
function gaussianRows(n: number, means: number[], sds: number[], seed: number): number[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => means.map((m, j) => m + sds[j]! * gaussian(rng)));
}

/**
 * POSTs a body the server will refuse before reading it: the server answers 413 and closes, so the
 * client's remaining writes fail (EPIPE). What counts is the answer, which arrives first.
 */
function postEarlyAnswer(path: string, body: string): Promise<{ status: number; body: { message: string } }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      `${e.apiUrl}${path}`,
      {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        answered = true;
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { message: string } });
          req.destroy();
        });
      },
    );
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    // Headers first: the API refuses an oversized Content-Length before reading the body, and a
    // body still being written when it closes the connection would fail with EPIPE instead.
    req.flushHeaders();
    setTimeout(() => {
      if (!answered) req.end(body);
    }, 2000);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by assertions
type Json = Record<string, any>;

const client = new ApiClient(e.apiUrl, e.apiKey);

async function api(method: string, path: string, body?: unknown) {
  const res = await client.call<Json | undefined>(method, path, body);
  return { ...res, body: res.body ?? {} };
}

async function createDetector(
  rows: number[][],
  algorithm = 'isolation_forest',
  parameters: Record<string, unknown> = { seed: 7 },
) {
  const ds = await api('POST', '/api/v1/datasets', {
    name: `e2e-${randomUUID()}`,
    featureNames: ['a', 'b', 'c'],
    rows,
  });
  expect(ds.status).toBe(201);
  const det = await api('POST', '/api/v1/detectors', { name: 'e2e', datasetId: ds.body.id, algorithm, parameters });
  expect(det.status).toBe(201);
  return det.body.id as string;
}

async function waitForJob(jobId: string, timeoutMs = 90_000) {
  const seen: string[] = [];
  const job = await eventually(
    `job ${jobId} to finish`,
    async () => {
      const r = await api('GET', `/api/v1/jobs/${jobId}`);
      if (seen.at(-1) !== r.body.state) seen.push(r.body.state);
      return r.body.state === 'succeeded' || r.body.state === 'failed' ? r.body : undefined;
    },
    timeoutMs,
    200,
  );
  return { job, seen };
}

/** Collects every message of some topics from the beginning, for assertions on events. */
class TopicTap {
  readonly messages: { topic: string; key: string; value: string; headers: Record<string, string> }[] = [];
  private consumer: Consumer | undefined;
  async start(topics: string[]) {
    this.consumer = kafka.consumer({ groupId: `e2e-tap-${randomUUID()}` });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        this.messages.push({
          topic,
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers,
        });
      },
    });
  }
  find(topic: string, pred: (m: TopicTap['messages'][number]) => boolean) {
    return this.messages.find((m) => m.topic === topic && pred(m));
  }
  async stop() {
    await this.consumer?.disconnect();
  }
}

const tap = new TopicTap();
const T = {
  requested: 'pynomaly.training.requested',
  completed: 'pynomaly.training.completed',
  failed: 'pynomaly.training.failed',
  scored: 'pynomaly.detections.scored',
  drift: 'pynomaly.drift.detected',
  dlq: 'pynomaly.dlq',
};

beforeAll(async () => {
  await tap.start(Object.values(T));
});
afterAll(async () => {
  await tap.stop();
  await db.end();
});

describe('services on the live stack', () => {
  it('dataset → detector → train → detect → drifted data → drift report and drift.detected', async () => {
    const detectorId = await createDetector(gaussianRows(600, [0, 5, -3], [1, 2, 0.5], 1));

    const train = await api('POST', `/api/v1/detectors/${detectorId}/train`);
    expect(train.status).toBe(202);
    expect(train.body.state).toBe('queued');
    const { job, seen } = await waitForJob(train.body.id);
    console.log(`job states observed: queued (202) → ${seen.join(' → ')}`);
    expect(job.state).toBe('succeeded');
    expect(job.reason).toBeNull();
    expect(job.attempts).toBe(1);
    expect(new Date(job.startedAt).getTime()).toBeLessThanOrEqual(new Date(job.finishedAt).getTime());
    const models = await db.query(
      'SELECT version, trained_rows, reference_profile FROM models WHERE detector_id = $1',
      [detectorId],
    );
    expect(models.rows).toHaveLength(1);
    expect(models.rows[0]).toMatchObject({ version: 1, trained_rows: 600 });
    expect(models.rows[0].reference_profile.features).toHaveLength(3);
    expect((await api('GET', `/api/v1/detectors/${detectorId}`)).body.latestModel).toMatchObject({
      id: job.modelId,
      version: 1,
    });
    const completed = await eventually(
      'training.completed event',
      async () => tap.find(T.completed, (m) => m.value.includes(job.id)),
      30_000,
      250,
    );
    expect(completed.key).toBe(detectorId);
    expect(completed.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);

    // In-distribution rows score low, an outlier high.
    const normal = await api('POST', `/api/v1/detectors/${detectorId}/detect`, {
      rows: [
        [0, 5, -3],
        [25, -20, 9],
      ],
    });
    expect(normal.status).toBe(200);
    expect(normal.body.labels).toEqual([0, 1]);

    // A full window of shifted data (features a and b move; c does not).
    const drifted = await api('POST', `/api/v1/detectors/${detectorId}/detect`, {
      rows: gaussianRows(WINDOW, [3, 9, -3], [1, 2, 0.5], 2),
    });
    expect(drifted.status).toBe(200);
    // Its event waited in the outbox uncompressed: the relay reads it back within milliseconds,
    // and pglz compression of such rows was a quarter of Postgres' CPU on this path.
    const outboxRow = await db.query(
      `SELECT pg_column_compression(value) AS compression, octet_length(value) AS bytes
         FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id DESC LIMIT 1`,
      [T.scored, detectorId],
    );
    expect(outboxRow.rows[0].bytes).toBeGreaterThan(8192); // far past the 2 kB where Postgres compresses
    expect(outboxRow.rows[0].compression).toBeNull();
    const report = await eventually(
      'a drift report',
      async () => (await api('GET', `/api/v1/detectors/${detectorId}/drift-reports`)).body.items?.[0],
      60_000,
      500,
    );
    console.log(
      `drift report: share ${report.driftShare}, dataset drift ${report.datasetDrift}, window ${report.windowRows}`,
    );
    expect(report).toMatchObject({ datasetDrift: true, windowRows: WINDOW, modelId: job.modelId, windowIndex: 0 });
    const byName = Object.fromEntries(
      report.result.features.map((f: { name: string; drifted: boolean }) => [f.name, f.drifted]),
    );
    expect(byName).toMatchObject({ a: true, b: true });
    const event = await eventually(
      'drift.detected event',
      async () => tap.find(T.drift, (m) => m.key === detectorId),
      30_000,
      250,
    );
    expect(JSON.parse(event.value)).toMatchObject({
      type: 'drift.detected',
      version: 1,
      detectorId,
      payload: { reportId: report.id, datasetDrift: true },
    });

    // One trace runs from the API's request through Kafka into the training worker and Postgres.
    const traceId = completed.headers.traceparent!.split('-')[1]!;
    // The worker exports its spans in batches as they end: its queries' spans can reach the
    // backend before the `train` span that encloses them, so wait for the spans themselves.
    const expected = ['pynomaly-api: POST /api/v1/detectors/:id/train', 'pynomaly-training-worker: train'];
    const spans = await eventually(
      'the training trace in the trace backend',
      async () => {
        const list = await traceSpans(e.traceBackend.query, traceId);
        const have = new Set(list.map((s) => `${s.service}: ${s.name}`));
        return expected.every((n) => have.has(n)) ? list : undefined;
      },
      60_000,
    );
    const names = spans.map((s) => `${s.service}: ${s.name}`);
    expect(names).toEqual(expect.arrayContaining(expected));
    expect(names.some((n) => n.startsWith('pynomaly-training-worker: pg.query'))).toBe(true);
  });

  it('a failing training job ends failed with a reason and training.failed is published', async () => {
    const detectorId = await createDetector(gaussianRows(5, [0, 0, 0], [1, 1, 1], 3));
    const train = await api('POST', `/api/v1/detectors/${detectorId}/train`);
    expect(train.status).toBe(202);
    const { job } = await waitForJob(train.body.id);
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/dataset has 5 rows; training needs at least 10/);
    const failed = await eventually(
      'training.failed event',
      async () => tap.find(T.failed, (m) => m.value.includes(job.id)),
      30_000,
      250,
    );
    expect(JSON.parse(failed.value).payload).toEqual({ jobId: job.id, reason: job.reason });
    const detect = await api('POST', `/api/v1/detectors/${detectorId}/detect`, { rows: [[0, 0, 0]] });
    expect(detect.status).toBe(409);
  });

  it('messages that fail validation go to the DLQ and the next good message is processed', async () => {
    const detectorId = await createDetector(gaussianRows(100, [0, 0, 0], [1, 1, 1], 4));
    const producer = kafka.producer();
    await producer.connect();
    const badJson = `not json ${randomUUID()}`;
    const badSchema = JSON.stringify({
      id: randomUUID(),
      type: 'training.requested',
      version: 1,
      occurredAt: new Date().toISOString(),
      detectorId,
      payload: { jobId: 'nope' },
    });
    // Same key as the good request that follows, so all three share a partition and its order.
    await producer.send({
      topic: T.requested,
      messages: [
        { key: detectorId, value: badJson },
        { key: detectorId, value: badSchema },
      ],
    });
    await producer.disconnect();

    const train = await api('POST', `/api/v1/detectors/${detectorId}/train`);
    const { job } = await waitForJob(train.body.id);
    expect(job.state).toBe('succeeded');

    const dlqJson = await eventually(
      'the unparseable message in the DLQ',
      async () => tap.find(T.dlq, (m) => m.value === badJson),
      30_000,
      250,
    );
    expect(dlqJson.headers).toMatchObject({
      'dlq-reason': 'unparseable',
      'dlq-origin-topic': T.requested,
      'dlq-consumer-group': 'pynomaly-training-worker',
      'dlq-attempts': '1',
    });
    expect(dlqJson.headers['dlq-error']).toMatch(/not JSON/);
    expect(Number(dlqJson.headers['dlq-origin-offset'])).toBeGreaterThanOrEqual(0);
    const dlqSchema = await eventually(
      'the invalid message in the DLQ',
      async () => tap.find(T.dlq, (m) => m.value === badSchema),
      30_000,
      250,
    );
    expect(dlqSchema.headers['dlq-reason']).toBe('invalid_schema');
    expect(dlqSchema.headers['dlq-error']).toMatch(/payload\.jobId/);
    expect(Number(dlqSchema.headers['dlq-origin-offset'])).toBe(Number(dlqJson.headers['dlq-origin-offset']) + 1);
  });

  it('bad input gets the right 4xx naming the problem, and nothing is written', async () => {
    const trained = await createDetector(gaussianRows(50, [0, 0, 0], [1, 1, 1], 5));
    const { job } = await waitForJob((await api('POST', `/api/v1/detectors/${trained}/train`)).body.id);
    expect(job.state).toBe('succeeded');
    const untrained = await createDetector(gaussianRows(50, [0, 0, 0], [1, 1, 1], 6));
    const counts = async () =>
      (
        await db.query(`SELECT (SELECT count(*) FROM datasets) d, (SELECT count(*) FROM detectors) t, (SELECT count(*) FROM jobs) j,
          (SELECT count(*) FROM models) m, (SELECT count(*) FROM outbox) o, (SELECT count(*) FROM alerts) a`)
      ).rows[0];
    const before = await counts();
    const raw = async (
      path: string,
      body: string | Uint8Array,
      contentType: string | undefined,
      headers: Record<string, string> = auth,
    ) => {
      const res = await fetch(`${e.apiUrl}${path}`, {
        method: 'POST',
        headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) },
        body,
      });
      return { status: res.status, body: (await res.json()) as { message: string } };
    };
    const huge = JSON.stringify({
      name: 'x',
      featureNames: ['a'],
      rows: Array.from({ length: 1_400_000 }, () => [123456.789]),
    });
    const cases: [string, () => Promise<{ status: number; body: { message: string } }>, number, RegExp][] = [
      ['malformed JSON', () => raw('/api/v1/datasets', '{"name":', 'application/json'), 400, /malformed JSON/],
      [
        'wrong types',
        () => api('POST', '/api/v1/datasets', { name: 1, featureNames: ['a'], rows: [[1]] }) as never,
        400,
        /body\.name/,
      ],
      [
        'missing fields',
        () => api('POST', '/api/v1/datasets', { name: 'x', featureNames: ['a'] }) as never,
        400,
        /body\.rows/,
      ],
      [
        'unknown dataset',
        () =>
          api('POST', '/api/v1/detectors', {
            name: 'x',
            datasetId: randomUUID(),
            algorithm: 'isolation_forest',
          }) as never,
        404,
        /dataset .* not found/,
      ],
      [
        'unknown detector',
        () => api('POST', `/api/v1/detectors/${randomUUID()}/train`) as never,
        404,
        /detector .* not found/,
      ],
      ['unknown job', async () => api('GET', `/api/v1/jobs/${randomUUID()}`) as never, 404, /job .* not found/],
      [
        'untrained detector',
        () => api('POST', `/api/v1/detectors/${untrained}/detect`, { rows: [[1, 2, 3]] }) as never,
        409,
        /no trained model/,
      ],
      [
        'feature-count mismatch',
        () => api('POST', `/api/v1/detectors/${trained}/detect`, { rows: [[1, 2]] }) as never,
        422,
        /trained on 3 features/,
      ],
      [
        'Infinity',
        () => raw(`/api/v1/detectors/${trained}/detect`, '{"rows":[[1,2,1e999]]}', 'application/json'),
        422,
        /rows\[0\]\[2\]: must be a finite number/,
      ],
      [
        'NaN in CSV',
        async () => {
          const fd = new FormData();
          fd.append('file', new Blob(['a,b\n1,NaN\n'], { type: 'text/csv' }), 'x.csv');
          const res = await fetch(`${e.apiUrl}/api/v1/datasets/upload`, { method: 'POST', headers: auth, body: fd });
          return { status: res.status, body: (await res.json()) as { message: string } };
        },
        422,
        /column b: "NaN" is not a finite number/,
      ],
      ['oversize body', () => postEarlyAnswer('/api/v1/datasets', huge), 413, /larger than the limit/],
      [
        'wrong content type',
        () => raw('/api/v1/datasets', 'a,b\n1,2\n', 'text/csv'),
        415,
        /text\/csv is not supported/,
      ],
      [
        'missing API key',
        () =>
          raw(
            '/api/v1/datasets',
            JSON.stringify({ name: 'x', featureNames: ['a'], rows: [[1]] }),
            'application/json',
            {},
          ),
        401,
        /missing API key/,
      ],
      [
        'wrong API key',
        () =>
          client.call(
            'POST',
            '/api/v1/datasets',
            { name: 'x', featureNames: ['a'], rows: [[1]] },
            {
              headers: { 'x-api-key': 'wrong' },
            },
          ) as never,
        401,
        /not valid/,
      ],
    ];
    const results = [];
    for (const [name, run, status, message] of cases) {
      const r = await run();
      results.push({ name, status: r.status, message: r.body.message });
      expect({ name, status: r.status, message: r.body.message }).toMatchObject({
        name,
        status,
        message: expect.stringMatching(message),
      });
    }
    console.table(results.map((r) => ({ ...r, message: r.message.slice(0, 90) })));
    expect(await counts()).toEqual(before);
  });

  it('a training request accepted while Kafka is down is delivered once the broker is back', async () => {
    const detectorId = await createDetector(gaussianRows(100, [0, 0, 0], [1, 1, 1], 7));
    await stopNamed('test', 'kafka');
    let jobId: string;
    try {
      const train = await api('POST', `/api/v1/detectors/${detectorId}/train`);
      expect(train.status).toBe(202);
      jobId = train.body.id;
      const pending = await db.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND value LIKE $1`, [
        `%${jobId}%`,
      ]);
      expect(pending.rows[0].n).toBe(1);
      // Ready means "can serve", and it does: the event waits in the outbox.
      expect((await fetch(`${e.apiUrl}/health/ready`)).status).toBe(200);
      // Still pending a while later: nothing pretends it was sent.
      await new Promise((r) => setTimeout(r, 3000));
      expect((await api('GET', `/api/v1/jobs/${jobId}`)).body.state).toBe('queued');
    } finally {
      await startNamed('test', 'kafka');
    }
    const { job } = await waitForJob(jobId!, 180_000);
    expect(job.state).toBe('succeeded');
    const sent = await db.query(`SELECT attempts, sent_at FROM outbox WHERE value LIKE $1 AND topic = $2`, [
      `%${jobId!}%`,
      T.requested,
    ]);
    expect(sent.rows).toHaveLength(1);
    expect(sent.rows[0].sent_at).not.toBeNull();
    console.log(`outbox row delivered after ${sent.rows[0].attempts} attempt(s)`);
  });
});
