// The operator's tools on the live test stack (real Kafka, Postgres, workers, Collector, Jaeger):
// 1. jobs listed newest first, filtered by detector, state and creation time, paged with cursors;
// 2. a job that failed (the training worker's budget was lowered below what it needs) is retried
//    once the budget is back and trains to success, with its attempts reset;
// 3. a poison message (a training.requested published before its job row existed) is dead-lettered,
//    listed and inspected (original bytes, headers, reason), replayed once its cause is fixed, and
//    processed exactly once: one model, one attempt, one outbox copy, a second replay refused; the
//    replay is traced (the worker's processing joins the replaying request's trace) and counted.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHeaders, makeEvent, topicNames } from '@pynomaly/shared';
import { endpoints, restartComponent } from '../../compose/local/stack.js';
import { ApiClient, newTraceId, type Job } from '../../testkit/api-client.js';
import { FEATURES, makeRows, seededRandom, uploadDataset, waitForJob } from '../../testkit/traffic.js';
import { exposedValue, traceSpans } from '../support/observe.js';
import { eventually } from '../support/stack-clients.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const topics = topicNames('pynomaly');
const db = new pg.Pool({ connectionString: e.databaseUrl, max: 2 });
db.on('error', () => undefined);
const kafka = new Kafka({ clientId: 'operator-test', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer();
const collectorMetrics = `${e.collector.prometheus}/metrics`;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface DeadLetterSummary {
  id: string;
  state: string;
  originTopic: string;
  consumerGroup: string;
  key: string | null;
  reason: string;
  error: string;
  eventType: string | null;
}
interface DeadLetterDetail extends DeadLetterSummary {
  headers: Record<string, string>;
  value: string | null;
  valueBase64: string;
}

let datasetId = '';

async function newDetector(name: string): Promise<string> {
  const d = await api.expect<{ id: string }>(201, 'POST', '/api/v1/detectors', {
    name,
    datasetId,
    algorithm: 'isolation_forest',
    parameters: { nEstimators: 50, seed: 3 },
  });
  return d.body.id;
}

const train = async (detectorId: string) =>
  (await api.expect<Job>(202, 'POST', `/api/v1/detectors/${detectorId}/train`, {})).body;

async function modelsOf(jobId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM models WHERE job_id = $1', [jobId]);
  return Number(rows[0]!.n);
}

async function allPages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const path: string = `/api/v1/jobs?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Page<Job> = await api.ok<Page<Job>>('GET', path);
    ids.push(...page.items.map((j) => j.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { ids, pages };
}

beforeAll(async () => {
  await producer.connect();
  const ds = await uploadDataset(api, {
    name: 'operator',
    featureNames: [...FEATURES],
    rows: makeRows(500, seededRandom(5)),
  });
  datasetId = ds.body.id;
});

afterAll(async () => {
  await producer.disconnect().catch(() => undefined);
  await db.end();
});

describe('operator tools', () => {
  it('lists jobs newest first, filtered by detector, state and creation time, page by page', async () => {
    const detectorId = await newDetector('operator-list');
    const created: Job[] = [];
    for (let i = 0; i < 3; i++) created.push(await train(detectorId));
    for (const j of created) expect((await waitForJob(api, j.id, 300_000)).state).toBe('succeeded');
    const newestFirst = [...created].reverse().map((j) => j.id);

    const paged = await allPages(`detectorId=${detectorId}`, 2);
    expect(paged).toEqual({ ids: newestFirst, pages: 2 });
    expect((await allPages(`detectorId=${detectorId}&state=succeeded`, 50)).ids).toEqual(newestFirst);
    expect((await allPages(`detectorId=${detectorId}&state=failed`, 50)).ids).toEqual([]);
    const second = await api.ok<Job & { createdAt: string }>('GET', `/api/v1/jobs/${created[1]!.id}`);
    const from = encodeURIComponent(second.createdAt);
    expect((await allPages(`detectorId=${detectorId}&createdFrom=${from}`, 50)).ids).toEqual(newestFirst.slice(0, 2));
    expect((await allPages(`detectorId=${detectorId}&createdTo=${from}`, 50)).ids).toEqual([created[0]!.id]);
    // Every job of the stack, all pages: each of ours appears once.
    const everything = await allPages('state=succeeded', 7);
    expect(everything.ids.filter((id) => newestFirst.includes(id))).toEqual(newestFirst);
    expect(new Set(everything.ids).size).toBe(everything.ids.length);

    const bad = await api.call<{ message: string }>('GET', '/api/v1/jobs?cursor=garbage');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('cursor');
    const readOnly = await fetch(`${e.apiUrl}/api/v1/jobs`, { headers: { 'x-api-key': 'no-such-key-0000000000' } });
    expect(readOnly.status).toBe(401);
  });

  it('retries a failed job once its cause is fixed: it trains to success with its attempts reset', async () => {
    const detectorId = await newDetector('operator-retry');
    // The cause: the training worker's budget lowered below what this training needs.
    process.env.TRAINING_MAX_WORK = '1';
    let job: Job;
    try {
      await restartComponent('test', 'training-worker');
      job = await waitForJob(api, (await train(detectorId)).id, 300_000);
    } finally {
      delete process.env.TRAINING_MAX_WORK;
      await restartComponent('test', 'training-worker');
    }
    expect(job.state).toBe('failed');
    expect(job.reason).toContain('TRAINING_MAX_WORK');
    const listed = await api.ok<Page<Job>>('GET', `/api/v1/jobs?state=failed&detectorId=${detectorId}`);
    expect(listed.items.map((j) => j.id)).toEqual([job.id]);

    const retried = await api.expect<Job>(202, 'POST', `/api/v1/jobs/${job.id}/retry`, {});
    expect(retried.body).toMatchObject({ id: job.id, state: 'queued', attempts: 0, reason: null });
    const done = await waitForJob(api, job.id, 300_000);
    console.log(`retried job ${job.id}: failed with "${job.reason?.slice(0, 80)}…", then ${done.state}`);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1, reason: null });
    expect(await modelsOf(job.id)).toBe(1);
    const again = await api.call<{ code: string }>('POST', `/api/v1/jobs/${job.id}/retry`, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('job_not_retryable');
  });

  it('lists, inspects and replays a poison message after its cause is fixed; it is processed exactly once', async () => {
    const detectorId = await newDetector('operator-poison');
    const jobId = randomUUID();
    const event = makeEvent('training.requested', detectorId, {
      jobId,
      datasetId,
      algorithm: 'isolation_forest',
      parameters: { nEstimators: 50, seed: 3 },
    });
    const value = JSON.stringify(event);
    // Published before its job row exists (a producer that published before it committed).
    await producer.send({
      topic: topics['training.requested'],
      messages: [{ key: detectorId, value, headers: eventHeaders(event) }],
    });

    const letter = await eventually(
      'the dead letter to be listed',
      async () => {
        const page = await api.ok<Page<DeadLetterSummary>>(
          'GET',
          `/api/v1/dead-letters?state=pending&topic=${topics['training.requested']}`,
        );
        return page.items.find((d) => d.key === detectorId);
      },
      120_000,
      500,
    );
    expect(letter).toMatchObject({
      state: 'pending',
      consumerGroup: 'pynomaly-training-worker',
      reason: 'invalid_schema',
      eventType: 'training.requested',
    });
    expect(letter.error).toContain(`job ${jobId} does not exist`);

    const shown = await api.ok<DeadLetterDetail>('GET', `/api/v1/dead-letters/${letter.id}`);
    expect(shown.value).toBe(value);
    expect(Buffer.from(shown.valueBase64, 'base64').toString('utf8')).toBe(value);
    expect(shown.headers['event-type']).toBe('training.requested');
    expect(Object.keys(shown.headers).filter((k) => k.startsWith('dlq-'))).toEqual([]);

    // The cause fixed: the job row the message stands for now exists.
    await db.query(`INSERT INTO jobs (id, type, detector_id, state) VALUES ($1, 'training', $2, 'queued')`, [
      jobId,
      detectorId,
    ]);
    const label = new RegExp(
      `action="replayed".*topic="${topics['training.requested']}"|topic="${topics['training.requested']}".*action="replayed"`,
    );
    const countedBefore = await exposedValue(collectorMetrics, 'pynomaly_dead_letters_actions_total', label);
    const traceId = newTraceId();
    const replay = await api.expect<DeadLetterSummary>(
      202,
      'POST',
      `/api/v1/dead-letters/${letter.id}/replay`,
      {},
      {
        traceId,
      },
    );
    expect(replay.body.state).toBe('replayed');
    const twice = await api.call<{ code: string }>('POST', `/api/v1/dead-letters/${letter.id}/replay`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('dead_letter_resolved');

    const done = await waitForJob(api, jobId, 300_000);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(await modelsOf(jobId)).toBe(1);
    const copies = await db.query(
      `SELECT count(*)::int AS n FROM outbox WHERE headers->>'replay-of-dead-letter' = $1`,
      [letter.id],
    );
    expect(copies.rows[0].n).toBe(1);
    expect((await api.ok<DeadLetterDetail>('GET', `/api/v1/dead-letters/${letter.id}`)).state).toBe('replayed');

    const counted = await eventually(
      'the replay to be counted',
      async () => {
        const v = await exposedValue(collectorMetrics, 'pynomaly_dead_letters_actions_total', label);
        return v > countedBefore ? v : undefined;
      },
      60_000,
      1000,
    );
    expect(counted - countedBefore).toBe(1);

    const spans = await eventually(
      'the replay trace to reach the worker',
      async () => {
        const found = await traceSpans(e.traceBackend.query, traceId).catch(() => []);
        const names = found.map((s) => `${s.service}:${s.name}`);
        return names.some((n) => n.endsWith(':dead-letter replay')) &&
          names.some((n) => /training-worker:.*training\.requested process/.test(n))
          ? names
          : undefined;
      },
      120_000,
      2000,
    );
    const ours = [...new Set(spans)].filter((n) => /dead-letter|training\.requested (publish|process)|train$/.test(n));
    console.log(`poison message ${letter.id}: replayed once; trace ${traceId}: ${ours.join(', ')}`);
  });
});
