/**
 * The Kubernetes list of dashboard files (k8s/base/kustomization.yaml, ConfigMap
 * grafana-dashboards), from the dashboard sources: adding a dashboard is adding its file in
 * grafana/src/dashboards/ and running `npm run generate`. Only the lines between the two marker
 * comments are written; the rest of the kustomization is kept as it is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardNames } from '../../grafana/src/dashboards.js';

export const KUSTOMIZATION = 'k8s/base/kustomization.yaml';
const BEGIN = '      # generated: one line per grafana/src/dashboards/*.ts (npm run generate)';
const END = '      # end of generated dashboard list';

export function renderDashboardList(root: string): string {
  const text = readFileSync(join(root, KUSTOMIZATION), 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${KUSTOMIZATION}: the dashboard list markers are missing`);
  const lines = dashboardNames().map((n) => `      - ${n}.json=../../grafana/dashboards/${n}.json`);
  return `${text.slice(0, start)}${[BEGIN, ...lines].join('\n')}\n${text.slice(end)}`;
}
