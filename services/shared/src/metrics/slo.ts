/**
 * The API's service-level objectives, the burn-rate alerts on them and the job selectors that
 * alerts and dashboards share. One source: the dashboards (grafana/src/dashboards/) build their
 * queries and texts from it, and test/configs/prometheus.test.ts checks that the rules Prometheus
 * reads (prometheus/rules/*.yml, plain YAML) say exactly the same.
 */

/** The API's job label: `api` locally and in compose, `<namespace>/api` when relabelled. */
export const API_JOB_SELECTOR = 'job=~".*api"';
/** Both workers' scrape jobs. */
export const WORKER_JOB_SELECTOR = 'job=~"training-worker|drift-worker"';

/** Availability: at most 0.1 % of API requests answered with 5xx, over 30 days. */
export const AVAILABILITY_SLO = { target: 0.999, errorBudget: 0.001, period: '30d' } as const;
/** Latency: at least 99 % of API requests within 500 ms (a histogram bucket bound). */
export const LATENCY_SLO = { thresholdSeconds: 0.5, target: 0.99, budget: 0.01 } as const;

/** Windows over which the error ratio is recorded (prometheus/rules/recording.yml). */
export const ERROR_RATIO_WINDOWS = ['5m', '30m', '1h', '6h'] as const;
/** Windows over which the slow-request ratio is recorded. */
export const SLOW_RATIO_WINDOWS = ['5m', '1h'] as const;

/** Recorded ratio series (without the `:ratio_rate<window>` suffix). */
export const ERROR_RATIO = 'environment_job:http_server_request_errors';
export const SLOW_RATIO = 'environment_job:http_server_request_slow';

export interface BurnRateAlert {
  readonly alert: string;
  /** Recorded ratio series the alert compares (ERROR_RATIO or SLOW_RATIO). */
  readonly ratio: string;
  /** The share of requests the objective allows to be bad. */
  readonly budget: number;
  /** How many times faster than sustainable the budget is burning. */
  readonly factor: number;
  readonly longWindow: string;
  readonly shortWindow: string;
}

/**
 * Multiwindow, multi-burn-rate alerts: 14.4x burns 2 % of a 30-day budget in 1 h (page), 6x burns
 * 5 % in 6 h (ticket); the short window makes an alert stop soon after the burn stops.
 */
export const BURN_RATE_ALERTS = {
  fast: {
    alert: 'ApiErrorBudgetBurnFast',
    ratio: ERROR_RATIO,
    budget: AVAILABILITY_SLO.errorBudget,
    factor: 14.4,
    longWindow: '1h',
    shortWindow: '5m',
  },
  slow: {
    alert: 'ApiErrorBudgetBurnSlow',
    ratio: ERROR_RATIO,
    budget: AVAILABILITY_SLO.errorBudget,
    factor: 6,
    longWindow: '6h',
    shortWindow: '30m',
  },
  latency: {
    alert: 'ApiLatencySLOBreach',
    ratio: SLOW_RATIO,
    budget: LATENCY_SLO.budget,
    factor: 6,
    longWindow: '1h',
    shortWindow: '5m',
  },
} as const satisfies Record<string, BurnRateAlert>;

/** The alert expression of a burn-rate alert, as written in prometheus/rules/alerts.yml. */
export function burnRateExpr(a: BurnRateAlert): string {
  const over = (window: string) => `${a.ratio}:ratio_rate${window}{${API_JOB_SELECTOR}} > (${a.factor} * ${a.budget})`;
  return `${over(a.longWindow)}\nand\n${over(a.shortWindow)}`;
}

/** A share as a percentage for texts: 0.001 → "0.1 %". */
export function percent(share: number): string {
  return `${Number((share * 100).toPrecision(6))} %`;
}
