/**
 * The calibrated drift decision on the live stack (real Kafka, Postgres, Prometheus, Alertmanager),
 * with every detector on the default drift settings (falseAlarmRate 0.01, persistence 2 of 3):
 * - stationary traffic for 30 windows (30 minutes of production windows at one a minute, sent as
 *   fast as the pipeline takes them) gives no persistent dataset drift and no DataDriftDetected;
 * - a +1σ shift of one feature gives FeatureDriftDetected naming that feature, delivered through
 *   Alertmanager to the API's alert history.
 */
import { DEFAULT_PERSISTENCE } from '@pynomaly/algorithms';
import { beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../compose/local/stack.js';
import { ApiClient, type AlertItem } from '../../testkit/api-client.js';
import { promAlerts } from '../support/observe.js';
import { eventually, promQuery, sleep } from '../support/stack-clients.js';
import { describeCounts, FEATURES, streamRows, trainDetector, type TrainedDetector } from '../../testkit/traffic.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const WINDOW = Number(process.env.DRIFT_WINDOW_SIZE ?? 200);
const STATIONARY_WINDOWS = 30;
const SHIFTED = 1; // latency_ms

type Report = {
  windowIndex: number;
  windowRows: number;
  datasetDrift: boolean;
  result: {
    mode: string;
    calibration: string;
    referenceRows: number;
    windowSize: number;
    featureDrift: boolean;
    thresholds: { falseAlarmRate: number; featureAlpha: number; combinedThreshold: number | null };
    combined: { statistic: number; pValue: number } | null;
    features: { name: string; drifted: boolean; ksPValue: number; pValueHolm: number; meanShiftSigma: number }[];
    persistence: { datasetDrift: boolean; datasetWindows: number; features: { name: string }[] };
  };
};

async function reports(detectorId: string): Promise<Report[]> {
  const r = await api.expect<{ items: Report[] }>(
    200,
    'GET',
    `/api/v1/detectors/${detectorId}/drift-reports?limit=100`,
  );
  return r.body.items;
}

let stationary: TrainedDetector;
let shifted: TrainedDetector;

beforeAll(async () => {
  [stationary, shifted] = await Promise.all([
    trainDetector(api, { name: `calibrated-stationary-${Date.now()}`, seed: 31 }),
    trainDetector(api, { name: `calibrated-shifted-${Date.now()}`, seed: 32 }),
  ]);
}, 300_000);

describe('calibrated drift alerts on the live stack', () => {
  it(`${STATIONARY_WINDOWS} windows of stationary traffic: no persistent dataset drift, no DataDriftDetected`, async () => {
    const id = stationary.detectorId;
    const sent = await streamRows(api, id, {
      rate: 400,
      seconds: (STATIONARY_WINDOWS * WINDOW) / 400,
      seed: 41,
    });
    expect(sent.rowsAccepted, describeCounts(sent)).toBe(STATIONARY_WINDOWS * WINDOW);
    const all = await eventually(
      `${STATIONARY_WINDOWS} drift reports`,
      async () => {
        const r = await reports(id);
        return r.length >= STATIONARY_WINDOWS ? r : undefined;
      },
      240_000,
      2000,
    );
    const perWindow = all.filter((r) => r.datasetDrift).length;
    const persistent = all.filter((r) => r.result.persistence.datasetDrift).length;
    console.log(
      `  stationary: ${all.length} windows of ${WINDOW} rows; dataset drift in ${perWindow} single windows, persistent in ${persistent}; ` +
        `feature drift in ${all.filter((r) => r.result.featureDrift).length}`,
    );
    for (const r of all) {
      expect(r.result).toMatchObject({ mode: 'calibrated', calibration: 'bootstrap', windowSize: WINDOW });
      expect(r.result.thresholds).toMatchObject({ falseAlarmRate: 0.01, featureAlpha: 0.0025 });
      expect(r.result.persistence).toMatchObject(DEFAULT_PERSISTENCE);
    }
    expect(persistent).toBe(0);
    // Long enough for a scrape and two rule evaluations after the last report.
    await sleep(45_000);
    const gauge = await promQuery(e.prometheusUrl, `max(pynomaly_drift_detected{detector_id="${id}"})`);
    expect(gauge.map((s) => Number(s.value[1]))).toEqual([0]);
    // Never pending or firing for this detector at any point of the run.
    const seen = await promQuery(
      e.prometheusUrl,
      `count_over_time(ALERTS{alertname="DataDriftDetected",detector_id="${id}"}[15m])`,
    );
    expect(seen).toEqual([]);
  }, 600_000);

  it('a +1σ shift of one feature: FeatureDriftDetected names it, delivered through Alertmanager', async () => {
    const id = shifted.detectorId;
    const feature = FEATURES[SHIFTED];
    const { windows } = DEFAULT_PERSISTENCE;
    const sent = await streamRows(api, id, {
      rate: 200,
      seconds: (windows * WINDOW) / 200,
      shift: { feature: SHIFTED, sigma: 1 },
      seed: 42,
    });
    expect(sent.rowsAccepted, describeCounts(sent)).toBe(windows * WINDOW);
    const latest = await eventually(
      'a report where the shifted feature persisted',
      async () => (await reports(id)).find((r) => r.result.persistence.features.some((f) => f.name === feature)),
      240_000,
      2000,
    );
    const f = latest.result.features[SHIFTED]!;
    console.log(
      `  shifted: window ${latest.windowIndex}: ${feature} KS p ${f.ksPValue.toExponential(2)}, Holm ${f.pValueHolm.toExponential(2)}, ` +
        `mean shift ${f.meanShiftSigma.toFixed(2)} σ; persistent features ${latest.result.persistence.features.map((x) => x.name).join(', ')}`,
    );
    expect(f).toMatchObject({ name: feature, drifted: true });
    expect(f.pValueHolm).toBeLessThanOrEqual(latest.result.thresholds.featureAlpha);
    expect(f.meanShiftSigma).toBeGreaterThan(0.7);
    expect(f.meanShiftSigma).toBeLessThan(1.3);

    const firing = await eventually(
      'FeatureDriftDetected firing in Prometheus for the shifted feature',
      async () =>
        (await promAlerts(e.prometheusUrl, 'FeatureDriftDetected')).find(
          (a) => a.labels.detector_id === id && a.labels.feature === feature && a.state === 'firing',
        ),
      240_000,
      2000,
    );
    expect(firing.labels).toMatchObject({ severity: 'warning', service: 'drift-worker' });
    await eventually(
      'FeatureDriftDetected in Alertmanager',
      async () => {
        const filter = encodeURIComponent('alertname="FeatureDriftDetected"');
        const list = (await (await fetch(`${e.alertmanagerUrl}/api/v2/alerts?filter=${filter}`)).json()) as {
          labels: Record<string, string>;
        }[];
        return list.find((a) => a.labels.detector_id === id && a.labels.feature === feature);
      },
      60_000,
    );
    const delivered = await eventually(
      'FeatureDriftDetected delivered to the API alert history',
      async () => {
        const r = await api.expect<{ items: AlertItem[] }>(200, 'GET', '/api/v1/alerts?status=firing&limit=500');
        return r.body.items.find(
          (a) => a.alertname === 'FeatureDriftDetected' && a.labels.detector_id === id && a.labels.feature === feature,
        );
      },
      180_000,
      2000,
    );
    console.log(`  delivered: ${delivered.alertname} ${JSON.stringify(delivered.labels)} at ${delivered.receivedAt}`);
    // Only the shifted feature is named.
    const others = (await promAlerts(e.prometheusUrl, 'FeatureDriftDetected')).filter(
      (a) => a.labels.detector_id === id && a.labels.feature !== feature,
    );
    expect(others).toEqual([]);
  }, 600_000);
});
