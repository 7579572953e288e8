// Traffic generator for the e2e tests, the demo and the benchmarks: creates a dataset, trains a
// detector (waiting for the job), then streams rows to the detect endpoint at a steady rate —
// normal rows first, then rows drawn from a shifted distribution — and counts what it sent and
// what the API accepted. Rows come from a seeded generator so two runs send the same data.
import { gaussian, mulberry32 } from '@pynomaly/algorithms';
import { ApiClient, type ApiResponse, type Detector, type Job } from './api-client.js';

export const FEATURES = ['cpu', 'latency_ms', 'error_rate', 'queue_depth'] as const;

/** Seeded uniform generator for test data (the algorithms' mulberry32). */
export const seededRandom = mulberry32;

/**
 * Rows of the four features. Drifted rows move every feature's mean by several standard
 * deviations and widen it, so both the per-feature tests and the score distribution see it.
 */
export function makeRows(n: number, rand: () => number, drifted = false, shift?: FeatureShift): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const z = [gaussian(rand), gaussian(rand), gaussian(rand), gaussian(rand)];
    const mean = drifted ? 3 : 0;
    const scale = drifted ? 2 : 1;
    const row = [
      50 + 10 * (z[0]! * scale + mean),
      120 + 20 * (z[1]! * scale + mean) + 5 * z[0]!,
      0.02 + 0.005 * (z[2]! * scale + mean),
      10 + 3 * (z[3]! * scale + mean),
    ];
    if (shift) row[shift.feature] = row[shift.feature]! + shift.sigma * FEATURE_SD[shift.feature]!;
    rows.push(row);
  }
  return rows;
}

/** Standard deviation of each feature of normal rows (latency_ms also carries 5 × cpu's noise). */
export const FEATURE_SD = [10, Math.sqrt(20 ** 2 + 5 ** 2), 0.005, 3] as const;

/** Moves one feature's mean by `sigma` of its standard deviations, leaving the others alone. */
export type FeatureShift = { feature: number; sigma: number };

export interface TrainedDetector {
  datasetId: string;
  detectorId: string;
  jobId: string;
  modelId: string;
  /** Trace id of the train request (its spans reach the training worker). */
  trainTraceId: string;
}

export interface SetupOptions {
  name?: string;
  /** The detector's drift settings (default: none, the calibrated decision at its defaults). */
  driftThresholds?: Record<string, number>;
  trainingRows?: number;
  seed?: number;
  algorithm?: 'isolation_forest' | 'robust_zscore';
  jobTimeoutMs?: number;
}

export async function waitForJob(
  api: ApiClient,
  jobId: string,
  timeoutMs = 120_000,
  until: (j: Job) => boolean = (j) => j.state === 'succeeded' || j.state === 'failed',
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.call<Job>('GET', `/api/v1/jobs/${jobId}`).catch(() => undefined);
    if (res?.status === 200 && until(res.body)) return res.body;
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} not done after ${timeoutMs} ms (last: ${JSON.stringify(res?.body)})`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Dataset → detector → training job (waited for). Fails if the job does not succeed. */
/**
 * POST /api/v1/datasets as a well-behaved client does: the API takes a bounded number of uploads
 * at once (API_MAX_CONCURRENT_UPLOADS) and answers 429 with Retry-After beyond it.
 */
export async function uploadDataset(
  api: ApiClient,
  body: { name: string; featureNames: string[]; rows: number[][] },
  maxAttempts = 60,
): Promise<ApiResponse<{ id: string }>> {
  for (let attempt = 1; ; attempt++) {
    const res = await api.call<{ id: string }>('POST', '/api/v1/datasets', body);
    if (res.status === 201) return res;
    if (res.status !== 429 || attempt >= maxAttempts) {
      throw new Error(`POST /api/v1/datasets: expected 201, got ${res.status}: ${JSON.stringify(res.body)}`);
    }
    const retryAfterS = Number(res.headers.get('retry-after') ?? 1);
    await new Promise((r) => setTimeout(r, (Number.isFinite(retryAfterS) ? retryAfterS : 1) * 1000));
  }
}

export async function trainDetector(api: ApiClient, opts: SetupOptions = {}): Promise<TrainedDetector> {
  const rand = seededRandom(opts.seed ?? 1);
  const name = opts.name ?? `traffic-${Date.now()}`;
  const ds = await uploadDataset(api, {
    name,
    featureNames: [...FEATURES],
    rows: makeRows(opts.trainingRows ?? 2000, rand),
  });
  const algorithm = opts.algorithm ?? 'isolation_forest';
  const det = await api.expect<Detector>(201, 'POST', '/api/v1/detectors', {
    name,
    datasetId: ds.body.id,
    algorithm,
    parameters: algorithm === 'isolation_forest' ? { nEstimators: 100, seed: opts.seed ?? 1 } : {},
    driftThresholds: opts.driftThresholds ?? {},
  });
  const train = await api.expect<Job>(202, 'POST', `/api/v1/detectors/${det.body.id}/train`, {});
  const job = await waitForJob(api, train.body.id, opts.jobTimeoutMs ?? 120_000);
  if (job.state !== 'succeeded' || !job.modelId) {
    throw new Error(`training job ${job.id} ended ${job.state}: ${job.reason}`);
  }
  return {
    datasetId: ds.body.id,
    detectorId: det.body.id,
    jobId: job.id,
    modelId: job.modelId,
    trainTraceId: train.traceId,
  };
}

export interface StreamOptions {
  /** Rows per second. */
  rate: number;
  seconds: number;
  drifted?: boolean;
  /** Shift one feature only (applied on top of `drifted`). */
  shift?: FeatureShift;
  /** Rows per detect request; by default about 4 requests a second. */
  batchSize?: number;
  seed?: number;
  /** Requests allowed in flight at once (the schedule is kept even when the API is slow). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called with each response (or the network error), e.g. to collect trace ids or statuses. */
  onResponse?: (r: { status: number; traceId: string; rows: number; at: number; error?: string }) => void;
}

export interface TrafficCounts {
  requestsSent: number;
  requestsAccepted: number;
  rowsSent: number;
  rowsAccepted: number;
  anomalies: number;
  /** Status code → count; network failures are counted under 0. */
  statuses: Record<number, number>;
  firstSentAt: number;
  lastSentAt: number;
}

export const emptyCounts = (): TrafficCounts => ({
  requestsSent: 0,
  requestsAccepted: 0,
  rowsSent: 0,
  rowsAccepted: 0,
  anomalies: 0,
  statuses: {},
  firstSentAt: 0,
  lastSentAt: 0,
});

export function addCounts(a: TrafficCounts, b: TrafficCounts): TrafficCounts {
  const statuses = { ...a.statuses };
  for (const [k, v] of Object.entries(b.statuses)) statuses[Number(k)] = (statuses[Number(k)] ?? 0) + v;
  return {
    requestsSent: a.requestsSent + b.requestsSent,
    requestsAccepted: a.requestsAccepted + b.requestsAccepted,
    rowsSent: a.rowsSent + b.rowsSent,
    rowsAccepted: a.rowsAccepted + b.rowsAccepted,
    anomalies: a.anomalies + b.anomalies,
    statuses,
    firstSentAt:
      a.firstSentAt && b.firstSentAt ? Math.min(a.firstSentAt, b.firstSentAt) : a.firstSentAt || b.firstSentAt,
    lastSentAt: Math.max(a.lastSentAt, b.lastSentAt),
  };
}

/** Streams rows to POST /detectors/:id/detect on a fixed schedule for `seconds`. */
export async function streamRows(api: ApiClient, detectorId: string, opts: StreamOptions): Promise<TrafficCounts> {
  const batch = opts.batchSize ?? Math.max(1, Math.ceil(opts.rate / 4));
  const intervalMs = (batch / opts.rate) * 1000;
  const total = Math.max(1, Math.round((opts.seconds * opts.rate) / batch));
  const rand = seededRandom(opts.seed ?? 7);
  const counts = emptyCounts();
  const inFlight = new Set<Promise<void>>();
  const start = Date.now();
  for (let i = 0; i < total && !opts.signal?.aborted; i++) {
    const due = start + i * intervalMs;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    while (inFlight.size >= (opts.concurrency ?? 8)) await Promise.race(inFlight);
    const rows = makeRows(batch, rand, opts.drifted, opts.shift);
    const at = Date.now();
    counts.requestsSent += 1;
    counts.rowsSent += rows.length;
    counts.firstSentAt ||= at;
    counts.lastSentAt = at;
    const p = api
      .call<{ anomalies: number }>('POST', `/api/v1/detectors/${detectorId}/detect`, { rows })
      .then(
        (res) => {
          counts.statuses[res.status] = (counts.statuses[res.status] ?? 0) + 1;
          if (res.status === 200) {
            counts.requestsAccepted += 1;
            counts.rowsAccepted += rows.length;
            counts.anomalies += res.body.anomalies;
          }
          opts.onResponse?.({ status: res.status, traceId: res.traceId, rows: rows.length, at });
        },
        (err: unknown) => {
          counts.statuses[0] = (counts.statuses[0] ?? 0) + 1;
          opts.onResponse?.({ status: 0, traceId: '', rows: rows.length, at, error: String(err) });
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return counts;
}

export interface TrafficOptions {
  apiUrl: string;
  apiKey: string;
  /** Rows per second. */
  rate: number;
  /** Seconds of normal rows. */
  seconds: number;
  /** Seconds of drifted rows after the normal ones (0: none). */
  driftSeconds?: number;
  detectorId?: string;
  seed?: number;
  log?: (line: string) => void;
}

export interface TrafficReport {
  detector: TrainedDetector | { detectorId: string };
  normal: TrafficCounts;
  drifted: TrafficCounts;
  total: TrafficCounts;
}

/** The whole scenario: train (unless a detector is given), normal rows, then drifted rows. */
export async function runTraffic(opts: TrafficOptions): Promise<TrafficReport> {
  const api = new ApiClient(opts.apiUrl, opts.apiKey);
  const log = opts.log ?? (() => undefined);
  let detector: TrafficReport['detector'];
  if (opts.detectorId) {
    detector = { detectorId: opts.detectorId };
  } else {
    const t0 = Date.now();
    const trained = await trainDetector(api, { seed: opts.seed });
    log(`trained detector ${trained.detectorId} (job ${trained.jobId}) in ${Date.now() - t0} ms`);
    detector = trained;
  }
  const normal = await streamRows(api, detector.detectorId, {
    rate: opts.rate,
    seconds: opts.seconds,
    seed: (opts.seed ?? 1) + 1,
  });
  log(`normal: ${describeCounts(normal)}`);
  let drifted = emptyCounts();
  if (opts.driftSeconds) {
    drifted = await streamRows(api, detector.detectorId, {
      rate: opts.rate,
      seconds: opts.driftSeconds,
      drifted: true,
      seed: (opts.seed ?? 1) + 2,
    });
    log(`drifted: ${describeCounts(drifted)}`);
  }
  return { detector, normal, drifted, total: addCounts(normal, drifted) };
}

export function describeCounts(c: TrafficCounts): string {
  const statuses = Object.entries(c.statuses)
    .map(([k, v]) => `${k === '0' ? 'network-error' : k}×${v}`)
    .join(' ');
  return `${c.requestsSent} requests / ${c.rowsSent} rows sent, ${c.requestsAccepted} requests / ${c.rowsAccepted} rows accepted, ${c.anomalies} anomalies [${statuses}]`;
}
