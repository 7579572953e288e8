/**
 * One source of metric names: every metric a dashboard query or a Prometheus rule names is in the
 * metrics catalog (services/shared/src/metrics/catalog.ts), is a recording rule, or is on the
 * documented list of Collector/Kafka/Prometheus/Alertmanager/exporter metrics
 * (prometheus/external-metrics.yml); and every catalog metric is used by a dashboard or a rule
 * unless the catalog marks it internal.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRICS, RUNTIME_METRIC_PREFIXES, prometheusSeriesNames } from '../../services/shared/src/metrics/catalog.js';
import { metricNames, withGrafanaVariables } from '../../grafana/src/promql.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const readYaml = <T>(...p: string[]): T => parse(readFileSync(join(root, ...p), 'utf8')) as T;

type Rules = { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] };
const rules = ['recording.yml', 'alerts.yml'].flatMap((f) =>
  readYaml<Rules>('prometheus', 'rules', f).groups.flatMap((g) => g.rules),
);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

const flatten = (v: unknown): string[] =>
  typeof v === 'string'
    ? [v]
    : Array.isArray(v)
      ? v.flatMap(flatten)
      : v && typeof v === 'object'
        ? Object.values(v).flatMap(flatten)
        : [];
const external = new Set(flatten(readYaml('prometheus', 'external-metrics.yml')));

const dashboardsDir = join(root, 'grafana', 'dashboards');
const dashboardExprs = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => {
    const d = JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as {
      panels: { title: string; type: string; targets?: { expr: string }[] }[];
      templating: { list: { definition?: string }[] };
    };
    // Logs panels query the log store in LogsQL: no metric names there.
    const panelExprs = d.panels
      .filter((p) => p.type !== 'logs')
      .flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: `${f} / ${p.title}`, expr: withGrafanaVariables(t.expr) })),
      );
    // label_values(<selector>, label): the selector is PromQL too.
    const variableExprs = d.templating.list.flatMap((v) => {
      const m = v.definition?.match(/^label_values\((.*),\s*\w+\)$/);
      return m ? [{ where: `${f} / variable`, expr: withGrafanaVariables(m[1]!) }] : [];
    });
    return [...panelExprs, ...variableExprs];
  });
const ruleExprs = rules.map((r) => ({ where: `rule ${r.record ?? r.alert}`, expr: r.expr }));

const catalogSeries = new Map(METRICS.flatMap((m) => prometheusSeriesNames(m).map((s) => [s, m.promName] as const)));

/** The external list names histograms by base name; their series add _bucket/_sum/_count. */
const externalBase = (name: string) => external.has(name) || external.has(name.replace(/_(bucket|sum|count)$/, ''));

function known(name: string): boolean {
  return (
    catalogSeries.has(name) ||
    recorded.has(name) ||
    externalBase(name) ||
    RUNTIME_METRIC_PREFIXES.some((p) => name.startsWith(p))
  );
}

describe('metric names', () => {
  const uses = [...dashboardExprs, ...ruleExprs].flatMap(({ where, expr }) =>
    metricNames(expr).map((name) => ({ where, name })),
  );

  it('finds the metrics in queries and rules (the extraction works)', () => {
    expect(uses.length).toBeGreaterThan(50);
    expect(uses.map((u) => u.name)).toContain('http_server_request_duration_seconds_count');
    expect(metricNames('sum(rate(a_total{x="1"}[5m])) / on(job) b')).toEqual(['a_total', 'b']);
  });

  it('every metric named by a dashboard or rule is catalogued, recorded or on the external list', () => {
    const unknown = uses.filter((u) => !known(u.name)).map((u) => `${u.where}: ${u.name}`);
    expect(unknown).toEqual([]);
  });

  it('every catalog metric is used by a dashboard or rule, or marked internal', () => {
    const used = new Set(uses.map((u) => catalogSeries.get(u.name)).filter(Boolean));
    const unused = METRICS.filter((m) => !m.internal && !used.has(m.promName)).map((m) => m.promName);
    expect(unused).toEqual([]);
  });

  it('the external list does not shadow catalog names', () => {
    for (const name of external) expect(catalogSeries.has(name), name).toBe(false);
  });
});
