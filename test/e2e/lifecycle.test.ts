// Data lifecycle on the live stack: DELETE with its cascade rules against the real schema, events
// in flight for a deleted detector dropped (not dead-lettered), and a 2-minute retention soak with
// retention shortened to seconds (the 10-minute version is `npm run soak`).
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../compose/local/stack.js';
import { ApiClient, type Job } from '../../testkit/api-client.js';
import { whileStopped } from '../support/faults.js';
import { logLines } from '../support/observe.js';
import { formatSoakTable, restartApiWith, runSoak, soakRetentionEnv } from '../../testkit/soak.js';
import { eventually, sleep } from '../support/stack-clients.js';
import { FEATURES, makeRows, seededRandom, trainDetector, waitForJob } from '../../testkit/traffic.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const WINDOW = Number(process.env.DRIFT_WINDOW_SIZE ?? 200);
const db = new pg.Pool({ connectionString: e.databaseUrl, max: 2 });
db.on('error', () => undefined);
const kafka = new Kafka({ clientId: 'lifecycle-test', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });

afterAll(async () => {
  await db.end();
});

const countWhere = async (table: string, column: string, id: string) =>
  Number((await db.query(`SELECT count(*) AS n FROM ${table} WHERE ${column} = $1`, [id])).rows[0].n);

/** DLQ messages keyed by one of `keys` (fresh group, from the beginning, for `ms`). */
async function dlqKeys(keys: Set<string>, ms: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `lifecycle-dlq-${randomUUID()}` });
  const found: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'pynomaly.dlq', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        if (keys.has(key)) found.push(key);
      },
    });
    await sleep(ms);
  } finally {
    await consumer.disconnect();
  }
  return found;
}

describe('DELETE on the live stack', () => {
  it('dataset in use → 409; detector with a job in flight → 409; cascade deletes everything of its detectors; late events are dropped, not dead-lettered', async () => {
    const d = await trainDetector(api, { name: `delete-${Date.now()}`, seed: 71, trainingRows: 500 });
    // Rows for its drift window and a report.
    for (let i = 0; i < 3; i++) {
      await api.expect(200, 'POST', `/api/v1/detectors/${d.detectorId}/detect`, {
        rows: makeRows(WINDOW / 2 + 10, seededRandom(80 + i)),
      });
    }
    await eventually(
      'a drift report',
      async () => ((await countWhere('drift_reports', 'detector_id', d.detectorId)) > 0 ? true : undefined),
      60_000,
    );

    const inUse = await api.call<{ code: string; message: string }>('DELETE', `/api/v1/datasets/${d.datasetId}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.code).toBe('in_use');
    expect(inUse.body.message).toContain(d.detectorId);

    // A training job in flight blocks the delete (a large enough dataset keeps it busy a while).
    const big = await api.expect<{ id: string }>(201, 'POST', '/api/v1/datasets', {
      name: 'delete-busy',
      featureNames: [...FEATURES],
      rows: makeRows(20_000, seededRandom(90)),
    });
    const busy = await api.expect<{ id: string }>(201, 'POST', '/api/v1/detectors', {
      name: 'delete-busy',
      datasetId: big.body.id,
      algorithm: 'isolation_forest',
      parameters: { nEstimators: 300, seed: 1 },
    });
    const job = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${busy.body.id}/train`, {});
    const blocked = await api.call<{ code: string; message: string }>('DELETE', `/api/v1/detectors/${busy.body.id}`);
    const stateAtDelete = (await api.expect<Job>(200, 'GET', `/api/v1/jobs/${job.body.id}`)).body.state;
    console.log(`delete while training: job ${stateAtDelete} after the DELETE answered ${blocked.status}`);
    if (stateAtDelete === 'queued' || stateAtDelete === 'running') {
      expect(blocked.status).toBe(409);
      expect(blocked.body.code).toBe('jobs_in_flight');
      expect(blocked.body.message).toContain(job.body.id);
    }
    await waitForJob(api, job.body.id, 240_000);
    expect((await api.call('DELETE', `/api/v1/datasets/${big.body.id}?cascade=true`)).status).toBe(204);

    // Events in flight: rows scored just before the delete reach the drift worker after it. The
    // worker is held meanwhile, or a fast pipeline windows the rows first and the cascade removes
    // them, and no late event is left to test.
    const [late, gone] = await whileStopped('drift-worker', async () => {
      const scored = await api.call('POST', `/api/v1/detectors/${d.detectorId}/detect`, {
        rows: makeRows(20, seededRandom(99)),
      });
      return [scored, await api.call('DELETE', `/api/v1/datasets/${d.datasetId}?cascade=true`)] as const;
    });
    expect(late.status).toBe(200);
    expect(gone.status).toBe(204);
    const left = Object.fromEntries(
      await Promise.all(
        (
          [
            ['detectors', 'id'],
            ['models', 'detector_id'],
            ['jobs', 'detector_id'],
            ['drift_windows', 'detector_id'],
            ['drift_window_rows', 'detector_id'],
            ['drift_reports', 'detector_id'],
          ] as const
        ).map(async ([t, c]) => [t, await countWhere(t, c, d.detectorId)] as const),
      ),
    );
    const datasetLeft = await countWhere('datasets', 'id', d.datasetId);
    const tombstone = await countWhere('deleted_resources', 'id', d.detectorId);
    expect((await api.call('GET', `/api/v1/detectors/${d.detectorId}`)).status).toBe(404);
    expect((await api.call('GET', `/api/v1/datasets/${d.datasetId}`)).status).toBe(404);
    const dropped = await eventually(
      'the drift worker to drop the late rows',
      async () =>
        logLines(e.logsDir('drift-worker')).some(
          (l) => l.msg === 'rows for a deleted detector or model dropped' && l.detectorId === d.detectorId,
        ) || undefined,
      60_000,
    ).catch(() => false);
    const inDlq = await dlqKeys(new Set([d.detectorId]), 8000);
    console.log(
      `cascade delete: rows left ${JSON.stringify(left)}, dataset ${datasetLeft}, tombstone ${tombstone}; late rows dropped by the drift worker: ${dropped}; DLQ messages for it: ${inDlq.length}`,
    );
    expect(Object.values(left).every((n) => n === 0)).toBe(true);
    expect(datasetLeft).toBe(0);
    expect(tombstone).toBe(1);
    expect(dropped).toBe(true);
    expect(inDlq).toEqual([]);
  });

  it('an older model version is deleted (204); the latest is refused (409); versions are not reused', async () => {
    const d = await trainDetector(api, { name: `models-${Date.now()}`, seed: 72, trainingRows: 500 });
    const again = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${d.detectorId}/train`, {});
    expect((await waitForJob(api, again.body.id, 120_000)).state).toBe('succeeded');
    const list = async () =>
      (
        await api.expect<{ items: { id: string; version: number }[] }>(
          200,
          'GET',
          `/api/v1/detectors/${d.detectorId}/models`,
        )
      ).body.items;
    const [v2, v1] = await list();
    expect([v2!.version, v1!.version]).toEqual([2, 1]);
    const latest = await api.call<{ code: string }>('DELETE', `/api/v1/models/${v2!.id}`);
    expect(latest.status).toBe(409);
    expect(latest.body.code).toBe('latest_model');
    expect((await api.call('DELETE', `/api/v1/models/${v1!.id}`)).status).toBe(204);
    expect((await api.call('DELETE', `/api/v1/models/${v1!.id}`)).status).toBe(404);
    expect((await list()).map((m) => m.version)).toEqual([2]);
    const third = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${d.detectorId}/train`, {});
    expect((await waitForJob(api, third.body.id, 120_000)).state).toBe('succeeded');
    expect((await list()).map((m) => m.version)).toEqual([3, 2]);
  });
});

describe('retention soak (2 minutes; `npm run soak` runs 10)', () => {
  it('with retention in seconds, table sizes stay flat under detect traffic and every due drift window is evaluated', async () => {
    const horizon = 40;
    const env = soakRetentionEnv(horizon);
    await restartApiWith(env);
    try {
      const r = await runSoak({
        api,
        db,
        seconds: 120,
        sampleEverySeconds: 15,
        horizonSeconds: horizon,
        windowSize: WINDOW,
        log: (l) => console.log(l),
      });
      console.log(
        [
          `retention soak: ${Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
          formatSoakTable(r.samples),
          `  after the warm-up (t=${r.samples[r.warmupSample]?.atSeconds}s): ${r.growth.map((g) => `${g.table} largest ${g.atWarmup} during warm-up → largest ${g.max} after (allowed ${g.allowed})`).join('; ')}`,
          `  detectors: ${r.detectors.map((d) => `${d.detectorId.slice(0, 8)} accepted ${d.accepted} = ${d.windowsCompleted}×${WINDOW} evaluated + ${d.waiting} waiting (reports kept ${d.reportsKept})`).join('; ')}`,
          `  detect statuses: ${r.traffic.map((t) => JSON.stringify(t.statuses)).join(' ')}; a retention run completed during the soak: ${r.retentionRan}`,
        ].join('\n'),
      );
      expect(r.retentionRan).toBe(true);
      expect(r.flat).toBe(true);
      expect(r.complete).toBe(true);
      for (const t of r.traffic) expect(t.requestsAccepted).toBe(t.requestsSent);
    } finally {
      await restartApiWith(Object.fromEntries(Object.keys(env).map((k) => [k, undefined])));
    }
  });
});
