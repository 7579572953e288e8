/**
 * `npm run demo`: against a running stack (`npm start`, or Docker Compose), shows the whole loop:
 * seeds a dataset, trains an Isolation Forest, streams normal traffic (a drift window without
 * drift), then drifted traffic, and waits until Prometheus has raised DataDriftDetected and
 * Alertmanager has delivered it to the API's alert history (`GET /api/v1/alerts`). It prints what
 * to look at on the way and exits 0 only when the alert arrived.
 *
 * Settings (environment): PYNOMALY_API_URL (http://127.0.0.1:8000), PYNOMALY_API_KEY
 * (pynomaly-dev-key), PYNOMALY_PROMETHEUS_URL (http://127.0.0.1:9090), PYNOMALY_GRAFANA_URL
 * (http://127.0.0.1:3000, compose only), DEMO_TIMEOUT_SECONDS (600).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PERSISTENCE, gaussian, mulberry32 } from '@pynomaly/algorithms';
import { ApiClient } from '../testkit/api-client.js';

const API = process.env.PYNOMALY_API_URL ?? 'http://127.0.0.1:8000';
const KEY = process.env.PYNOMALY_API_KEY ?? 'pynomaly-dev-key';
const PROMETHEUS = process.env.PYNOMALY_PROMETHEUS_URL ?? 'http://127.0.0.1:9090';
const GRAFANA = process.env.PYNOMALY_GRAFANA_URL ?? 'http://127.0.0.1:3000';
const TIMEOUT_MS = Number(process.env.DEMO_TIMEOUT_SECONDS ?? 600) * 1000;
const FEATURES = ['cpu_load', 'latency_ms', 'error_rate', 'queue_depth'];
const BATCH = 100;
/** Upper bound on rows streamed per phase, so a stack with a huge drift window cannot loop forever. */
const MAX_ROWS_PER_PHASE = 20_000;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const deadline = Date.now() + TIMEOUT_MS;
const client = new ApiClient(API, KEY);

interface Job {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  reason: string | null;
}
interface DriftReport {
  id: string;
  windowIndex: number;
  datasetDrift: boolean;
  driftShare: number;
}
interface Alert {
  alertname: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.log(`[demo] ${msg}`);

function remaining(): number {
  const left = deadline - Date.now();
  if (left <= 0) throw new Error(`gave up after ${TIMEOUT_MS / 1000} s (DEMO_TIMEOUT_SECONDS)`);
  return left;
}

/** Polls until `check` returns a value, or the demo's deadline passes. */
async function until<T>(what: string, check: () => Promise<T | undefined>, everyMs = 2000): Promise<T> {
  for (;;) {
    remaining();
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // TypeError = connection refused/reset: retry
    }
    if (deadline - Date.now() < everyMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Service telemetry: load, latency, error rate and queue depth; `shift` moves three of them. */
function rows(rand: () => number, n: number, shift = 0): number[][] {
  return Array.from({ length: n }, () => {
    const load = 0.4 + 0.1 * gaussian(rand) + 0.25 * shift;
    return [
      load,
      120 + 40 * load + 15 * gaussian(rand) + 90 * shift,
      Math.abs(0.01 + 0.005 * gaussian(rand)) + 0.04 * shift,
      Math.max(0, 20 + 5 * gaussian(rand)),
    ];
  });
}

function dashboard(file: string): { uid: string; title: string } {
  return JSON.parse(readFileSync(join(root, 'grafana', 'dashboards', file), 'utf8')) as { uid: string; title: string };
}

/** Streams rows in batches until the drift worker has written a report for a new window. */
async function streamUntilReport(detectorId: string, rand: () => number, shift: number, after: number) {
  let sent = 0;
  let anomalies = 0;
  while (sent < MAX_ROWS_PER_PHASE) {
    remaining();
    const res = await client.ok<{ anomalies: number }>('POST', `/api/v1/detectors/${detectorId}/detect`, {
      rows: rows(rand, BATCH, shift),
    });
    sent += BATCH;
    anomalies += res.anomalies;
    const { items } = await client.ok<{ items: DriftReport[] }>(
      'GET',
      `/api/v1/detectors/${detectorId}/drift-reports?limit=5`,
    );
    const fresh = items.find((r) => r.windowIndex > after);
    if (fresh) return { report: fresh, sent, anomalies };
    await sleep(200);
  }
  throw new Error(`no drift report after ${sent} rows: is the drift worker running (DRIFT_WINDOW_SIZE)?`);
}

async function main(): Promise<void> {
  log(`API ${API}, Prometheus ${PROMETHEUS}`);
  await until('the API to be ready', async () => {
    const res = await fetch(`${API}/health/ready`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? true : undefined;
  });

  const rand = mulberry32(20_240_601); // seeded: every run streams the same data
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dataset = await client.ok<{ id: string; rowCount: number }>('POST', '/api/v1/datasets', {
    name: `demo-service-telemetry-${stamp}`,
    featureNames: FEATURES,
    rows: rows(rand, 3000),
  });
  log(`dataset ${dataset.id}: ${dataset.rowCount} rows of ${FEATURES.join(', ')}`);

  const detector = await client.ok<{ id: string }>('POST', '/api/v1/detectors', {
    name: `demo-detector-${stamp}`,
    datasetId: dataset.id,
    algorithm: 'isolation_forest',
    parameters: { nEstimators: 100, contamination: 0.02, seed: 42 },
  });
  log(`detector ${detector.id} (isolation_forest)`);

  const job = await client.ok<Job>('POST', `/api/v1/detectors/${detector.id}/train`);
  log(`training job ${job.id} queued`);
  const done = await until('training to finish', async () => {
    const j = await client.ok<Job>('GET', `/api/v1/jobs/${job.id}`);
    return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
  });
  if (done.state === 'failed') throw new Error(`training failed: ${done.reason}`);
  log('training succeeded');

  const normal = await streamUntilReport(detector.id, rand, 0, -1);
  log(
    `normal traffic: ${normal.sent} rows, ${normal.anomalies} flagged; drift report window ${normal.report.windowIndex}: ` +
      `datasetDrift=${normal.report.datasetDrift}, driftShare=${normal.report.driftShare.toFixed(2)}`,
  );

  // DataDriftDetected needs the drift to persist: 2 drifted windows of the last 3 by default.
  let drifted = await streamUntilReport(detector.id, rand, 1, normal.report.windowIndex);
  let driftedWindows = drifted.report.datasetDrift ? 1 : 0;
  while (driftedWindows < DEFAULT_PERSISTENCE.required) {
    drifted = await streamUntilReport(detector.id, rand, 1, drifted.report.windowIndex);
    if (drifted.report.datasetDrift) driftedWindows++;
  }
  log(
    `drifted traffic: ${drifted.sent} rows, ${drifted.anomalies} flagged; drift report window ${drifted.report.windowIndex}: ` +
      `datasetDrift=${drifted.report.datasetDrift}, driftShare=${drifted.report.driftShare.toFixed(2)}`,
  );

  const drift = dashboard('drift.json');
  log('now look at:');
  log(`  Grafana "${drift.title}": ${GRAFANA}/d/${drift.uid}?var-detector_id=${detector.id} (Docker Compose)`);
  log(
    `  Prometheus: ${PROMETHEUS}/graph?g0.expr=${encodeURIComponent(`pynomaly_drift_detected{detector_id="${detector.id}"}`)}`,
  );
  log(`  Prometheus alerts: ${PROMETHEUS}/alerts (DataDriftDetected: pending for 1 min, then firing)`);
  log('waiting for Alertmanager to deliver DataDriftDetected to GET /api/v1/alerts ...');

  const alert = await until(
    'DataDriftDetected in the alert history',
    async () => {
      const { items } = await client.ok<{ items: Alert[] }>('GET', '/api/v1/alerts?status=firing&limit=200');
      return items.find((a) => a.alertname === 'DataDriftDetected' && a.labels.detector_id === detector.id);
    },
    5000,
  );
  log(`alert received: ${alert.alertname} [${alert.labels.severity}] ${alert.annotations.summary ?? ''}`);
  log(`runbook: docs/runbooks/DataDriftDetected.md; history: ${API}/api/v1/alerts`);
}

main().catch((err: unknown) => {
  console.error(`[demo] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
