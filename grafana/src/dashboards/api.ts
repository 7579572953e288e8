import { type DashboardBody, ENV, LOGS_ENV, logs, q, stat, timeseries } from '../lib.js';
import {
  AVAILABILITY_SLO,
  BURN_RATE_ALERTS,
  ERROR_RATIO,
  ERROR_RATIO_WINDOWS,
  LATENCY_SLO,
  SLOW_RATIO,
  SLOW_RATIO_WINDOWS,
  percent,
} from '../../../services/shared/src/metrics/slo.js';
import { API_SEL, HTTP, RI } from '../selectors.js';

const { fast, slow, latency } = BURN_RATE_ALERTS;
const BUDGET = AVAILABILITY_SLO.errorBudget;
const PERIOD = AVAILABILITY_SLO.period;
const DAYS = Number.parseInt(PERIOD, 10);
const LATENCY_MS = `${LATENCY_SLO.thresholdSeconds * 1000} ms`;
/** "1h" → "1 h", for texts. */
const spaced = (window: string) => window.replace(/^(\d+)/, '$1 ');

export default function api(): DashboardBody {
  return {
    title: 'Pynomaly / API',
    description: `RED metrics of the API and its SLOs: ${percent(AVAILABILITY_SLO.target)} of requests without 5xx, ${percent(LATENCY_SLO.target)} under ${LATENCY_MS} (${DAYS} days).`,
    panels: [
      timeseries({
        title: 'Request rate by route',
        description: 'Requests per second per route.',
        unit: 'reqps',
        queries: [q(`sum by (http_route) (rate(${HTTP}_count{${API_SEL}}[${RI}]))`, '{{http_route}}')],
      }),
      timeseries({
        title: 'Errors by status',
        description: '4xx and 5xx responses per second.',
        unit: 'reqps',
        queries: [
          q(
            `sum by (http_response_status_code) (rate(${HTTP}_count{${API_SEL},http_response_status_code=~"[45].."}[${RI}]))`,
            '{{http_response_status_code}}',
          ),
        ],
      }),
      timeseries({
        title: 'Latency quantiles',
        description: 'Request duration p50/p95/p99 over all routes.',
        unit: 's',
        queries: [0.5, 0.95, 0.99].map((quantile) =>
          q(
            `histogram_quantile(${quantile}, sum by (le) (rate(${HTTP}_bucket{${API_SEL}}[${RI}])))`,
            `p${quantile * 100}`,
          ),
        ),
      }),
      timeseries({
        title: 'Auth decisions by key and outcome',
        description:
          'Authentication/authorisation decisions per second by key name: forbidden = a known key without the scope; unauthenticated = no or unknown key; throttled = an address refused after too many failures.',
        unit: 'reqps',
        queries: [
          q(`sum by (key, outcome) (rate(pynomaly_auth_decisions_total{${API_SEL}}[${RI}]))`, '{{key}} {{outcome}}'),
        ],
      }),
      timeseries({
        title: 'p95 latency by route (5m)',
        description: 'Recorded p95 per route.',
        unit: 's',
        queries: [q(`environment_job_route:http_server_request_duration_seconds:p95_5m{${API_SEL}}`, '{{http_route}}')],
      }),
      timeseries({
        title: 'Error ratio per SLO window',
        description: `Share of 5xx over the burn-rate windows the alerts use; the budget is ${percent(BUDGET)}.`,
        unit: 'percentunit',
        queries: ERROR_RATIO_WINDOWS.map((w) => q(`${ERROR_RATIO}:ratio_rate${w}{${API_SEL}}`, w)),
      }),
      timeseries({
        title: 'Error budget burn rate',
        description:
          `Error ratio divided by the budget: 1 spends it exactly in ${DAYS} days; ` +
          `${fast.factor} (${spaced(fast.longWindow)} and ${spaced(fast.shortWindow)}) pages, ` +
          `${slow.factor} (${spaced(slow.longWindow)} and ${spaced(slow.shortWindow)}) tickets.`,
        unit: 'suffix:×',
        queries: [fast.shortWindow, fast.longWindow, slow.longWindow].map((w) =>
          q(`${ERROR_RATIO}:ratio_rate${w}{${API_SEL}} / ${BUDGET}`, w),
        ),
      }),
      timeseries({
        title: `Slow request ratio (> ${LATENCY_MS})`,
        description: `Share of requests over the ${LATENCY_MS} objective; at most ${percent(LATENCY_SLO.budget)}, the alert fires at ${percent(latency.factor * latency.budget)}.`,
        unit: 'percentunit',
        queries: SLOW_RATIO_WINDOWS.map((w) => q(`${SLOW_RATIO}:ratio_rate${w}{${API_SEL}}`, w)),
      }),
      stat({
        title: `Availability (${DAYS} d)`,
        description: `Share of requests without 5xx over ${DAYS} days (objective ${percent(AVAILABILITY_SLO.target)}).`,
        unit: 'percentunit',
        queries: [
          q(
            `1 - sum(increase(${HTTP}_count{${API_SEL},http_response_status_code=~"5.."}[${PERIOD}])) / sum(increase(${HTTP}_count{${API_SEL}}[${PERIOD}]))`,
            'availability',
          ),
        ],
      }),
      stat({
        title: `Error budget left (${DAYS} d)`,
        description: `Share of the ${DAYS}-day budget of ${percent(BUDGET)} 5xx not yet spent.`,
        unit: 'percentunit',
        queries: [
          q(
            `1 - (sum(increase(${HTTP}_count{${API_SEL},http_response_status_code=~"5.."}[${PERIOD}])) / sum(increase(${HTTP}_count{${API_SEL}}[${PERIOD}]))) / ${BUDGET}`,
            'budget left',
          ),
        ],
      }),
      timeseries({
        title: 'Span rate by operation',
        description: 'Server and internal spans per second (spanmetrics connector).',
        unit: 'ops',
        queries: [q(`sum by (span_name) (rate(traces_span_metrics_calls_total{${API_SEL}}[${RI}]))`, '{{span_name}}')],
      }),
      timeseries({
        title: 'Span p95 by operation',
        description: 'p95 span duration per operation (spanmetrics connector).',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, span_name) (rate(traces_span_metrics_duration_seconds_bucket{${API_SEL}}[${RI}])))`,
            '{{span_name}}',
          ),
        ],
      }),
      timeseries({
        title: 'API memory',
        description: 'Resident memory of the API process.',
        unit: 'bytes',
        queries: [q(`process_resident_memory_bytes{${ENV},job="api"}`, '{{instance}}')],
      }),
      timeseries({
        title: 'API event loop lag p99',
        description: 'Node.js event loop lag, p99.',
        unit: 's',
        queries: [q(`nodejs_eventloop_lag_p99_seconds{${ENV},job="api"}`, '{{instance}}')],
      }),
      logs({
        title: 'API errors (log store)',
        description:
          'Error and fatal log lines of the API from the log store, newest first; open a line for its fields and its trace.',
        query: `service.name:="pynomaly-api" ${LOGS_ENV} severity_text:in("error","fatal")`,
      }),
    ],
  };
}
