// Query fragments several dashboards share. The SLO selectors come from the constants the
// Prometheus rules are checked against, so alerts and dashboards select the same series.
import { API_JOB_SELECTOR, WORKER_JOB_SELECTOR } from '../../services/shared/src/metrics/slo.js';
import { ENV } from './lib.js';

export const RI = '$__rate_interval';
export const HTTP = 'http_server_request_duration_seconds';
export const API_SEL = `${ENV},${API_JOB_SELECTOR}`;
export const WORKERS = `${ENV},${WORKER_JOB_SELECTOR}`;
