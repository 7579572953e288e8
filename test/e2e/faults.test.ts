// Faults on the live test stack, each under traffic, each printing what was sent and what
// arrived. The suite shares one stack: every test puts back what it stopped before it ends
// (also when it fails), so the next one starts from a healthy stack.
//
// The alert chain (drifted rows → DataDriftDetected → Alertmanager → API webhook → resolved) is
// minutes of configured waiting (rule `for`, group_wait, group_interval). It runs in the
// background from beforeAll while the faults that leave its path alone (DLQ, trace backend,
// Collector, training worker, a second drift worker) run — alerting must not depend on tracing —
// and is awaited before the Kafka and Postgres restarts, which would interrupt the API's scrape.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AssignerProtocol, Kafka, logLevel, Partitioners, type IHeaders } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, serviceEnv } from '../../compose/local/components.js';
import { projectRoot } from '../../compose/local/paths.js';
import { readPid } from '../../compose/local/processes.js';
import { endpoints, startNamed, stopNamed } from '../../compose/local/stack.js';
import { alertChain, describeChain, type AlertChain } from '../support/alert-chain.js';
import { ApiClient, type Job } from '../../testkit/api-client.js';
import { killAndWait, runningPid } from '../support/faults.js';
import { exposedValue, logLines, promAlerts, spansOf } from '../support/observe.js';
import { eventually, promQuery, sleep } from '../support/stack-clients.js';
import {
  describeCounts,
  makeRows,
  seededRandom,
  streamRows,
  trainDetector,
  uploadDataset,
  waitForJob,
  FEATURES,
  type TrafficCounts,
  type TrainedDetector,
} from '../../testkit/traffic.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const WINDOW = Number(process.env.DRIFT_WINDOW_SIZE ?? 200);
const kafka = new Kafka({ clientId: 'faults-test', brokers: e.kafkaBrokers, logLevel: logLevel.NOTHING });
const db = new pg.Pool({ connectionString: e.databaseUrl, max: 2 });

/** Rows of a detector that reached the drift worker: evaluated in reports or waiting in its window. */
async function rowsInDriftOf(detectorId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT (SELECT coalesce(sum(window_rows), 0) FROM drift_reports WHERE detector_id = $1)
          + (SELECT count(*) FROM drift_window_rows WHERE detector_id = $1) AS n`,
    [detectorId],
  );
  return Number(rows[0]!.n);
}
// Postgres is restarted below: a dropped idle connection must not crash the test process.
db.on('error', () => undefined);

const collectorMetrics = `${e.collector.telemetry}/metrics`;

/** Job states straight from the database: polling the API for dozens of jobs would hit its rate limit. */
async function waitForJobsDb(ids: string[], timeoutMs: number) {
  const read = async () =>
    (
      await db.query<{ id: string; state: string; attempts: number }>(
        'SELECT id, state, attempts FROM jobs WHERE id = ANY($1)',
        [ids],
      )
    ).rows;
  return eventually(
    `${ids.length} jobs to finish`,
    async () => {
      const rows = await read();
      return rows.length === ids.length && rows.every((r) => r.state === 'succeeded' || r.state === 'failed')
        ? rows
        : undefined;
    },
    timeoutMs,
    1000,
  ).catch(read);
}
const TRACES_EXPORTER = /exporter="otlp_grpc\/traces"/;

let detector: TrainedDetector;
let chain: Promise<AlertChain>;
const chainLog: string[] = [];

beforeAll(async () => {
  const alerting = await trainDetector(api, { name: `alert-chain-${Date.now()}`, seed: 3 });
  chain = alertChain(api, e, alerting, (l) => chainLog.push(l));
  chain.catch(() => undefined); // awaited, and its failure reported, by its test
  detector = await trainDetector(api, { name: `faults-${Date.now()}`, seed: 21 });
}, 120_000);

afterAll(async () => {
  await db.end();
});

/** Traffic whose accepted requests' trace ids are collected, with a status tally. */
async function tracedTraffic(
  seconds: number,
  rate = 20,
  signal?: AbortSignal,
): Promise<{ counts: TrafficCounts; traceIds: string[] }> {
  const traceIds: string[] = [];
  const counts = await streamRows(api, detector.detectorId, {
    rate,
    seconds,
    batchSize: 5,
    seed: Math.floor(Math.random() * 1e6),
    signal,
    onResponse: (r) => {
      if (r.status === 200) traceIds.push(r.traceId);
    },
  });
  return { counts, traceIds };
}

/** Traces (by id) holding both the API's server span and the drift worker's consumer span. */
async function completeTraces(traceIds: string[]): Promise<{ complete: number; spans: number }> {
  let complete = 0;
  let spans = 0;
  for (const list of (await spansOf(e.traceBackend.query, traceIds)).values()) {
    spans += new Set(list.map((s) => s.spanId)).size;
    const apiServer = list.some((s) => s.service === 'pynomaly-api' && s.kind === 2);
    const consumed = list.some((s) => s.service === 'pynomaly-drift-worker' && s.kind === 5);
    if (apiServer && consumed) complete += 1;
  }
  return { complete, spans };
}

const has5xx = (c: TrafficCounts) => Object.keys(c.statuses).some((s) => Number(s) >= 500 || Number(s) === 0);

async function readDlq(keys: Set<string>, timeoutMs: number) {
  const consumer = kafka.consumer({ groupId: `faults-dlq-${randomUUID()}` });
  const found = new Map<string, { headers: Record<string, string>; value: Buffer }>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'pynomaly.dlq', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        if (!keys.has(key)) return;
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? ({} as IHeaders)).map(([k, v]) => [k, String(v)]),
        );
        found.set(key, { headers, value: message.value ?? Buffer.alloc(0) });
      },
    });
    await eventually(
      `${keys.size} messages in the DLQ`,
      async () => (found.size === keys.size ? true : undefined),
      timeoutMs,
    ).catch(() => undefined);
  } finally {
    await consumer.disconnect();
  }
  return found;
}

/** payload.jobId of every message on a topic (fresh group, from the beginning). */
async function jobIdsOnTopic(topic: string, expectAtLeast: number, timeoutMs = 30_000): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `faults-read-${randomUUID()}` });
  const ids: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        try {
          const ev = JSON.parse(message.value?.toString() ?? '') as { payload?: { jobId?: string } };
          if (ev.payload?.jobId) ids.push(ev.payload.jobId);
        } catch {
          // Poison messages on the topic are not events.
        }
      },
    });
    await eventually(
      `${expectAtLeast} events on ${topic}`,
      async () => (ids.length >= expectAtLeast ? true : undefined),
      timeoutMs,
    )
      // Reading what is there is the point; the caller compares the counts.
      .catch(() => undefined);
    await sleep(2000);
  } finally {
    await consumer.disconnect();
  }
  return ids;
}

async function ready(): Promise<{ status: number; postgres?: string; kafka?: string }> {
  try {
    const res = await fetch(`${e.apiUrl}/health/ready`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { checks: Record<string, { status: string }> };
    return { status: res.status, postgres: body.checks.postgres?.status, kafka: body.checks.kafka?.status };
  } catch {
    return { status: 0 };
  }
}

async function submitTraining(detectorIds: string[], signal: AbortSignal, intervalMs = 700) {
  const accepted: { jobId: string; detectorId: string }[] = [];
  const statuses: Record<number, number> = {};
  for (let i = 0; !signal.aborted; i++) {
    const detectorId = detectorIds[i % detectorIds.length]!;
    const res = await api.call<Job>('POST', `/api/v1/detectors/${detectorId}/train`, {}).catch(() => undefined);
    const status = res?.status ?? 0;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 202) accepted.push({ jobId: res!.body.id, detectorId });
    await sleep(intervalMs);
  }
  return { accepted, statuses };
}

/** Pids of the three services, from the runner's pid files. */
function servicePids(): Record<string, number | undefined> {
  const dir = join(context('test').varDir, 'pids');
  return Object.fromEntries(
    ['api', 'training-worker', 'drift-worker'].map((name) => [name, readPid(join(dir, `${name}.pid`))?.pid]),
  );
}

/** A multipart CSV upload (the path a user's file takes). */
async function uploadCsv(name: string, rows: number[][]): Promise<number> {
  const csv = [FEATURES.join(','), ...rows.map((r) => r.join(','))].join('\n');
  const fd = new FormData();
  fd.append('file', new Blob([csv], { type: 'text/csv' }), `${name}.csv`);
  try {
    const res = await fetch(`${e.apiUrl}/api/v1/datasets/upload?name=${name}`, {
      method: 'POST',
      headers: { 'x-api-key': e.apiKey },
      body: fd,
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

const tally = (statuses: Record<number, number>) =>
  Object.entries(statuses)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');

describe('faults under traffic', () => {
  const poisonKeys = new Map<string, { topic: string; reason: string; value: Buffer }>();
  /** Sum of the DLQ's end offsets once the poison messages are in it. */
  let dlqEndAfterPoison = 0;
  /**
   * DeadLetterQueueGrowing watched from the moment the poison is in the DLQ. The alert fires about
   * two minutes after a message arrives (kafkametrics 15 s, scrape 15 s, `for: 1m`) and resolves
   * once the arrival leaves its 15-minute window; the faults in between take longer than that on a
   * loaded machine, so asking "is it firing?" only at the end tested the suite's speed, not the alert.
   */
  let dlqAlert: Promise<{ alert: Awaited<ReturnType<typeof promAlerts>>[number]; afterMs: number }> | undefined;

  it('poison messages (not JSON, wrong schema version, oversized) land in the DLQ with their reason; the pipeline keeps going', async () => {
    const envelope = (version: number, padding = '') => ({
      id: randomUUID(),
      type: 'training.requested',
      version,
      occurredAt: new Date().toISOString(),
      detectorId: detector.detectorId,
      payload: {
        jobId: randomUUID(),
        datasetId: detector.datasetId,
        algorithm: 'isolation_forest',
        parameters: padding ? { padding } : {},
      },
    });
    const cases: { topic: string; reason: string; value: Buffer }[] = [
      { topic: 'pynomaly.training.requested', reason: 'unparseable', value: Buffer.from('{"not": json') },
      {
        topic: 'pynomaly.training.requested',
        reason: 'unsupported_version',
        value: Buffer.from(JSON.stringify(envelope(2))),
      },
      // A real training.requested event is a few hundred bytes; this one is 900 KB (under the
      // broker's 1 MiB message limit, so it does reach the worker).
      {
        topic: 'pynomaly.training.requested',
        reason: 'oversized',
        value: Buffer.from(JSON.stringify(envelope(1, 'x'.repeat(900 * 1024)))),
      },
      { topic: 'pynomaly.detections.scored', reason: 'unparseable', value: Buffer.from('\u0000\u0001binary') },
    ];
    // The alert sees growth of the DLQ's end offsets: Prometheus must hold a sample from before the
    // poison, or the series starts at its final value and no increase is ever seen (on a stack that
    // has just started, the poison can beat the first kafkametrics scrape of the topic).
    await eventually(
      'a sample of the DLQ end offsets in Prometheus before the poison',
      async () =>
        (await promQuery(e.prometheusUrl, 'kafka_partition_current_offset_ratio{topic="pynomaly.dlq"}')).length > 0 ||
        undefined,
      180_000,
      3000,
    );
    const producer = kafka.producer();
    await producer.connect();
    for (const c of cases) {
      const key = randomUUID();
      poisonKeys.set(key, c);
      await producer.send({ topic: c.topic, messages: [{ key, value: c.value, headers: { 'x-test': 'poison' } }] });
    }
    await producer.disconnect();

    const dlq = await readDlq(new Set(poisonKeys.keys()), 60_000);
    const inDlqAt = Date.now();
    dlqAlert = eventually(
      'DeadLetterQueueGrowing firing',
      async () => {
        const alert = (await promAlerts(e.prometheusUrl, 'DeadLetterQueueGrowing')).find(
          (a) => a.state === 'firing' && a.labels.topic === 'pynomaly.dlq',
        );
        return alert ? { alert, afterMs: Date.now() - inDlqAt } : undefined;
      },
      // Well inside the alert's 15-minute window, however slow the machine.
      600_000,
      3000,
    );
    dlqAlert.catch(() => undefined); // awaited, and its failure reported, by its test
    const admin = kafka.admin();
    await admin.connect();
    dlqEndAfterPoison = (await admin.fetchTopicOffsets('pynomaly.dlq')).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    console.log(`poison: sent ${poisonKeys.size}, in the DLQ ${dlq.size}`);
    for (const [key, c] of poisonKeys) {
      const got = dlq.get(key);
      console.log(
        `  ${c.topic} (${c.value.length} B, expected ${c.reason}): ${got ? `dlq-reason=${got.headers['dlq-reason']} group=${got.headers['dlq-consumer-group']} error="${got.headers['dlq-error']?.slice(0, 120)}"` : 'NOT in the DLQ'}`,
      );
    }
    for (const [key, c] of poisonKeys) {
      const got = dlq.get(key);
      expect(got, `${c.reason} message on ${c.topic} in the DLQ`).toBeDefined();
      expect(got!.headers['dlq-reason']).toBe(c.reason);
      expect(got!.headers['dlq-origin-topic']).toBe(c.topic);
      expect(got!.headers['x-test']).toBe('poison');
      expect(got!.value.equals(c.value)).toBe(true);
    }
    // Each is also recorded for the operator, with its exact bytes, and its offset committed: a
    // record Postgres refused (NUL in the parser's error) would bring it back forever and stall
    // its partition.
    const recorded = await eventually(
      'every poison message recorded in dead_letters',
      async () => {
        const { rows } = await db.query<{ key: string; value: Buffer; reason: string }>(
          'SELECT message_key AS key, value, reason FROM dead_letters WHERE message_key = ANY($1)',
          [[...poisonKeys.keys()]],
        );
        return rows.length === poisonKeys.size ? rows : undefined;
      },
      60_000,
      1000,
    );
    for (const r of recorded) {
      expect(r.reason).toBe(poisonKeys.get(r.key)!.reason);
      expect(r.value.equals(poisonKeys.get(r.key)!.value)).toBe(true);
    }
    // The pipeline still trains and scores after them.
    const train = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${detector.detectorId}/train`, {});
    expect((await waitForJob(api, train.body.id, 60_000)).state).toBe('succeeded');
  });

  it('trace backend stopped for 60 s under traffic: every span sent meanwhile arrives afterwards; the Collector queue held the backlog', async () => {
    const sentBefore = await exposedValue(collectorMetrics, 'otelcol_exporter_sent_spans_total', TRACES_EXPORTER);
    await stopNamed('test', 'trace-backend');
    let maxQueue = 0;
    let traffic: Awaited<ReturnType<typeof tracedTraffic>>;
    try {
      const sampling = (async () => {
        const until = Date.now() + 62_000;
        while (Date.now() < until) {
          maxQueue = Math.max(
            maxQueue,
            await exposedValue(collectorMetrics, 'otelcol_exporter_queue_size', TRACES_EXPORTER),
          );
          await sleep(2000);
        }
      })();
      traffic = await tracedTraffic(55);
      await sampling;
    } finally {
      await startNamed('test', 'trace-backend');
    }
    const stoppedFor = Date.now() - traffic.counts.firstSentAt;
    const sentDuring = traffic.traceIds.length;
    const arrived = await eventually(
      'every trace sent during the outage in the trace backend',
      async () => {
        const c = await completeTraces(traffic.traceIds);
        return c.complete === sentDuring ? c : undefined;
      },
      120_000,
      3000,
    ).catch(async () => completeTraces(traffic.traceIds));
    const sentAfter = await exposedValue(collectorMetrics, 'otelcol_exporter_sent_spans_total', TRACES_EXPORTER);
    const failed = await exposedValue(collectorMetrics, 'otelcol_exporter_send_failed_spans_total', TRACES_EXPORTER);
    console.log(
      [
        `trace backend down ~${Math.round(stoppedFor / 1000)} s; traffic: ${describeCounts(traffic.counts)}`,
        `  Collector queue (otelcol_exporter_queue_size, otlp_grpc/traces) peaked at ${maxQueue} batches`,
        `  traces sent during the outage: ${sentDuring}; arrived complete (API + drift worker spans): ${arrived.complete}; spans stored for them: ${arrived.spans}`,
        `  Collector exporter: ${sentAfter - sentBefore} spans sent since the stop (send_failed_spans total ${failed})`,
      ].join('\n'),
    );
    expect(has5xx(traffic.counts)).toBe(false);
    expect(maxQueue).toBeGreaterThan(0);
    expect(sentDuring).toBeGreaterThan(0);
    expect(arrived.complete).toBe(sentDuring);
  });

  it('Collector SIGKILLed and restarted under traffic: no API 5xx; spans queued on disk before the kill are delivered', async () => {
    // Spans pile up in the persistent queue while the trace backend is away; then the Collector
    // dies without any shutdown, so only what is on disk can survive.
    await stopNamed('test', 'trace-backend');
    let queued: Awaited<ReturnType<typeof tracedTraffic>>;
    let whileDown: Awaited<ReturnType<typeof tracedTraffic>>;
    let queueAtKill = 0;
    try {
      queued = await tracedTraffic(10);
      // Let the services' batch span processors (5 s) and the Collector's batch processor (5 s)
      // hand everything to the exporter queue, which cannot drain while the backend is away.
      await sleep(12_000);
      await eventually(
        'the Collector queue to hold the spans',
        async () =>
          (await exposedValue(collectorMetrics, 'otelcol_exporter_queue_size', TRACES_EXPORTER)) > 0 ? true : undefined,
        30_000,
      );
      queueAtKill = await exposedValue(collectorMetrics, 'otelcol_exporter_queue_size', TRACES_EXPORTER);
      await killAndWait('otel-collector');
      whileDown = await tracedTraffic(10);
    } finally {
      await startNamed('test', 'otel-collector');
      await startNamed('test', 'trace-backend');
    }
    const delivered = await eventually(
      'the traces queued before the kill in the trace backend',
      async () => {
        const c = await completeTraces(queued.traceIds);
        return c.complete === queued.traceIds.length ? c : undefined;
      },
      120_000,
      3000,
    ).catch(async () => completeTraces(queued.traceIds));
    console.log(
      [
        `collector SIGKILL: queue held ${queueAtKill} batches at the kill`,
        `  before the kill: ${describeCounts(queued.counts)}; traces ${queued.traceIds.length}, delivered after restart ${delivered.complete} (${delivered.spans} spans)`,
        `  while the Collector was dead: ${describeCounts(whileDown.counts)}`,
      ].join('\n'),
    );
    expect(queueAtKill).toBeGreaterThan(0);
    expect(has5xx(whileDown.counts)).toBe(false);
    expect(whileDown.counts.requestsAccepted).toBe(whileDown.counts.requestsSent);
    expect(delivered.complete).toBe(queued.traceIds.length);
  });

  it('training worker SIGKILLed in the middle of a job: the job completes after the restart, exactly once', async () => {
    const ds = await uploadDataset(api, {
      name: 'worker-kill',
      featureNames: [...FEATURES],
      rows: makeRows(100_000, seededRandom(77)),
    });
    const d = await api.expect<{ id: string }>(201, 'POST', '/api/v1/detectors', {
      name: 'worker-kill',
      datasetId: ds.body.id,
      algorithm: 'isolation_forest',
      parameters: { nEstimators: 400, seed: 7 },
    });
    const train = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${d.body.id}/train`, {});
    const running = await waitForJob(api, train.body.id, 60_000, (j) => j.state !== 'queued');
    let killedWhile = running.state;
    try {
      killedWhile = (await api.expect<Job>(200, 'GET', `/api/v1/jobs/${train.body.id}`)).body.state;
      await killAndWait('training-worker');
    } finally {
      await startNamed('test', 'training-worker');
    }
    const done = await waitForJob(api, train.body.id, 180_000);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM models WHERE detector_id = $1', [
      d.body.id,
    ]);
    const completions = (await jobIdsOnTopic('pynomaly.training.completed', 1)).filter((id) => id === train.body.id);
    console.log(
      `worker SIGKILL: job ${train.body.id} was ${killedWhile} at the kill; then ${done.state} after ${done.attempts} attempts; models ${rows[0]!.n}; training.completed events ${completions.length}`,
    );
    expect(killedWhile).toBe('running');
    expect(done.state).toBe('succeeded');
    expect(rows[0]!.n).toBe('1');
    expect(completions.length).toBe(1);
  });

  it('two drift workers in one consumer group share the partitions; every window is evaluated exactly once', async () => {
    const ctx = context('test');
    const logDir = e.logsDir('drift-worker-2');
    mkdirSync(logDir, { recursive: true });
    const metricsPort = Number(new URL(e.driftWorkerMetrics).port) + 7;
    const out = createWriteStream(join(logDir, 'stdout.txt'));
    const second: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'services', 'drift-worker', 'src', 'main.ts')],
      {
        cwd: projectRoot,
        env: { ...process.env, ...serviceEnv(ctx, 'drift-worker'), METRICS_PORT: String(metricsPort), LOG_DIR: logDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    second.stdout!.pipe(out);
    second.stderr!.pipe(out);
    const exited = new Promise<number | null>((r) => second.once('exit', (code) => r(code)));
    try {
      const admin = kafka.admin();
      await admin.connect();
      const assignment = await eventually(
        'two members of pynomaly-drift-worker, each with partitions',
        async () => {
          const { groups } = await admin.describeGroups(['pynomaly-drift-worker']);
          const members = groups[0]?.members ?? [];
          if (groups[0]?.state !== 'Stable' || members.length !== 2) return undefined;
          const parts = members.map((m) => {
            const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
            return { client: m.clientHost, id: m.memberId, topics: a?.assignment ?? {} };
          });
          return parts.every((p) => Object.values(p.topics).some((ps) => ps.length > 0)) ? parts : undefined;
        },
        90_000,
        2000,
      );
      await admin.disconnect();
      for (const a of assignment)
        console.log(
          `  member ${a.id.slice(0, 40)}: ${Object.entries(a.topics)
            .map(([t, ps]) => `${t}[${ps.join(',')}]`)
            .join(' ')}`,
        );

      // Rows go to the partition of their detector id (the key). Random ids could all hash to one
      // member's partitions, so train detectors until each member owns at least one of them.
      const scoredTopic = 'pynomaly.detections.scored';
      const partitionCount = assignment.reduce((n, a) => n + (a.topics[scoredTopic]?.length ?? 0), 0);
      const partitionOf = (key: string) =>
        Partitioners.DefaultPartitioner()({
          topic: scoredTopic,
          partitionMetadata: Array.from({ length: partitionCount }, (_, partitionId) => ({
            partitionId,
            leader: 1,
            replicas: [1],
            isr: [1],
            partitionErrorCode: 0,
          })),
          message: { key, value: null },
        });
      const covered = (ds: { detectorId: string }[]) =>
        assignment.every((a) => ds.some((d) => (a.topics[scoredTopic] ?? []).includes(partitionOf(d.detectorId))));
      const detectors = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          trainDetector(api, { name: `two-workers-${i}`, seed: 40 + i, trainingRows: 500 }),
        ),
      );
      for (let extra = 0; !covered(detectors) && extra < 16; extra++) {
        detectors.push(
          await trainDetector(api, { name: `two-workers-x${extra}`, seed: 60 + extra, trainingRows: 500 }),
        );
      }
      expect(covered(detectors), 'detectors on both members partitions').toBe(true);
      const perDetector = 2 * WINDOW + 50;
      const sent = await Promise.all(
        detectors.map((d, i) =>
          streamRows(api, d.detectorId, { rate: 50, seconds: perDetector / 50, batchSize: 25, seed: 50 + i }),
        ),
      );
      for (const s of sent) expect(s.rowsAccepted).toBe(perDetector);
      const ids = detectors.map((d) => d.detectorId);
      const reports = await eventually(
        'two reports per detector',
        async () => {
          const { rows } = await db.query<{
            id: string;
            detector_id: string;
            window_index: number;
            window_rows: number;
          }>('SELECT id, detector_id, window_index, window_rows FROM drift_reports WHERE detector_id = ANY($1)', [ids]);
          return rows.length >= 2 * ids.length ? rows : undefined;
        },
        120_000,
        2000,
      );
      await sleep(5000); // a late duplicate would show up here
      const { rows: all } = await db.query<{
        id: string;
        detector_id: string;
        window_index: number;
        window_rows: number;
      }>('SELECT id, detector_id, window_index, window_rows FROM drift_reports WHERE detector_id = ANY($1)', [ids]);
      const { rows: left } = await db.query<{ detector_id: string; n: string }>(
        'SELECT detector_id, count(*) AS n FROM drift_window_rows WHERE detector_id = ANY($1) GROUP BY detector_id',
        [ids],
      );
      const reportIdsBy = (dir: string) =>
        new Set(
          logLines(dir)
            .filter((l) => l.msg === 'drift report stored' && ids.includes(String(l.detectorId)))
            .map((l) => String(l.reportId)),
        );
      const byFirst = reportIdsBy(e.logsDir('drift-worker'));
      const bySecond = reportIdsBy(logDir);
      const both = [...byFirst].filter((id) => bySecond.has(id));
      console.log(
        `two drift workers: ${sent.reduce((n, s) => n + s.rowsAccepted, 0)} rows to ${ids.length} detectors; ${all.length} reports (${reports.length} when first complete); evaluated by worker 1: ${byFirst.size}, by worker 2: ${bySecond.size}, by both: ${both.length}; rows left in windows: ${left.map((l) => l.n).join(',')}`,
      );
      expect(all.length).toBe(2 * ids.length);
      for (const id of ids) {
        const mine = all.filter((r) => r.detector_id === id);
        expect(mine.map((r) => r.window_index).sort()).toEqual([0, 1]);
        expect(mine.every((r) => r.window_rows === WINDOW)).toBe(true);
        expect(Number(left.find((l) => l.detector_id === id)?.n ?? 0)).toBe(50);
      }
      expect(byFirst.size + bySecond.size).toBe(all.length);
      expect(both).toEqual([]);
      expect(byFirst.size).toBeGreaterThan(0);
      expect(bySecond.size).toBeGreaterThan(0);
    } finally {
      second.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') second.kill('SIGKILL');
      out.end();
    }
  });

  it('alert chain: drifted rows → DataDriftDetected firing → Alertmanager → API webhook → GET /api/v1/alerts; resolves with normal rows', async () => {
    const c = await chain.finally(() => chainLog.forEach((l) => console.log(l)));
    console.log(describeChain(c));
    expect(c.delivered.status).toBe('firing');
    expect(c.delivered.labels.severity).toBe('warning');
    expect(c.resolved.status).toBe('resolved');
    expect(c.resolved.endsAt).not.toBeNull();
  });

  it('Kafka broker restarted while training jobs are submitted: every accepted job succeeds exactly once', async () => {
    const others = await Promise.all(
      [1, 2].map(async (i) => {
        const ds = await uploadDataset(api, {
          name: `kafka-restart-${i}`,
          featureNames: [...FEATURES],
          rows: makeRows(500, seededRandom(100 + i)),
        });
        const d = await api.expect<{ id: string }>(201, 'POST', '/api/v1/detectors', {
          name: `kafka-restart-${i}`,
          datasetId: ds.body.id,
          algorithm: 'isolation_forest',
          parameters: { nEstimators: 50, seed: i },
        });
        return d.body.id;
      }),
    );
    const detectorIds = [detector.detectorId, ...others];
    const { rows: before } = await db.query<{ detector_id: string; n: string }>(
      'SELECT detector_id, count(*) AS n FROM models WHERE detector_id = ANY($1) GROUP BY detector_id',
      [detectorIds],
    );
    const modelsBefore = Object.fromEntries(before.map((r) => [r.detector_id, Number(r.n)]));
    const stop = new AbortController();
    const submitting = submitTraining(detectorIds, stop.signal);
    await sleep(3000);
    const t0 = Date.now();
    try {
      await stopNamed('test', 'kafka');
      await sleep(5000);
    } finally {
      await startNamed('test', 'kafka');
    }
    const downFor = Date.now() - t0;
    await sleep(3000);
    stop.abort();
    const { accepted, statuses } = await submitting;
    const jobs = await waitForJobsDb(
      accepted.map((a) => a.jobId),
      240_000,
    );
    const succeeded = jobs.filter((j) => j.state === 'succeeded').length;
    const tally = new Map<string, number>();
    for (const j of jobs) tally.set(String(j.attempts), (tally.get(String(j.attempts)) ?? 0) + 1);
    const attempts = [...tally].map(([a, n]) => `${a}:${n} jobs`).join(', ');
    const { rows: models } = await db.query<{ job_id: string; n: string }>(
      'SELECT job_id, count(*) AS n FROM models WHERE job_id = ANY($1) GROUP BY job_id',
      [accepted.map((a) => a.jobId)],
    );
    const completed = await jobIdsOnTopic('pynomaly.training.completed', accepted.length);
    const acceptedIds = new Set(accepted.map((a) => a.jobId));
    const completions = completed.filter((id) => acceptedIds.has(id));
    console.log(
      [
        `kafka restart: broker away ${Math.round(downFor / 1000)} s (stop + start)`,
        `  train requests: ${Object.entries(statuses)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')}; accepted ${accepted.length}`,
        `  succeeded ${succeeded}/${accepted.length}; models for them ${models.reduce((n, r) => n + Number(r.n), 0)}; training.completed events for them ${completions.length} (distinct ${new Set(completions).size}); attempts per job ${attempts}`,
      ].join('\n'),
    );
    expect(Object.keys(statuses).every((s) => s === '202')).toBe(true);
    expect(succeeded).toBe(accepted.length);
    expect(models.length).toBe(accepted.length);
    expect(models.every((r) => r.n === '1')).toBe(true);
    expect(completions.length).toBe(accepted.length);
    expect(new Set(completions).size).toBe(accepted.length);
    // Versions per detector are contiguous: no run was lost or doubled.
    const { rows: versions } = await db.query<{ detector_id: string; versions: number[] }>(
      'SELECT detector_id, array_agg(version ORDER BY version) AS versions FROM models WHERE detector_id = ANY($1) GROUP BY detector_id',
      [detectorIds],
    );
    for (const v of versions) {
      const n = (modelsBefore[v.detector_id] ?? 0) + accepted.filter((a) => a.detectorId === v.detector_id).length;
      expect(v.versions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    }
  });

  it('Kafka stopped for 45 s under detect and train traffic: the API stays ready and answers 2xx; every accepted event is delivered after it returns', async () => {
    // Rows go to one detector, training to another: a newer model would rightly make the drift
    // worker drop rows scored with the older one, which is not what is counted here.
    const [fresh, trained] = await Promise.all([
      trainDetector(api, { name: `kafka-outage-${Date.now()}`, seed: 35, trainingRows: 500 }),
      trainDetector(api, { name: `kafka-outage-train-${Date.now()}`, seed: 34, trainingRows: 500 }),
    ]);
    const pidsBefore = servicePids();
    const stop = new AbortController();
    const readiness: Record<number, number> = {};
    let maxPendingAge = 0;
    const probing = (async () => {
      while (!stop.signal.aborted) {
        const r = await ready();
        readiness[r.status] = (readiness[r.status] ?? 0) + 1;
        maxPendingAge = Math.max(
          maxPendingAge,
          await exposedValue(`${e.apiUrl}/api/metrics`, 'pynomaly_outbox_oldest_pending_age_seconds').catch(() => 0),
        );
        await sleep(2000);
      }
    })();
    let detecting: Promise<TrafficCounts> | undefined;
    let training: ReturnType<typeof submitTraining> | undefined;
    const t0 = Date.now();
    try {
      await stopNamed('test', 'kafka');
      detecting = streamRows(api, fresh.detectorId, { rate: 20, seconds: 45, batchSize: 5, seed: 36 });
      const trainStop = new AbortController();
      training = submitTraining([trained.detectorId], trainStop.signal, 1500);
      await detecting;
      trainStop.abort();
      await training;
    } finally {
      await startNamed('test', 'kafka');
    }
    const downFor = Date.now() - t0;
    stop.abort();
    await probing;
    const counts = await detecting!;
    const { accepted, statuses } = await training!;
    const jobs = await waitForJobsDb(
      accepted.map((a) => a.jobId),
      300_000,
    );
    const rowsInDrift = () => rowsInDriftOf(fresh.detectorId);
    const inDrift = await eventually(
      'every detect row accepted during the outage in the drift window',
      async () => {
        const n = await rowsInDrift();
        return n >= counts.rowsAccepted ? n : undefined;
      },
      180_000,
      2000,
    ).catch(rowsInDrift);
    const pending = Number(
      (await db.query('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL')).rows[0].n,
    );
    const pidsAfter = servicePids();
    console.log(
      [
        `kafka outage: broker away ${Math.round(downFor / 1000)} s; readiness ${tally(readiness)}; oldest undelivered event peaked at ${Math.round(maxPendingAge)} s (pynomaly_outbox_oldest_pending_age_seconds)`,
        `  detect: ${describeCounts(counts)}; rows in the drift worker's windows/reports afterwards ${inDrift}`,
        `  train: ${tally(statuses)}; accepted ${accepted.length}, succeeded ${jobs.filter((j) => j.state === 'succeeded').length}`,
        `  outbox pending afterwards ${pending}; pids ${JSON.stringify(pidsBefore)} → ${JSON.stringify(pidsAfter)}`,
      ].join('\n'),
    );
    expect(Object.keys(readiness)).toEqual(['200']);
    expect(counts.requestsAccepted).toBe(counts.requestsSent);
    expect(Object.keys(statuses)).toEqual(['202']);
    expect(accepted.length).toBeGreaterThan(0);
    expect(maxPendingAge).toBeGreaterThan(0);
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);
    expect(inDrift).toBe(counts.rowsAccepted);
    expect(pending).toBe(0);
    expect(pidsAfter).toEqual(pidsBefore);
  }, 900_000);

  it('Postgres restarted 10 times in a row under detect, train and upload traffic: every process survives, only documented 503s', async () => {
    const fresh = await trainDetector(api, { name: `pg-restarts-${Date.now()}`, seed: 37, trainingRows: 500 });
    const pidsBefore = servicePids();
    expect(Object.values(pidsBefore).every((p) => p !== undefined)).toBe(true);
    const stop = new AbortController();
    const detectStatuses: Record<number, number> = {};
    const detecting = streamRows(api, fresh.detectorId, {
      rate: 20,
      seconds: 900,
      batchSize: 5,
      seed: 38,
      concurrency: 4,
      signal: stop.signal,
      onResponse: (r) => {
        detectStatuses[r.status] = (detectStatuses[r.status] ?? 0) + 1;
      },
    });
    const training = submitTraining([fresh.detectorId], stop.signal, 2000);
    const uploadStatuses: Record<number, number> = {};
    const uploading = (async () => {
      for (let i = 0; !stop.signal.aborted; i++) {
        const s = await uploadCsv(`pg-restarts-${i}`, makeRows(200, seededRandom(1000 + i)));
        uploadStatuses[s] = (uploadStatuses[s] ?? 0) + 1;
        await sleep(1500);
      }
    })();
    await sleep(3000);
    const restarts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = Date.now();
      try {
        await stopNamed('test', 'postgres');
      } finally {
        await startNamed('test', 'postgres');
      }
      await eventually(
        'readiness back after the restart',
        async () => ((await ready()).status === 200 ? true : undefined),
        60_000,
      );
      restarts.push(Date.now() - t);
      await sleep(2000);
    }
    await sleep(5000);
    stop.abort();
    const [counts, { accepted, statuses: trainStatuses }] = await Promise.all([detecting, training, uploading]);
    const jobs = await waitForJobsDb(
      accepted.map((a) => a.jobId),
      300_000,
    );
    const pidsAfter = servicePids();
    const alive = Object.entries(pidsAfter).filter(([name]) => runningPid(name) !== undefined);
    const bad = (st: Record<number, number>) =>
      Object.keys(st).filter((k) => k === '0' || (Number(k) >= 500 && k !== '503'));
    console.log(
      [
        `postgres restarted ${restarts.length} times (stop → start → API ready: ${restarts.map((ms) => `${(ms / 1000).toFixed(1)}s`).join(', ')})`,
        `  detect: ${describeCounts(counts)}`,
        `  train: ${tally(trainStatuses)}; accepted ${accepted.length}: ${jobs.filter((j) => j.state === 'succeeded').length} succeeded, ${jobs.filter((j) => j.state === 'failed').length} failed, ${jobs.filter((j) => j.state !== 'succeeded' && j.state !== 'failed').length} unfinished`,
        `  upload: ${tally(uploadStatuses)}`,
        `  pids ${JSON.stringify(pidsBefore)} → ${JSON.stringify(pidsAfter)}; alive ${alive.length}/3`,
      ].join('\n'),
    );
    expect(restarts.length).toBe(10);
    expect(pidsAfter).toEqual(pidsBefore);
    expect(alive.length).toBe(3);
    expect(bad(detectStatuses)).toEqual([]);
    expect(bad(trainStatuses)).toEqual([]);
    expect(bad(uploadStatuses)).toEqual([]);
    expect(counts.requestsAccepted).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);
  }, 900_000);

  it('Postgres restarted: readiness goes false and comes back; no accepted data is lost', async () => {
    const fresh = await trainDetector(api, { name: `pg-restart-${Date.now()}`, seed: 31 });
    expect((await ready()).status).toBe(200);
    const stop = new AbortController();
    const createdDatasets: { id: string; rows: number }[] = [];
    const datasetStatuses: Record<number, number> = {};
    const creating = (async () => {
      for (let i = 0; !stop.signal.aborted; i++) {
        const res = await api
          .call<{ id: string }>('POST', '/api/v1/datasets', {
            name: `pg-restart-${i}`,
            featureNames: [...FEATURES],
            rows: makeRows(50, seededRandom(i)),
          })
          .catch(() => undefined);
        const s = res?.status ?? 0;
        datasetStatuses[s] = (datasetStatuses[s] ?? 0) + 1;
        if (s === 201) createdDatasets.push({ id: res!.body.id, rows: 50 });
        await sleep(1000);
      }
    })();
    const detecting = streamRows(api, fresh.detectorId, {
      rate: 20,
      seconds: 600,
      batchSize: 5,
      seed: 32,
      signal: stop.signal,
    });
    await sleep(3000);
    const readiness: string[] = [];
    let wentDown = false;
    let cameBack = false;
    try {
      await stopNamed('test', 'postgres');
      wentDown = await eventually(
        'readiness to report Postgres down',
        async () => {
          const r = await ready();
          readiness.push(`${r.status}/${r.postgres}`);
          return r.status === 503 && r.postgres === 'fail' ? true : undefined;
        },
        30_000,
      );
      await sleep(5000);
    } finally {
      await startNamed('test', 'postgres');
    }
    cameBack = await eventually(
      'readiness to come back',
      async () => {
        const r = await ready();
        readiness.push(`${r.status}/${r.postgres}`);
        return r.status === 200 ? true : undefined;
      },
      60_000,
    );
    await sleep(3000);
    stop.abort();
    const [counts] = await Promise.all([detecting, creating]);
    // Every accepted dataset is there with its rows.
    const datasetChecks = await Promise.all(
      createdDatasets.map(async (c) => (await api.call<{ rowCount: number }>('GET', `/api/v1/datasets/${c.id}`)).body),
    );
    const datasetsIntact = datasetChecks.filter((b, i) => b.rowCount === createdDatasets[i]!.rows).length;
    // Every accepted detect row reaches the drift worker's persisted window (or a report).
    const rowsInDrift = () => rowsInDriftOf(fresh.detectorId);
    const inDrift = await eventually(
      'every accepted detect row in the drift window',
      async () => {
        const n = await rowsInDrift();
        return n >= counts.rowsAccepted ? n : undefined;
      },
      90_000,
      2000,
    ).catch(rowsInDrift);
    console.log(
      [
        `postgres restart: readiness ${[...new Set(readiness)].join(' → ')}`,
        `  datasets: ${Object.entries(datasetStatuses)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')}; accepted ${createdDatasets.length}, intact afterwards ${datasetsIntact}`,
        `  detect: ${describeCounts(counts)}; rows in the drift worker's windows/reports ${inDrift}`,
      ].join('\n'),
    );
    expect(wentDown).toBe(true);
    expect(cameBack).toBe(true);
    expect(datasetsIntact).toBe(createdDatasets.length);
    expect(inDrift).toBe(counts.rowsAccepted);
  });

  it('the DLQ alert (DeadLetterQueueGrowing) fires for the poison messages', async () => {
    expect(dlqEndAfterPoison).toBeGreaterThan(0);
    expect(dlqAlert, 'the poison test ran and started watching').toBeDefined();
    const { alert, afterMs } = await dlqAlert!;
    // Prometheus has stored the DLQ's end offsets with the poison messages in them.
    const rows = await promQuery(
      e.prometheusUrl,
      'max_over_time(sum(kafka_partition_current_offset_ratio{topic="pynomaly.dlq"})[30m:1m])',
    );
    const seen = Number(rows[0]?.value[1] ?? 0);
    console.log(
      `DLQ alert: ${alert.labels.alertname} ${alert.state} ${Math.round(afterMs / 1000)} s after the poison reached the DLQ (active since ${alert.activeAt}); DLQ end offsets in Prometheus ${seen} (at least ${dlqEndAfterPoison} after the poison)`,
    );
    expect(seen).toBeGreaterThanOrEqual(dlqEndAfterPoison);
    expect(alert.labels.severity).toBe('warning');
  });
});
