import { type DashboardBody, ENV, q, stat, table, timeseries } from '../lib.js';
import { AVAILABILITY_SLO, percent } from '../../../services/shared/src/metrics/slo.js';
import { API_SEL, HTTP, RI } from '../selectors.js';

export default function overview(): DashboardBody {
  return {
    title: 'Pynomaly / Overview',
    description: 'Is Pynomaly healthy? Traffic, errors, targets, alerts, detections and drift at a glance.',
    panels: [
      stat({
        title: 'Targets up',
        description: 'Scrape targets answering, of all targets.',
        unit: 'none',
        queries: [q(`sum(up{${ENV}})`, 'up'), q(`count(up{${ENV}})`, 'total')],
      }),
      stat({
        title: 'Firing alerts',
        description: 'Alerts firing now, by severity (Watchdog is the always-on heartbeat).',
        unit: 'none',
        queries: [q('sum by (severity) (ALERTS{alertstate="firing"})', '{{severity}}')],
      }),
      stat({
        title: 'API 5xx ratio',
        description: `Share of API requests answered with 5xx (SLO: at most ${percent(AVAILABILITY_SLO.errorBudget)}).`,
        unit: 'percentunit',
        queries: [
          q(
            `sum(rate(${HTTP}_count{${API_SEL},http_response_status_code=~"5.."}[${RI}])) / sum(rate(${HTTP}_count{${API_SEL}}[${RI}]))`,
            '5xx',
          ),
        ],
      }),
      stat({
        title: 'Detectors drifted',
        description: 'Detectors whose latest drift report says the data drifted.',
        unit: 'none',
        queries: [q(`sum(pynomaly_drift_detected{${ENV}})`, 'drifted')],
      }),
      timeseries({
        title: 'API requests',
        description: 'Requests per second by job.',
        unit: 'reqps',
        queries: [q(`sum by (job) (rate(${HTTP}_count{${API_SEL}}[${RI}]))`, '{{job}}')],
      }),
      timeseries({
        title: 'Rows scored',
        description: 'Rows scored by detect requests, and rows labelled anomalous.',
        unit: 'suffix: rows/s',
        queries: [
          q(`sum(rate(pynomaly_detection_rows_total{${ENV}}[${RI}]))`, 'scored'),
          q(`sum(rate(pynomaly_detection_anomalies_total{${ENV}}[${RI}]))`, 'anomalous'),
        ],
      }),
      table({
        title: 'Running builds',
        description: 'Which version of each service runs where.',
        unit: 'none',
        queries: [q(`pynomaly_build_info{${ENV}}`, '{{service}} {{version}}')],
      }),
    ],
  };
}
