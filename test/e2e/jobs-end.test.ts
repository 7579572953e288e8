// Training is bounded and jobs always end, on the live test stack:
// 1. the schema's largest parameters are refused up front (422 naming the budget), and the largest
//    training within the budget completes while the worker keeps its consumer-group membership and
//    answers /metrics and /health/* throughout (polled during the training; timings printed);
// 2. a job whose training takes its worker process down every time (SIGKILL while its attempt
//    runs, as the kernel's OOM killer or a lost node would) ends failed after TRAINING_MAX_ATTEMPTS
//    with its message in the DLQ, and the job queued behind it on the same partition succeeds;
// 3. a running job is cancelled: 202, the worker stops its thread and keeps no model; 409 after;
// 4. a worker stopped gracefully (SIGTERM) during a training stops the thread at once and puts the
//    job back with its attempt given back; the restarted worker trains it.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_GROUPS } from '@pynomaly/shared';
import { endpoints, startNamed, stopNamed } from '../../compose/local/stack.js';
import { ApiClient, type Job } from '../../testkit/api-client.js';
import { killAndWait } from '../support/faults.js';
import { exposedValue, logLines } from '../support/observe.js';
import { eventually, sleep } from '../support/stack-clients.js';
import { FEATURES, makeRows, seededRandom, waitForJob } from '../../testkit/traffic.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const kafka = new Kafka({ clientId: 'jobs-end-test', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const db = new pg.Pool({ connectionString: e.databaseUrl, max: 2 });
db.on('error', () => undefined);
const workerBase = e.trainingWorkerMetrics.replace(/\/metrics$/, '');
const MAX_ATTEMPTS = Number(process.env.TRAINING_MAX_ATTEMPTS ?? 3);
/** The schema's row limit (services/api/src/schemas.ts MAX_DATASET_ROWS). */
const MAX_ROWS = 200_000;

let datasetId = '';

async function detector(name: string, parameters: Record<string, unknown>) {
  return api.call<{ id: string; message?: string; code?: string }>('POST', '/api/v1/detectors', {
    name,
    datasetId,
    algorithm: 'isolation_forest',
    parameters,
  });
}

async function jobRow(id: string) {
  const { rows } = await db.query<{ state: string; attempts: number; reason: string | null }>(
    'SELECT state, attempts, reason FROM jobs WHERE id = $1',
    [id],
  );
  return rows[0];
}

async function modelsOf(jobId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM models WHERE job_id = $1', [jobId]);
  return Number(rows[0]!.n);
}

async function dlqMessagesFor(key: string, timeoutMs: number) {
  const consumer = kafka.consumer({ groupId: `jobs-end-dlq-${randomUUID()}` });
  const found: { headers: Record<string, string>; value: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'pynomaly.dlq', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== key) return;
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? ({} as IHeaders)).map(([k, v]) => [k, String(v)]),
        );
        found.push({ headers, value: message.value?.toString() ?? '' });
      },
    });
    await eventually('the DLQ copy', async () => (found.length > 0 ? true : undefined), timeoutMs).catch(() => {});
  } finally {
    await consumer.disconnect();
  }
  return found;
}

interface ProbeStats {
  n: number;
  failures: number;
  maxMs: number;
  p50Ms: number;
}
const stats = (ms: number[], failures: number): ProbeStats => {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    n: ms.length,
    failures,
    maxMs: Math.round(sorted.at(-1) ?? 0),
    p50Ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
  };
};

beforeAll(async () => {
  await admin.connect();
  // The largest dataset the schema allows; 2 decimals keep the JSON body under its byte limit.
  const rows = makeRows(MAX_ROWS, seededRandom(11)).map((r) => r.map((v) => Math.round(v * 100) / 100));
  const started = performance.now();
  const ds = await api.expect<{ id: string }>(201, 'POST', '/api/v1/datasets', {
    name: 'jobs-end-max',
    featureNames: [...FEATURES],
    rows,
  });
  datasetId = ds.body.id;
  console.log(
    `dataset: ${MAX_ROWS} rows × ${FEATURES.length} features uploaded in ${Math.round(performance.now() - started)} ms`,
  );
});

afterAll(async () => {
  await admin.disconnect().catch(() => {});
  await db.end();
});

describe('training is bounded and jobs always end', () => {
  it("refuses the schema's largest parameters up front; the largest within the budget trains while the worker keeps its membership and answers its probes", async () => {
    const t0 = performance.now();
    const refused = await detector('max-params', { nEstimators: 1000, maxSamples: 100_000 });
    const refusedMs = Math.round(performance.now() - t0);
    console.log(
      `schema maximum (1000 trees × 100000 samples, ${MAX_ROWS} rows): ${refused.status} in ${refusedMs} ms: ${refused.body.message}`,
    );
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('training_budget_exceeded');
    expect(refused.body.message).toMatch(/TRAINING_MAX_(MODEL_NODES|WORK)/);

    const within = await detector('max-within-budget', { nEstimators: 1000 });
    expect(within.status).toBe(201);
    const groupBefore = await admin.describeGroups([CONSUMER_GROUPS.trainingWorker]);
    const membersBefore = groupBefore.groups[0]!.members.map((m) => m.memberId).sort();
    expect(membersBefore.length).toBeGreaterThan(0);

    const job = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${within.body.id}/train`, {});
    const probes: Record<string, { ms: number[]; failures: number }> = {
      '/metrics': { ms: [], failures: 0 },
      '/health/live': { ms: [], failures: 0 },
      '/health/ready': { ms: [], failures: 0 },
    };
    const membership: { members: number; same: boolean; state: string }[] = [];
    let sawRunning = false;
    let finished: Job | undefined;
    const trainStart = performance.now();
    const deadline = Date.now() + 600_000;
    while (!finished && Date.now() < deadline) {
      for (const path of Object.keys(probes)) {
        const p0 = performance.now();
        // /metrics takes the scrape token (Prometheus sends it); the health endpoints are open.
        const headers: Record<string, string> = path === '/metrics' ? { authorization: `Bearer ${e.scrapeToken}` } : {};
        const ok = await fetch(`${workerBase}${path}`, { headers, signal: AbortSignal.timeout(10_000) })
          .then((r) => r.ok)
          .catch(() => false);
        probes[path]!.ms.push(performance.now() - p0);
        if (!ok) probes[path]!.failures += 1;
      }
      const g = (await admin.describeGroups([CONSUMER_GROUPS.trainingWorker])).groups[0]!;
      const ids = g.members.map((m) => m.memberId).sort();
      membership.push({
        members: ids.length,
        same: JSON.stringify(ids) === JSON.stringify(membersBefore),
        state: g.state,
      });
      const j = (await api.expect<Job>(200, 'GET', `/api/v1/jobs/${job.body.id}`)).body;
      if (j.state === 'running') sawRunning = true;
      if (j.state !== 'queued' && j.state !== 'running') finished = j;
      else await sleep(500);
    }
    const trainMs = Math.round(performance.now() - trainStart);
    const summary = Object.fromEntries(Object.entries(probes).map(([k, v]) => [k, stats(v.ms, v.failures)]));
    console.log(
      `max within budget (1000 trees × 256 samples, ${MAX_ROWS} rows): job ${finished?.state} after ${trainMs} ms (attempts ${finished?.attempts}); ` +
        `probes during training: ${JSON.stringify(summary)}; group samples ${membership.length}, ` +
        `all with the same member: ${membership.every((m) => m.same)}, states ${[...new Set(membership.map((m) => m.state))].join(',')}`,
    );
    expect(finished?.state).toBe('succeeded');
    expect(finished?.attempts).toBe(1);
    expect(sawRunning).toBe(true);
    for (const [path, s] of Object.entries(summary)) expect(s.failures, `${path} failures`).toBe(0);
    // The worker never left the group: the same member id before, during and after the training.
    expect(membership.every((m) => m.members > 0 && m.same)).toBe(true);
  });

  it('a job whose training takes its worker down every time ends failed after the attempts, in the DLQ; the next job on its partition succeeds', async () => {
    const d = await detector('crash-every-time', { nEstimators: 400 });
    expect(d.status).toBe(201);
    const doomed = (await api.expect<Job>(202, 'POST', `/api/v1/detectors/${d.body.id}/train`, {})).body;
    // Same detector, same key, same partition: it waits behind the doomed job.
    const behind = (await api.expect<Job>(202, 'POST', `/api/v1/detectors/${d.body.id}/train`, {})).body;
    const kills: string[] = [];
    const t0 = performance.now();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await eventually(
        `job ${doomed.id} to run attempt ${attempt}`,
        async () => {
          const r = await jobRow(doomed.id);
          return r?.state === 'running' && r.attempts === attempt ? r : undefined;
        },
        300_000,
        100,
      );
      try {
        await killAndWait('training-worker');
      } finally {
        await startNamed('test', 'training-worker');
      }
      kills.push(`attempt ${attempt} killed at ${Math.round((performance.now() - t0) / 1000)} s`);
    }
    const failed = await waitForJob(api, doomed.id, 300_000);
    const next = await waitForJob(api, behind.id, 300_000);
    const dlq = await dlqMessagesFor(d.body.id, 60_000);
    const copy = dlq.find((m) => (JSON.parse(m.value) as { payload: { jobId: string } }).payload.jobId === doomed.id);
    console.log(
      `crash every time: ${kills.join('; ')}; job ${failed.state} after ${failed.attempts} attempts at ${Math.round((performance.now() - t0) / 1000)} s: "${failed.reason}"; ` +
        `DLQ copy: ${copy ? `dlq-reason=${copy.headers['dlq-reason']}` : 'none'}; the job behind it: ${next.state} (attempts ${next.attempts})`,
    );
    expect(failed.state).toBe('failed');
    expect(failed.attempts).toBe(MAX_ATTEMPTS);
    expect(failed.reason).toMatch(new RegExp(`^gave up after ${MAX_ATTEMPTS} attempts`));
    expect(copy?.headers['dlq-reason']).toBe('attempts_exhausted');
    expect(next.state).toBe('succeeded');
    expect(await modelsOf(doomed.id)).toBe(0);
  });

  it('cancels a running job: 202, the worker stops the training and keeps no model; 409 after, 404 when unknown', async () => {
    const d = await detector('cancel-me', { nEstimators: 1000 });
    expect(d.status).toBe(201);
    const job = (await api.expect<Job>(202, 'POST', `/api/v1/detectors/${d.body.id}/train`, {})).body;
    // Running with its attempt started: the thread is computing.
    await eventually(
      `job ${job.id} to start training`,
      async () => {
        const r = await jobRow(job.id);
        return r?.state === 'running' && r.attempts === 1 ? r : undefined;
      },
      300_000,
      100,
    );
    await sleep(2000);
    const t0 = performance.now();
    const cancelled = await api.call<Job>('POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.state).toBe('cancelled');
    const stopped = await eventually(
      'the worker to stop the cancelled training',
      async () =>
        logLines(e.logsDir('training-worker')).find(
          (l) => l.jobId === job.id && String(l.msg).startsWith('training stopped: the job is no longer running'),
        ),
      120_000,
      250,
    );
    const stopMs = Math.round(performance.now() - t0);
    const inProgress = await eventually(
      'no training in progress',
      async () =>
        (await exposedValue(e.trainingWorkerMetrics, 'pynomaly_training_in_progress')) === 0 ? 0 : undefined,
      30_000,
    );
    const after = await jobRow(job.id);
    const models = await modelsOf(job.id);
    const again = await api.call<{ code: string }>('POST', `/api/v1/jobs/${job.id}/cancel`);
    const unknown = await api.call('POST', `/api/v1/jobs/${randomUUID()}/cancel`);
    console.log(
      `cancel: 202 ${cancelled.body.state}; worker stopped the thread ${stopMs} ms later ("${String(stopped.msg)}"); in progress ${inProgress}; job ${after?.state}; models ${models}; cancel again ${again.status}; unknown ${unknown.status}`,
    );
    expect(after?.state).toBe('cancelled');
    expect(models).toBe(0);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('job_finished');
    expect(unknown.status).toBe(404);
  });

  it('a graceful stop during training stops the thread, requeues the job with its attempt given back, and the job completes after the restart', async () => {
    const d = await detector('stop-during-training', { nEstimators: 1000 });
    expect(d.status).toBe(201);
    const job = (await api.expect<Job>(202, 'POST', `/api/v1/detectors/${d.body.id}/train`, {})).body;
    await eventually(
      `job ${job.id} to start training`,
      async () => {
        const r = await jobRow(job.id);
        return r?.state === 'running' && r.attempts === 1 ? r : undefined;
      },
      300_000,
      100,
    );
    const t0 = performance.now();
    let whileStopped: Awaited<ReturnType<typeof jobRow>>;
    try {
      await stopNamed('test', 'training-worker');
      whileStopped = await jobRow(job.id);
    } finally {
      await startNamed('test', 'training-worker');
    }
    const stopMs = Math.round(performance.now() - t0);
    const requeuedLog = logLines(e.logsDir('training-worker')).find(
      (l) => l.jobId === job.id && String(l.msg).startsWith('training stopped by shutdown'),
    );
    const done = await waitForJob(api, job.id, 600_000);
    console.log(
      `graceful stop: worker stopped and restarted in ${stopMs} ms; job while stopped: ${whileStopped?.state} (attempts ${whileStopped?.attempts}); log: "${String(requeuedLog?.msg)}"; then ${done.state} after ${done.attempts} attempt(s)`,
    );
    expect(whileStopped?.state).toBe('queued');
    expect(whileStopped?.attempts).toBe(0);
    expect(requeuedLog).toBeDefined();
    expect(done.state).toBe('succeeded');
    expect(done.attempts).toBe(1);
    expect(await modelsOf(job.id)).toBe(1);
  });
});
