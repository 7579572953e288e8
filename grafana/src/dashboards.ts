// Every Pynomaly dashboard: one file per dashboard in grafana/src/dashboards/, whose name is the
// output file (grafana/dashboards/<name>.json) and the uid (pynomaly-<name>). Adding a dashboard
// is adding a file there that default-exports a function returning its DashboardBody. Every metric
// a dashboard names is a Prometheus name from services/shared/src/metrics/catalog.ts, a recording
// rule from prometheus/rules/recording.yml, or listed in prometheus/external-metrics.yml
// (test/configs/catalog-usage.test.ts checks it).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { build, dashboardUid, type DashboardBody } from './lib.js';

const DIR = fileURLToPath(new URL('./dashboards/', import.meta.url));

/** Names of the dashboard files, sorted. */
export function dashboardNames(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -'.ts'.length))
    .sort();
}

/** Every dashboard, keyed by its output file name (grafana/dashboards/<key>.json). */
export async function allDashboards(): Promise<Record<string, Dashboard>> {
  const entries = await Promise.all(
    dashboardNames().map(async (name) => {
      const module = (await import(pathToFileURL(join(DIR, `${name}.ts`)).href)) as { default: () => DashboardBody };
      return [name, build({ uid: dashboardUid(name), ...module.default() })] as const;
    }),
  );
  return Object.fromEntries(entries);
}
