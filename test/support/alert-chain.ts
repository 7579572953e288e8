// The alert chain on the live stack: drifted rows for as many windows as the persistence rule
// needs (2 of the last 3 by default) make DataDriftDetected fire in Prometheus, Alertmanager
// delivers it to the API webhook, and GET /api/v1/alerts lists it; normal rows for the windows it
// takes to clear (2 by default) then resolve it. Each step's time is recorded.
//
// The floor is configuration: the API scrape (15 s) and rule evaluation (15 s), the rule's
// `for: 1m`, the route's group_wait (30 s); the resolved notice leaves Alertmanager at the group's
// next flush, group_interval (5 min) after the firing one.
import { DEFAULT_PERSISTENCE } from '@pynomaly/algorithms';
import type { Endpoints } from '../../compose/local/stack.js';
import type { ApiClient, AlertItem } from '../../testkit/api-client.js';
import { promAlerts } from './observe.js';
import { eventually } from './stack-clients.js';
import { describeCounts, streamRows, type TrainedDetector } from '../../testkit/traffic.js';

export interface AlertChain {
  firstDriftedRowAt: number;
  pendingAt: number;
  firingInPrometheusAt: number;
  inAlertmanagerAt: number;
  deliveredAt: number;
  delivered: AlertItem;
  firstNormalRowAt: number;
  resolvedInPrometheusAt: number;
  resolvedDeliveredAt: number;
  resolved: AlertItem;
}

async function apiAlertsFor(api: ApiClient, detectorId: string, status: 'firing' | 'resolved'): Promise<AlertItem[]> {
  const res = await api.expect<{ items: AlertItem[] }>(200, 'GET', `/api/v1/alerts?status=${status}&limit=500`);
  return res.body.items.filter((a) => a.alertname === 'DataDriftDetected' && a.labels.detector_id === detectorId);
}

/** Drifted rows until the alert is delivered to the API, then normal rows until it resolves. */
export async function alertChain(
  api: ApiClient,
  e: Endpoints,
  detector: TrainedDetector,
  log: (line: string) => void,
): Promise<AlertChain> {
  const WINDOW = Number(process.env.DRIFT_WINDOW_SIZE ?? 200);
  const id = detector.detectorId;
  // Exactly `required` windows of drifted rows: the latest report then says the drift persisted.
  const { windows, required } = DEFAULT_PERSISTENCE;
  const drifted = await streamRows(api, id, {
    rate: 100,
    seconds: (required * WINDOW) / 100,
    drifted: true,
    seed: 11,
  });
  log(`alert chain: drifted rows ${describeCounts(drifted)}`);
  if (drifted.rowsAccepted !== required * WINDOW)
    throw new Error(`drifted rows not all accepted: ${describeCounts(drifted)}`);
  const t0 = drifted.firstSentAt;
  const reports = await eventually(
    'a drifted report',
    async () => {
      const r = await api.expect<{ items: { datasetDrift: boolean; scoreDrift: boolean; driftShare: number }[] }>(
        200,
        'GET',
        `/api/v1/detectors/${id}/drift-reports`,
      );
      return r.body.items.length ? r.body.items : undefined;
    },
    120_000,
  );
  log(
    `alert chain: drift report after ${Date.now() - t0} ms: datasetDrift=${reports[0]!.datasetDrift} scoreDrift=${reports[0]!.scoreDrift} driftShare=${reports[0]!.driftShare}`,
  );
  let pendingAt = 0;
  const firingAt = await eventually(
    'DataDriftDetected firing in Prometheus',
    async () => {
      const a = (await promAlerts(e.prometheusUrl, 'DataDriftDetected')).find((x) => x.labels.detector_id === id);
      if (a && !pendingAt) pendingAt = Date.now();
      return a?.state === 'firing' ? Date.now() : undefined;
    },
    240_000,
    1000,
  );
  const amAt = await eventually(
    'DataDriftDetected in Alertmanager',
    async () => {
      const filter = encodeURIComponent(`alertname="DataDriftDetected"`);
      const list = (await (await fetch(`${e.alertmanagerUrl}/api/v2/alerts?filter=${filter}`)).json()) as {
        labels: Record<string, string>;
      }[];
      return list.some((a) => a.labels.detector_id === id) ? Date.now() : undefined;
    },
    60_000,
  );
  const delivered = await eventually(
    'DataDriftDetected delivered to the API webhook',
    async () => (await apiAlertsFor(api, id, 'firing'))[0],
    120_000,
  );
  const deliveredAt = Date.now();

  // Clears once fewer than `required` of the last `windows` windows drifted.
  const normal = await streamRows(api, id, { rate: 100, seconds: ((windows - required + 1) * WINDOW) / 100, seed: 12 });
  log(`alert chain: normal rows ${describeCounts(normal)}`);
  const resolvedInPrometheusAt = await eventually(
    'DataDriftDetected gone from Prometheus',
    async () =>
      (await promAlerts(e.prometheusUrl, 'DataDriftDetected')).some((x) => x.labels.detector_id === id)
        ? undefined
        : Date.now(),
    180_000,
  );
  // Alertmanager sends the resolved notice at the group's next flush (group_interval 5m).
  const resolved = await eventually(
    'DataDriftDetected resolved in the API',
    async () => (await apiAlertsFor(api, id, 'resolved')).find((a) => a.fingerprint === delivered.fingerprint),
    420_000,
    2000,
  );
  return {
    firstDriftedRowAt: t0,
    pendingAt,
    firingInPrometheusAt: firingAt,
    inAlertmanagerAt: amAt,
    deliveredAt,
    delivered,
    firstNormalRowAt: normal.firstSentAt,
    resolvedInPrometheusAt,
    resolvedDeliveredAt: Date.now(),
    resolved,
  };
}

export function describeChain(c: AlertChain): string {
  const s = (a: number, b: number) => `${((b - a) / 1000).toFixed(1)} s`;
  return [
    `alert chain for detector ${c.delivered.labels.detector_id}:`,
    `  first drifted row → pending in Prometheus: ${s(c.firstDriftedRowAt, c.pendingAt)}`,
    `  → firing in Prometheus: ${s(c.firstDriftedRowAt, c.firingInPrometheusAt)}`,
    `  → in Alertmanager: ${s(c.firstDriftedRowAt, c.inAlertmanagerAt)}`,
    `  → delivered to the API (GET /api/v1/alerts): ${s(c.firstDriftedRowAt, c.deliveredAt)}`,
    `  first normal row → gone from Prometheus: ${s(c.firstNormalRowAt, c.resolvedInPrometheusAt)}`,
    `  → resolved delivered to the API: ${s(c.firstNormalRowAt, c.resolvedDeliveredAt)}`,
  ].join('\n');
}
