// Small clients for the real parts, used by the e2e tests: Prometheus HTTP API, Alertmanager
// API, the trace backend's files.

export { eventually, sleep } from '../../testkit/wait.js';

export interface PromTarget {
  labels: Record<string, string>;
  scrapePool: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  scrapeUrl: string;
}

export async function promTargets(prometheusUrl: string): Promise<PromTarget[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
  const body = (await res.json()) as { data: { activeTargets: PromTarget[] } };
  return body.data.activeTargets;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function promQuery(prometheusUrl: string, query: string): Promise<PromSample[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error}`);
  return body.data.result;
}
