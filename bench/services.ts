// Figures that need the running stack: telemetry overhead of the API, pipeline throughput,
// the Collector's span capacity and the alert latency.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import YAML from 'yaml';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pg from 'pg';
import { DEFAULT_PERSISTENCE, gaussian, mulberry32 } from '@pynomaly/algorithms';
import { CONSUMER_GROUPS, eventHeaders, makeEvent, topicNames } from '@pynomaly/shared';
import type { Part } from './algorithms.js';
import type { Figure, Section } from './lib/report.js';
import { costDifference, type ProfiledRun } from './lib/profile.js';
import { median } from './lib/stats.js';
import { ApiClient } from '../testkit/api-client.js';
import {
  pinCpus,
  processCpuSeconds,
  processMemory,
  sleep,
  startApiChild,
  withDescendants,
  type ApiChild,
  type BenchStack,
} from './lib/stack.js';

export interface StackContext {
  quick: boolean;
  log: (s: string) => void;
  s: BenchStack;
  /**
   * Asks run.ts to profile a hot path (only called when a goal is missed); resolves to the profile
   * file, or undefined when none could be taken.
   */
  profile: (
    figure: string,
    run: (nodeArgs: string[]) => Promise<void>,
    dir: string,
    tailS?: number,
  ) => Promise<string | undefined>;
}

/** autocannon connections of the telemetry-overhead rounds and of the profiles taken when it misses. */
const TELEMETRY_CONNECTIONS = 8;

const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

function gaussRows(n: number, seed: number, shift = 0): number[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () =>
    FEATURES.map((_, j) => Math.round((gaussian(rng) + shift + j * 0.1) * 1e4) / 1e4),
  );
}

export interface Trained {
  detectorId: string;
  modelId: string;
  modelVersion: number;
  threshold: number;
}

/** A dataset, detectors and one trained model each, through the real API and training worker. */
export async function trainDetectors(sc: StackContext, count: number): Promise<Trained[]> {
  const client = new ApiClient(sc.s.endpoints.apiUrl, sc.s.endpoints.apiKey);
  const ds = await client.ok<{ id: string }>('POST', '/api/v1/datasets', {
    name: 'bench-reference',
    featureNames: FEATURES,
    rows: gaussRows(4000, 1),
  });
  const out: Trained[] = [];
  for (let i = 0; i < count; i++) {
    const d = await client.ok<{ id: string }>('POST', '/api/v1/detectors', {
      name: `bench-${i}`,
      datasetId: ds.id,
      algorithm: 'isolation_forest',
      parameters: { nEstimators: 100, maxSamples: 256 },
    });
    const job = await client.ok<{ id: string }>('POST', `/api/v1/detectors/${d.id}/train`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const j = await client.ok<{ state: string; reason: string | null }>('GET', `/api/v1/jobs/${job.id}`);
      if (j.state === 'succeeded') break;
      if (j.state === 'failed') throw new Error(`training failed: ${j.reason}`);
      if (Date.now() > deadline) throw new Error('training did not finish in 120 s');
      await sleep(300);
    }
    const det = await client.ok<{ latestModel: { id: string; version: number; threshold: number } }>(
      'GET',
      `/api/v1/detectors/${d.id}`,
    );
    out.push({
      detectorId: d.id,
      modelId: det.latestModel.id,
      modelVersion: det.latestModel.version,
      threshold: det.latestModel.threshold,
    });
  }
  return out;
}

function kafkaClient(sc: StackContext): Kafka {
  return new Kafka({ clientId: 'pynomaly-bench', brokers: sc.s.endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
}

/**
 * Waits (up to 60 s) until the drift worker has caught up with detections.scored; returns the
 * seconds waited. Two readings 300 ms apart, so a relay pass about to publish is not missed.
 */
async function pipelineSettled(sc: StackContext): Promise<number> {
  const kafka = kafkaClient(sc);
  const topic = topicNames(process.env.KAFKA_TOPIC_PREFIX ?? 'pynomaly')['detections.scored'];
  const t0 = Date.now();
  let idle = 0;
  while (idle < 2 && Date.now() - t0 < 60_000) {
    idle = (await driftLag(kafka, topic)) === 0 ? idle + 1 : 0;
    await sleep(300);
  }
  return (Date.now() - t0) / 1000;
}

async function driftLag(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [group] = await admin.fetchOffsets({ groupId: CONSUMER_GROUPS.driftWorker, topics: [topic] });
    let lag = 0;
    for (const e of ends) {
      const committed = group?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      const c = Number(committed) < 0 ? Number(e.low) : Number(committed);
      lag += Number(e.high) - c;
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/** Rows and reports a pipeline run sent to each detector so far (windows continue across runs). */
export type PipelineLedger = Map<string, number>;

/**
 * Every window due for these detectors has exactly one stored report, of a full window, and no
 * report exists beyond them: what exactly-once means for the drift worker, read from Postgres.
 */
async function checkExactlyOnce(
  db: pg.Client,
  ledger: PipelineLedger,
  windowSize: number,
): Promise<{ ok: boolean; due: number; stored: number; problems: string[] }> {
  const ids = [...ledger.keys()];
  const r = await db.query<{
    detector_id: string;
    window_index: number;
    n: string;
    rows_min: number;
    rows_max: number;
  }>(
    `SELECT detector_id, window_index, count(*) AS n, min(window_rows) AS rows_min, max(window_rows) AS rows_max
     FROM drift_reports WHERE detector_id = ANY($1) GROUP BY detector_id, window_index`,
    [ids],
  );
  const problems: string[] = [];
  let due = 0;
  let stored = 0;
  for (const id of ids) {
    const windows = Math.floor(ledger.get(id)! / windowSize);
    due += windows;
    const mine = r.rows.filter((x) => x.detector_id === id);
    stored += mine.reduce((a, x) => a + Number(x.n), 0);
    for (const x of mine) {
      if (Number(x.n) !== 1) problems.push(`${id} window ${x.window_index}: ${x.n} reports`);
      if (x.window_index >= windows) problems.push(`${id} window ${x.window_index}: not due`);
      if (x.rows_min !== windowSize || x.rows_max !== windowSize)
        problems.push(`${id} window ${x.window_index}: ${x.rows_min}–${x.rows_max} rows`);
    }
    const have = new Set(mine.map((x) => x.window_index));
    for (let k = 0; k < windows; k++) if (!have.has(k)) problems.push(`${id} window ${k}: missing`);
  }
  return { ok: problems.length === 0 && stored === due, due, stored, problems };
}

interface PipelineRun {
  rate: number;
  drained: boolean;
  exactlyOnce: Awaited<ReturnType<typeof checkExactlyOnce>>;
  rows: number;
  events: number;
  producedS: number;
  doneS: number;
  reports: number;
  /** Mean detections.scored event (value and headers) per row it carries. */
  kafkaBytesPerRow: number;
  /** Stored drift report bytes (pg_column_size) per window row it summarises. */
  postgresBytesPerRow: number;
}

/**
 * Sends `windows` full windows of rows (events of 100 rows, as /detect calls of 100 rows would) to
 * each detector through detections.scored and times until every due report is stored and the
 * drift worker's lag is back to 0.
 */
async function runPipeline(
  sc: StackContext,
  detectors: Trained[],
  ledger: PipelineLedger,
  windows: number,
  seed: number,
): Promise<PipelineRun> {
  const windowSize = Number(process.env.DRIFT_WINDOW_SIZE ?? 500);
  const perDetector = windows * windowSize;
  const batch = 100;
  const kafka = kafkaClient(sc);
  const topic = topicNames(process.env.KAFKA_TOPIC_PREFIX ?? 'pynomaly')['detections.scored'];
  const db = new pg.Client({ connectionString: sc.s.endpoints.databaseUrl });
  await db.connect();
  const ids = detectors.map((d) => d.detectorId);
  const reports = async () =>
    Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM drift_reports WHERE detector_id = ANY($1)', [ids]))
        .rows[0]!.n,
    );
  const before = await reports();
  const producer = kafka.producer();
  await producer.connect();
  // Events are built before the clock starts: we measure the pipeline, not our generator. The
  // detectors' events are interleaved, as live traffic would arrive.
  const messages = [];
  for (let k = 0; k < perDetector / batch; k++) {
    for (const [di, d] of detectors.entries()) {
      const rows = gaussRows(batch, seed + di * 1000 + k, k % 20 < 10 ? 0 : 0.8);
      const scores = rows.map((_, i) => 0.4 + ((i * 37) % 100) / 1000);
      const ev = makeEvent('detections.scored', d.detectorId, {
        modelId: d.modelId,
        modelVersion: d.modelVersion,
        featureNames: FEATURES,
        rows,
        scores,
        labels: scores.map((x) => (x > d.threshold ? 1 : 0)),
      });
      messages.push({ key: d.detectorId, value: JSON.stringify(ev), headers: eventHeaders(ev) });
    }
  }
  for (const id of ids) ledger.set(id, (ledger.get(id) ?? 0) + perDetector);
  const totalRows = perDetector * detectors.length;
  const expected = before + windows * detectors.length;
  sc.log(`pipeline: ${messages.length} events, ${totalRows} rows, expecting ${expected - before} drift reports`);
  const t0 = Date.now();
  for (let i = 0; i < messages.length; i += 100) await producer.send({ topic, messages: messages.slice(i, i + 100) });
  const producedS = (Date.now() - t0) / 1000;
  await producer.disconnect();
  let doneS = 0;
  let stored = 0;
  const deadline = Date.now() + (sc.quick ? 240_000 : 600_000);
  for (;;) {
    stored = await reports();
    if (stored >= expected && (await driftLag(kafka, topic)) === 0) {
      doneS = (Date.now() - t0) / 1000;
      break;
    }
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  const exactlyOnce = await checkExactlyOnce(db, ledger, windowSize);
  const stored_ = await db.query<{ bytes: string; n: string }>(
    'SELECT coalesce(sum(pg_column_size(r.*)), 0) AS bytes, count(*) AS n FROM drift_reports r WHERE detector_id = ANY($1)',
    [ids],
  );
  const reportBytes = Number(stored_.rows[0]!.bytes) / Math.max(1, Number(stored_.rows[0]!.n));
  await db.end();
  const eventBytes =
    messages.reduce(
      (a, m) =>
        a + m.value.length + Object.entries(m.headers).reduce((h, [k, v]) => h + k.length + String(v).length, 0),
      0,
    ) / messages.length;
  const drained = doneS > 0;
  const rate = drained ? totalRows / doneS : (Math.max(0, stored - before) * windowSize) / ((Date.now() - t0) / 1000);
  return {
    rate,
    drained,
    exactlyOnce,
    rows: totalRows,
    events: messages.length,
    producedS,
    doneS,
    reports: stored - before,
    kafkaBytesPerRow: eventBytes / batch,
    postgresBytesPerRow: reportBytes / windowSize,
  };
}

const PIPELINE_GOAL = 15_000;

function exactlyOnceNote(x: PipelineRun['exactlyOnce']): string {
  return x.ok
    ? `every due report stored exactly once (${x.stored} of ${x.due} due, checked per detector and window)`
    : `EXACTLY-ONCE VIOLATED: ${x.stored} reports for ${x.due} due windows; ${x.problems.slice(0, 5).join('; ')}`;
}

/** rows/s from detections.scored through Kafka and the drift worker to stored drift reports. */
export async function benchPipeline(sc: StackContext, detectors: Trained[], ledger: PipelineLedger): Promise<Part> {
  const windowSize = Number(process.env.DRIFT_WINDOW_SIZE ?? 500);
  // Enough rows that the fixed costs (producing, polling, the lag check) do not dominate.
  const windows = sc.quick ? 30 : 80;
  const run = await runPipeline(sc, detectors, ledger, windows, 1000);
  const ok = run.drained && run.exactlyOnce.ok;
  const fig: Figure = {
    name: 'pipeline.rows_per_s',
    value: run.rate,
    unit: 'rows/s',
    baseline: null,
    baselineLabel: '',
    ratio: null,
    goal: `≥ ${PIPELINE_GOAL}, lag back to 0, every due report exactly once`,
    met: ok && run.rate >= PIPELINE_GOAL,
    note: run.drained
      ? `${run.rows} rows (${run.events} events of 100 rows, ${detectors.length} detectors, windows of ${windowSize}) produced in ${run.producedS.toFixed(1)} s; ${run.reports} drift reports stored and drift-worker lag 0 after ${run.doneS.toFixed(1)} s; ${exactlyOnceNote(run.exactlyOnce)}`
      : `did not drain in time: ${run.reports}/${windows * detectors.length} reports; value is the partial rate; ${exactlyOnceNote(run.exactlyOnce)}`,
  };
  sc.log(`pipeline: ${fig.note}`);
  const kafkaFig: Figure = {
    name: 'pipeline.kafka_bytes_per_row',
    value: run.kafkaBytesPerRow,
    unit: 'bytes per row in detections.scored',
    baseline: null,
    baselineLabel: '',
    ratio: null,
    goal: 'report (capacity model input)',
    met: null,
    note: `mean event size (JSON value and headers) of ${FEATURES.length}-feature rows sent 100 per event, divided by 100; the same payload waits in the API's outbox table until the relay has published it`,
  };
  const postgresFig: Figure = {
    name: 'pipeline.postgres_bytes_per_row',
    value: run.postgresBytesPerRow,
    unit: 'bytes of drift report per evaluated row',
    baseline: null,
    baselineLabel: '',
    ratio: null,
    goal: 'report (capacity model input)',
    met: null,
    note: `pg_column_size of the stored drift reports (${FEATURES.length} features) divided by the rows they summarise (windows of ${windowSize}); rows themselves wait in Postgres only until their window is full`,
  };
  return { figures: [fig, kafkaFig, postgresFig], sections: [] };
}

/** A second drift worker in the group, as the faults tests start one; stopped by the caller. */
async function startSecondDriftWorker(sc: StackContext): Promise<{ stop: () => Promise<void> }> {
  const ctx = sc.s.components.context('test');
  const logDir = join(process.env.PYNOMALY_LOGS_DIR!, 'bench-drift-worker-2');
  mkdirSync(logDir, { recursive: true });
  const metricsPort = Number(new URL(sc.s.endpoints.apiUrl).port) + 104;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(process.cwd(), 'services', 'drift-worker', 'src', 'main.ts')],
    {
      env: {
        ...process.env,
        ...sc.s.components.serviceEnv(ctx, 'drift-worker'),
        METRICS_PORT: String(metricsPort),
        LOG_DIR: logDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  };
  const kafka = kafkaClient(sc);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { groups } = await admin.describeGroups([CONSUMER_GROUPS.driftWorker]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length === 2) break;
      if (child.exitCode !== null) throw new Error(`second drift worker exited (${child.exitCode})`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error('the second drift worker did not join the group in 90 s');
      }
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
  return { stop };
}

/** rows/s with two drift workers in the group against one, on the same detectors. */
export async function benchPipelineScale(
  sc: StackContext,
  detectors: Trained[],
  ledger: PipelineLedger,
  one: number,
): Promise<Part> {
  const windows = sc.quick ? 30 : 80;
  const second = await startSecondDriftWorker(sc);
  let run: PipelineRun;
  try {
    run = await runPipeline(sc, detectors, ledger, windows, 5000);
  } finally {
    await second.stop();
  }
  const partitions = new Set(
    detectors.map((d) =>
      Partitioners.DefaultPartitioner()({
        topic: 'x',
        partitionMetadata: Array.from({ length: 6 }, (_, partitionId) => ({
          partitionId,
          leader: 1,
          replicas: [1],
          isr: [1],
          partitionErrorCode: 0,
        })),
        message: { key: d.detectorId, value: null },
      }),
    ),
  );
  const ratio = run.rate / one;
  const fig: Figure = {
    name: 'pipeline.scale.drift_workers',
    value: run.rate,
    unit: 'rows/s with 2 drift workers',
    baseline: one,
    baselineLabel: 'rows/s with 1',
    ratio,
    goal: 'report (2 workers / 1; ≤ 2 on this 2-core machine shared with the stack)',
    met: run.drained && run.exactlyOnce.ok ? null : false,
    note: `the pipeline run again with a second drift worker in the group (its detectors' keys fall in ${partitions.size} of 6 partitions); ${run.drained ? `drained in ${run.doneS.toFixed(1)} s` : 'did not drain in time'}; ${exactlyOnceNote(run.exactlyOnce)}. Both workers, Postgres, Kafka and this bench share the machine's cores, so the ratio is the machine's limit, not the design's`,
  };
  sc.log(`pipeline scale: ${fig.note}`);
  return { figures: [fig], sections: [] };
}

interface CannonResult {
  rps: number;
  /** Requests answered in the run. */
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function cannon(url: string, key: string, body: string, seconds: number, connections: number): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body,
        connections,
        duration: seconds,
      },
      (err, r) => {
        if (err) return reject(err);
        resolve({
          rps: r.requests.average,
          total: r.requests.total,
          p50: r.latency.p50,
          p99: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors,
        });
      },
    );
  });
}

/** Starts every child, or none: when one fails to come up, those that did are stopped again. */
async function startAll(starts: (() => Promise<ApiChild>)[]): Promise<ApiChild[]> {
  const started = await Promise.allSettled(starts.map((start) => start()));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return started.map((r) => (r as PromiseFulfilledResult<ApiChild>).value);
  await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
  throw failed.reason;
}

/**
 * API with full telemetry vs the same process with OTEL_SDK_DISABLED=true, over several
 * generations of freshly started processes, each with an A/A control.
 *
 * Why generations: two API processes started alike and doing identical work differ by up to ~20 %
 * in CPU per request, and keep their rank for as long as they run (measured with four
 * telemetry-off processes side by side: 1,981 to 2,436 µs per request). One on/off pair therefore
 * measured that luck as much as telemetry. Each generation starts an on process and two off
 * processes; the second off process (the A/A control) shows how far two processes that differ in
 * nothing disagree in that generation, and the figure is the median of the generations' ratios.
 */
export async function benchTelemetryOverhead(sc: StackContext, d: Trained): Promise<Part> {
  const basePort = Number(new URL(sc.s.endpoints.apiUrl).port);
  const key = sc.s.endpoints.apiKey;
  const body = JSON.stringify({ rows: gaussRows(100, 77) });
  const path = `/api/v1/detectors/${d.detectorId}/detect`;
  // Short interleaved rounds: on a shared machine the load drifts within seconds, and the sides of
  // a round see nearly the same load.
  const seconds = sc.quick ? 4 : 6;
  // A multiple of the three sides, so that each starts a generation equally often.
  const generations = sc.quick ? 3 : 6;
  const roundsPerGeneration = 2;
  const connections = TELEMETRY_CONNECTIONS;
  const sides = ['on', 'off', 'control'] as const;
  type Side = (typeof sides)[number];
  const generationResults: Record<Side, CannonResult[]>[] = [];
  const sectionRows: (string | number)[][] = [];
  // The API process's own CPU per request, beside the throughput: what telemetry costs the process
  // itself, whatever the rest of the stack on the other core was doing during the round.
  const cpu = { on: { seconds: 0, requests: 0 }, off: { seconds: 0, requests: 0 } };
  const settled: number[] = [];
  let spansPerRequest: number | null = null;
  let pinningSkipped: string | undefined;
  // The drift worker waits out each round and catches up before the next: its work is the same
  // for both sides, and beside it on the stack's core it saturated that core, so the API measured
  // was waiting on Postgres and Kafka rather than working.
  const driftWorker = sc.s.pid('drift-worker');
  const holdDriftWorker = (signal: 'SIGSTOP' | 'SIGCONT') => {
    if (driftWorker === undefined) return;
    try {
      process.kill(driftWorker, signal);
    } catch {
      // not running: nothing to hold
    }
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const telemetryOff = { OTEL_SDK_DISABLED: 'true' };
  for (let g = 0; g < generations; g++) {
    const [on, off, control] = await startAll([
      () => startApiChild(sc.s, { port: basePort + 101, name: 'bench-api-telemetry-on' }),
      () => startApiChild(sc.s, { port: basePort + 102, name: 'bench-api-telemetry-off', env: telemetryOff }),
      () => startApiChild(sc.s, { port: basePort + 104, name: 'bench-api-telemetry-off-control', env: telemetryOff }),
    ]);
    const children: Record<Side, ApiChild> = { on: on!, off: off!, control: control! };
    // The measured APIs get a core of their own, as a CPU-limited container would; Postgres, Kafka,
    // the Collector, the trace backends and the load generator share the rest.
    const measured = withDescendants(sides.map((w) => children[w].pid));
    const pinning = pinCpus(
      measured,
      withDescendants([...sc.s.pids(), process.pid]).filter((p) => !measured.includes(p)),
    );
    pinningSkipped = pinning.skipped;
    const gen: Record<Side, CannonResult[]> = { on: [], off: [], control: [] };
    generationResults.push(gen);
    try {
      // Warm-up: JIT, pools, first-request paths (the telemetry side has more code to optimise).
      for (const w of sides) await cannon(children[w].url + path, key, body, 8, connections);
      for (let r = 0; r < roundsPerGeneration; r++) {
        // Each generation starts with another side, and every other round runs backwards: drift in
        // the machine's load, and whatever the first or the middle slot of a round brings, hit
        // every side alike over the generations.
        const turned = [...sides.slice(g % sides.length), ...sides.slice(0, g % sides.length)];
        const order = r % 2 === 0 ? turned : turned.reverse();
        for (const which of order) {
          // Each round starts with the pipeline idle, not still working through the last round.
          settled.push(await pipelineSettled(sc));
          const target = children[which];
          holdDriftWorker('SIGSTOP');
          let x: CannonResult;
          const cpu0 = processCpuSeconds(target.pid);
          try {
            x = await cannon(target.url + path, key, body, seconds, connections);
          } finally {
            holdDriftWorker('SIGCONT');
          }
          const cpu1 = processCpuSeconds(target.pid);
          if (which !== 'control' && cpu0 !== undefined && cpu1 !== undefined) {
            cpu[which].seconds += cpu1 - cpu0;
            cpu[which].requests += x.total;
          }
          gen[which].push(x);
          sectionRows.push([g + 1, which, x.rps, x.p50, x.p99, x.non2xx, x.errors]);
          sc.log(
            `telemetry ${which} (generation ${g + 1}): ${x.rps.toFixed(0)} req/s, p99 ${x.p99} ms (non-2xx ${x.non2xx}, errors ${x.errors})`,
          );
        }
      }
      if (g === generations - 1) {
        await children.off.stop();
        await children.control.stop();
        spansPerRequest = await spansPerDetect(sc, children.on.url + path, key, body);
      }
    } finally {
      holdDriftWorker('SIGCONT');
      pinning.restore();
      for (const w of sides) await children[w].stop();
    }
  }
  const res = (w: Side) => generationResults.flatMap((gen) => gen[w]);
  const perGeneration = generationResults.map((gen) => {
    const rps = (w: Side) => mean(gen[w].map((x) => x.rps));
    return { ratio: rps('on') / rps('off'), control: rps('control') / rps('off') };
  });
  const rpsOn = mean(res('on').map((x) => x.rps));
  const rpsOff = mean(res('off').map((x) => x.rps));
  const p99On = mean(res('on').map((x) => x.p99));
  const p99Off = mean(res('off').map((x) => x.p99));
  const bad = sides.flatMap(res).reduce((a, x) => a + x.non2xx + x.errors, 0);
  const usPerRequest = (side: { seconds: number; requests: number }) => (side.seconds / side.requests) * 1e6;
  const cpuOn = usPerRequest(cpu.on);
  const cpuOff = usPerRequest(cpu.off);
  const ratio = median(perGeneration.map((x) => x.ratio));
  const controls = perGeneration.map((x) => x.control);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const fig: Figure = {
    name: 'api.telemetry_overhead',
    value: rpsOn,
    unit: 'req/s (telemetry on)',
    baseline: rpsOff,
    baselineLabel: 'req/s telemetry off',
    ratio,
    goal: '≥ 0.90',
    met: ratio >= 0.9 && bad === 0,
    note: `POST /detect with 100 rows × ${FEATURES.length} features, autocannon ${connections} connections, ${pinningSkipped ? `API processes not pinned (${pinningSkipped})` : 'the API processes pinned to a core of their own, the rest of the stack and the load generator on the other'}, the drift worker paused during each round (it catches up between rounds). ${generations} generations of freshly started processes (one with telemetry, two without), ${roundsPerGeneration} interleaved rounds of ${seconds} s per process each; ratio = median of the generations' on/off throughput ratios (${fmt(perGeneration.map((x) => x.ratio))}; ratio of the overall means ${(rpsOn / rpsOff).toFixed(2)}). A/A control, the second telemetry-off process over the first in each generation: ${fmt(controls)} (two processes that differ in nothing disagree this much). p99 ${p99On.toFixed(1)} ms on vs ${p99Off.toFixed(1)} ms off; the API process's own CPU ${cpuOn.toFixed(0)} µs per request on vs ${cpuOff.toFixed(0)} µs off (ratio ${(cpuOff / cpuOn).toFixed(2)}, all rounds); non-2xx + errors ${bad}. Every process records detections (outbox → Kafka), so the database is in the path of all; each round starts once the drift worker has caught up with the previous one (waited ${Math.min(...settled).toFixed(1)}–${Math.max(...settled).toFixed(1)} s)`,
  };
  const rowsPerRequest = 100;
  const p50On = mean(res('on').map((x) => x.p50));
  const detectFig: Figure = {
    name: 'api.detect.rows_per_s',
    value: rpsOn * rowsPerRequest,
    unit: 'rows/s (one API process, telemetry on)',
    baseline: null,
    baselineLabel: '',
    ratio: null,
    goal: 'report',
    met: null,
    note: `POST /detect with ${rowsPerRequest}-row requests, full telemetry at its default sampling, autocannon ${connections} connections: ${rpsOn.toFixed(1)} req/s, p50 ${p50On.toFixed(1)} ms, p99 ${p99On.toFixed(1)} ms (the telemetry-on rounds above); every request scores, records its detections and their outbox event in Postgres`,
  };
  const spansFig: Figure = {
    name: 'api.detect.spans_per_request',
    value: spansPerRequest,
    unit: 'spans per 100-row /detect (system-wide)',
    baseline: null,
    baselineLabel: '',
    ratio: null,
    goal: 'report (capacity model input)',
    met: null,
    note: `spans the Collector accepted while only the telemetry-on API served ${SPAN_COUNT_REQUESTS} /detect calls, divided by them: the API's server, score and query spans, the relay's publish spans and the drift worker's consume and drift spans for those rows`,
  };
  const section: Section = {
    title: 'API telemetry overhead (per round; control = a second telemetry-off process)',
    header: ['generation', 'side', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
    rows: sectionRows,
  };
  const sections = [section];
  if (!fig.met) sections.push(...(await profileTelemetryCost(sc, basePort + 103, path, key, body, seconds, fig.name)));
  return { figures: [fig, detectFig, spansFig], sections };
}

/**
 * A missed telemetry goal: profiles of a telemetry-on and a telemetry-off process under the same
 * load, and where the on process spends its extra CPU per request (by module and by frame).
 */
async function profileTelemetryCost(
  sc: StackContext,
  port: number,
  path: string,
  key: string,
  body: string,
  seconds: number,
  figure: string,
): Promise<Section[]> {
  const connections = TELEMETRY_CONNECTIONS;
  const tailS = seconds - 1;
  const runs: Partial<Record<'on' | 'off', ProfiledRun>> = {};
  for (const side of ['on', 'off'] as const) {
    let cpuUsPerRequest = 0;
    const file = await sc.profile(
      side === 'on' ? figure : `${figure} (telemetry off, for comparison)`,
      async (nodeArgs) => {
        const prof = await startApiChild(sc.s, {
          port,
          name: `bench-api-profile-${side}`,
          nodeArgs,
          ...(side === 'off' ? { env: { OTEL_SDK_DISABLED: 'true' } } : {}),
        });
        try {
          await cannon(prof.url + path, key, body, 3, connections);
          const cpu0 = processCpuSeconds(prof.pid);
          const r = await cannon(prof.url + path, key, body, seconds, connections);
          const cpu1 = processCpuSeconds(prof.pid);
          if (cpu0 !== undefined && cpu1 !== undefined && r.total > 0)
            cpuUsPerRequest = ((cpu1 - cpu0) * 1e6) / r.total;
        } finally {
          await prof.stop();
        }
      },
      `api-${side}`,
      tailS,
    );
    if (file && cpuUsPerRequest > 0) runs[side] = { file, cpuUsPerRequest };
  }
  if (!runs.on || !runs.off) return [];
  const { on, off } = runs;
  const rows = (by: 'module' | 'frame') =>
    costDifference(on, off, by, by === 'module' ? 10 : 15, tailS).map((d) => [
      by === 'frame' ? `\`${d.where}\`` : d.where,
      d.a.toFixed(1),
      d.b.toFixed(1),
      (d.a - d.b).toFixed(1),
    ]);
  const header = ['where', 'on µs/request', 'off µs/request', 'on − off'];
  const what = `CPU ${on.cpuUsPerRequest.toFixed(0)} µs per request on vs ${off.cpuUsPerRequest.toFixed(0)} off while profiled; self-time shares of the last ${tailS} s of each profile times its process's CPU per request`;
  return [
    { title: `API telemetry overhead: where the extra CPU goes, by module (${what})`, header, rows: rows('module') },
    { title: 'API telemetry overhead: where the extra CPU goes, by frame', header, rows: rows('frame') },
  ];
}

function randomHex(rng: () => number, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++)
    s += Math.floor(rng() * 256)
      .toString(16)
      .padStart(2, '0');
  return s;
}

/** One OTLP/HTTP JSON request of `n` spans (distinct ids; a handful of span names). */
function spanBatch(n: number, seed: number): string {
  const rng = mulberry32(seed);
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: randomHex(rng, 16),
    spanId: randomHex(rng, 8),
    name: `bench-op-${i % 5}`,
    kind: 2,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 2_000_000n),
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'POST' } },
      { key: 'http.route', value: { stringValue: '/api/v1/detectors/:id/detect' } },
      { key: 'pynomaly.rows', value: { intValue: '100' } },
    ],
    status: { code: 1 },
  }));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pynomaly-bench' } }] },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  });
}

const SPAN_COUNT_REQUESTS = 200;

async function acceptedSpans(telemetryUrl: string): Promise<number> {
  const text = await (await fetch(`${telemetryUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('otelcol_receiver_accepted_spans')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** Spans the whole system sends per /detect call, counted at the Collector (nothing else running). */
async function spansPerDetect(sc: StackContext, url: string, key: string, body: string): Promise<number | null> {
  const telemetry = sc.s.endpoints.collector.telemetry;
  await sleep(8000); // earlier rounds' spans leave the batch processors (5 s schedule)
  const before = await acceptedSpans(telemetry);
  let next = 0;
  const worker = async () => {
    while (next < SPAN_COUNT_REQUESTS) {
      next++;
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body,
      });
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  // The drift worker evaluates the windows these rows fill; every batch processor flushes within 5 s.
  await sleep(12_000);
  const delta = (await acceptedSpans(telemetry)) - before;
  sc.log(`spans per /detect: ${delta} spans for ${SPAN_COUNT_REQUESTS} calls`);
  return delta > 0 ? delta / SPAN_COUNT_REQUESTS : null;
}

async function refusedSpans(telemetryUrl: string): Promise<number> {
  const text = await (await fetch(`${telemetryUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (/^otelcol_(receiver_refused_spans|processor_refused_spans|receiver_failed_spans)/.test(line)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** Ramps the OTLP span rate until the Collector refuses; reports the last clean step and peak memory. */
export async function benchCollector(sc: StackContext): Promise<Part> {
  const e = sc.s.endpoints.collector;
  const pid = sc.s.pid('otel-collector');
  const perRequest = 1000;
  // The report's steps, then on (doubling) until the first refusal or backlog: the limit.
  const reportSteps = sc.quick
    ? [2_000, 5_000, 10_000, 20_000, 40_000]
    : [2_000, 5_000, 10_000, 20_000, 30_000, 40_000, 60_000, 80_000];
  const topReportStep = reportSteps[reportSteps.length - 1]!;
  const steps = [...reportSteps, ...[2, 4, 8, 16].map((k) => topReportStep * k)];
  const seconds = sc.quick ? 5 : 10;
  const bodies = Array.from({ length: 8 }, (_, i) => spanBatch(perRequest, 500 + i));
  const rows: Section['rows'] = [];
  let best = 0;
  let peak = 0;
  let limitedBy = 'nothing: every step tried was clean';
  let limit: { rate: number; cores: number; rssMiB: number } | undefined;
  let limitStoppedBy = 'nothing: every step tried was clean (the sender may be the limit)';
  for (const rate of steps) {
    const cpu0 = pid ? processCpuSeconds(pid) : undefined;
    const refused0 = await refusedSpans(e.telemetry);
    const reqPerS = rate / perRequest;
    const total = Math.round(reqPerS * seconds);
    let accepted = 0;
    let rejected = 0;
    let backlog = 0;
    let inflight = 0;
    const t0 = Date.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / reqPerS;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      if (inflight > 64) {
        // The Collector answers slower than we send: backpressure, not a refusal. Not sent.
        backlog += perRequest;
        continue;
      }
      inflight++;
      sends.push(
        fetch(`${e.otlpHttp}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[i % bodies.length]!,
        })
          .then(async (r) => {
            await r.arrayBuffer();
            if (r.ok) accepted += perRequest;
            else rejected += perRequest;
          })
          .catch(() => {
            rejected += perRequest;
          })
          .finally(() => {
            inflight--;
          }),
      );
      const m = pid ? processMemory(pid) : undefined;
      if (m) peak = Math.max(peak, m.rssMiB);
    }
    await Promise.all(sends);
    const elapsed = (Date.now() - t0) / 1000;
    const cpu1 = pid ? processCpuSeconds(pid) : undefined;
    await sleep(1500); // let the batch processor and exporter report refusals for this step
    const refused = (await refusedSpans(e.telemetry)) - refused0;
    const m = pid ? processMemory(pid) : undefined;
    if (m) peak = Math.max(peak, m.rssMiB, m.hwmMiB);
    const achieved = accepted / elapsed;
    const cores = cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / elapsed : NaN;
    rows.push([
      rate,
      Math.round(achieved),
      accepted,
      rejected,
      refused,
      backlog,
      m ? Math.round(m.rssMiB) : '–',
      Number.isFinite(cores) ? Number(cores.toFixed(2)) : '–',
    ]);
    sc.log(
      `collector ${rate} spans/s: accepted ${accepted} (${achieved.toFixed(0)}/s), rejected ${rejected}, refused ${refused}, not sent (backlog) ${backlog}, ${cores.toFixed(2)} cores`,
    );
    const inReport = rate <= topReportStep;
    if (rejected > 0 || refused > 0) {
      if (inReport) limitedBy = `refusals at ${rate} spans/s`;
      limitStoppedBy = `refusals at ${rate} spans/s`;
      break;
    }
    if (backlog > 0 || achieved < rate * 0.85) {
      const why = `${rate} spans/s, where only ${achieved.toFixed(0)}/s got through: ${backlog > 0 ? `more than 64 requests were waiting for an answer (${backlog} spans not sent), i.e. the Collector (and this sender) ran out of CPU on the shared 2 cores before any refusal` : 'the sender could not keep the pace'}`;
      if (inReport) limitedBy = why;
      limitStoppedBy = why;
      break;
    }
    if (inReport) best = achieved;
    limit = { rate: achieved, cores, rssMiB: m?.rssMiB ?? NaN };
  }
  const fig: Figure = {
    name: 'collector.spans_per_s',
    value: best,
    unit: 'spans/s accepted, no refusals',
    baseline: peak,
    baselineLabel: 'MiB peak RSS',
    ratio: null,
    goal: 'report (memory_limiter 512 MiB)',
    met: null,
    note: `OTLP/HTTP JSON, ${perRequest} spans per request, ${seconds} s per step; ramp stopped at ${limitedBy}; peak RSS (VmHWM) ${peak.toFixed(0)} MiB against the 512 MiB memory_limiter`,
  };
  const perCore = limit && limit.cores > 0 ? limit.rate / limit.cores : null;
  const limitFig: Figure = {
    name: 'collector.spans_per_s.limit',
    value: limit?.rate ?? null,
    unit: 'spans/s, last clean step of the ramp',
    baseline: perCore,
    baselineLabel: 'spans/s per Collector core',
    ratio: null,
    goal: 'report (ramp until the first refusal or backlog)',
    met: null,
    note: `the same ramp continued (doubling) past ${topReportStep} spans/s until ${limitStoppedBy}; at the last clean step the Collector used ${limit ? limit.cores.toFixed(2) : '–'} cores (utime+stime / wall time) and ${limit ? limit.rssMiB.toFixed(0) : '–'} MiB RSS; peak RSS of the ramp ${peak.toFixed(0)} MiB`,
  };
  return {
    figures: [fig, limitFig],
    sections: [
      {
        title: 'Collector span ramp',
        header: [
          'target spans/s',
          'accepted spans/s',
          'accepted',
          'rejected (HTTP)',
          'refused (collector metrics)',
          'not sent (backlog)',
          'RSS MiB',
          'Collector cores',
        ],
        rows,
      },
    ],
  };
}

interface AlertFloor {
  scrapeS: number;
  evaluationS: number;
  forS: number;
  groupWaitS: number;
  floorS: number;
  worstS: number;
}

const seconds = (d: string): number => {
  const m = /^(\d+)(ms|s|m|h)$/.exec(d.trim());
  if (!m) throw new Error(`cannot read duration "${d}"`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : n * 3600;
};

/** The floor from the configs as they are: Prometheus intervals, the rule's `for`, the route's group_wait. */
export function alertFloor(root: string): AlertFloor {
  const prom = YAML.parse(readFileSync(join(root, 'prometheus', 'prometheus.yml'), 'utf8')) as {
    global: { scrape_interval: string; evaluation_interval: string };
  };
  const rules = YAML.parse(readFileSync(join(root, 'prometheus', 'rules', 'alerts.yml'), 'utf8')) as {
    groups: { interval?: string; rules: { alert?: string; for?: string }[] }[];
  };
  const group = rules.groups.find((g) => g.rules.some((r) => r.alert === 'DataDriftDetected'))!;
  const rule = group.rules.find((r) => r.alert === 'DataDriftDetected')!;
  type Route = { group_wait?: string; matchers?: string[]; receiver?: string; routes?: Route[] };
  const am = YAML.parse(readFileSync(join(root, 'alertmanager', 'alertmanager.yml'), 'utf8')) as { route: Route };
  // Walk the route tree the way the drift alert does (severity=warning → ml-models), inheriting group_wait.
  let gw = am.route.group_wait ?? '30s';
  const warning = am.route.routes?.find((r) => r.matchers?.some((m) => m.includes('warning')));
  if (warning?.group_wait) gw = warning.group_wait;
  const ml = warning?.routes?.find((r) => r.receiver === 'ml-models');
  if (ml?.group_wait) gw = ml.group_wait;
  const scrapeS = seconds(prom.global.scrape_interval);
  const evaluationS = seconds(group.interval ?? prom.global.evaluation_interval);
  const forS = seconds(rule.for ?? '0s');
  const groupWaitS = seconds(gw);
  return {
    scrapeS,
    evaluationS,
    forS,
    groupWaitS,
    // pynomaly_drift_detected is computed at scrape time from the stored report (no OTLP export hop).
    floorS: forS + groupWaitS,
    worstS: scrapeS + evaluationS + forS + evaluationS + groupWaitS,
  };
}

/** First drifted row in through /detect → DataDriftDetected delivered at the API's webhook. */
export async function benchAlertLatency(sc: StackContext, d: Trained, root: string): Promise<Part> {
  const client = new ApiClient(sc.s.endpoints.apiUrl, sc.s.endpoints.apiKey);
  const floor = alertFloor(root);
  const windowSize = Number(process.env.DRIFT_WINDOW_SIZE ?? 500);
  const t0 = Date.now();
  // DataDriftDetected needs the drift to persist: `required` windows of drifted rows.
  for (let k = 0; k < (DEFAULT_PERSISTENCE.required * windowSize) / 100; k++) {
    await client.ok('POST', `/api/v1/detectors/${d.detectorId}/detect`, {
      rows: gaussRows(100, 9000 + k, 3),
    });
  }
  let reportAt = 0;
  let deliveredAt = 0;
  const deadline = t0 + (floor.worstS + 180) * 1000;
  while (Date.now() < deadline) {
    if (!reportAt) {
      const r = await client.ok<{ items: { datasetDrift: boolean }[] }>(
        'GET',
        `/api/v1/detectors/${d.detectorId}/drift-reports?limit=1`,
      );
      if (r.items.some((x) => x.datasetDrift)) reportAt = Date.now();
    }
    const a = await client.ok<{ items: { alertname: string; labels: Record<string, string>; receivedAt: string }[] }>(
      'GET',
      '/api/v1/alerts?status=firing&limit=100',
    );
    const hit = a.items.find((x) => x.alertname === 'DataDriftDetected' && x.labels.detector_id === d.detectorId);
    if (hit) {
      deliveredAt = Date.parse(hit.receivedAt);
      break;
    }
    await sleep(1000);
  }
  const latency = deliveredAt ? (deliveredAt - t0) / 1000 : null;
  const fig: Figure = {
    name: 'alert.latency_vs_floor',
    value: latency,
    unit: 's',
    baseline: floor.floorS,
    baselineLabel: 's floor',
    ratio: latency ? floor.floorS / latency : null,
    goal: 'report (floor / measured, ≤ 1)',
    met: null,
    note: latency
      ? `first drifted row → DataDriftDetected stored by the API webhook; drift report stored after ${((reportAt - t0) / 1000).toFixed(1)} s. Floor = for ${floor.forS} s + group_wait ${floor.groupWaitS} s (scrape ${floor.scrapeS} s and evaluation ${floor.evaluationS} s can align to 0; the metric is computed at scrape time, no export hop); worst case from the intervals ${floor.worstS} s`
      : `no alert delivered within ${floor.worstS + 180} s (drift report ${reportAt ? `after ${((reportAt - t0) / 1000).toFixed(1)} s` : 'never'})`,
  };
  sc.log(`alert: ${fig.note}`);
  return { figures: [fig], sections: [] };
}

/** Prometheus series that carry one detector's id, once its detections and drift reports exist. */
export async function benchSeriesPerDetector(sc: StackContext, detectorId: string): Promise<Part> {
  const url = `${sc.s.endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(`count({detector_id="${detectorId}"})`)}`;
  // The OTLP metrics reach Prometheus through the Collector within an export and a scrape interval.
  const deadline = Date.now() + 60_000;
  let series = 0;
  let stable = 0;
  while (Date.now() < deadline && stable < 3) {
    const body = (await (await fetch(url)).json()) as { data?: { result?: { value: [number, string] }[] } };
    const n = Number(body.data?.result?.[0]?.value[1] ?? 0);
    stable = n > 0 && n === series ? stable + 1 : 0;
    series = n;
    await sleep(5000);
  }
  const fig: Figure = {
    name: 'prometheus.series_per_detector',
    value: series || null,
    unit: 'series with one detector_id',
    baseline: null,
    baselineLabel: '',
    ratio: null,
    goal: 'report (capacity model input)',
    met: null,
    note: `count({detector_id=...}) in Prometheus for the detector that served /detect traffic and got drift reports (histogram buckets included)`,
  };
  sc.log(`series per detector: ${series}`);
  return { figures: [fig], sections: [] };
}
