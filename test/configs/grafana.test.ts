/**
 * Grafana dashboards as code (the JSON is current: test/configs/generated.test.ts): one per file, every
 * panel has a unit, the provisioned datasource and PromQL that parses with the Prometheus
 * grammar; rates use $__rate_interval; the variables and links are there.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardNames } from '../../grafana/src/dashboards.js';
import { DATASOURCE, LOGS_DATASOURCE, LOGS_ENV, dashboardUid } from '../../grafana/src/lib.js';
import { rangeSelectors, syntaxErrors, withGrafanaVariables } from '../../grafana/src/promql.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dashboardsDir = join(root, 'grafana', 'dashboards');

interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { expr: string; datasource?: { type?: string; uid: string } }[];
}
interface DashboardJson {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query?: { query: string } | string }[] };
  links?: { type: string; tags: string[] }[];
}

const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
const dashboards = files.map(
  (f) => [f, JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as DashboardJson] as const,
);
const allPanels = dashboards.flatMap(([file, d]) => d.panels.map((p) => [`${file} / ${p.title}`, p] as const));
/** Log panels query the log store in LogsQL; every other panel is Prometheus. */
const logPanels = allPanels.filter(([, p]) => p.type === 'logs');
const panels = allPanels.filter(([, p]) => p.type !== 'logs');
const queries = panels.flatMap(([name, p]) => (p.targets ?? []).map((t, i) => [`${name} #${i}`, t.expr] as const));

describe('generated dashboards', () => {
  it('are one JSON per dashboard file (grafana/src/dashboards/<name>.ts), uid pynomaly-<name>', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(dashboardNames());
    for (const [file, d] of dashboards) expect(d.uid, file).toBe(dashboardUid(file.replace(/\.json$/, '')));
  });

  it('include those of the design (adding one is adding its file: nothing here counts them)', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'api.json',
        'business.json',
        'collector.json',
        'drift.json',
        'models.json',
        'overview.json',
        'self-health.json',
        'workers-kafka.json',
      ]),
    );
  });

  it.each(dashboards.map(([f, d]) => [f, d] as const))(
    '%s has the environment variable, a link to the others, unique panel ids',
    (_f, d) => {
      expect(d.templating.list.map((v) => v.name)).toContain('environment');
      expect(d.links?.some((l) => l.type === 'dashboards' && l.tags.includes('pynomaly'))).toBe(true);
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
    },
  );

  it('use the detector variable wherever a query filters by it, and define it there', () => {
    for (const [file, d] of dashboards) {
      const usesDetector = d.panels.some((p) => (p.targets ?? []).some((t) => t.expr.includes('$detector')));
      expect(
        d.templating.list.some((v) => v.name === 'detector'),
        file,
      ).toBe(usesDetector);
    }
    expect(
      dashboards.filter(([, d]) => d.templating.list.some((v) => v.name === 'detector')).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it.each(panels)('%s: has a unit, the provisioned datasource and at least one query', (_name, p) => {
    expect(p.fieldConfig?.defaults?.unit).toBeTruthy();
    expect(p.datasource?.uid).toBe(DATASOURCE.uid);
    expect(p.targets?.length).toBeGreaterThan(0);
    for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe(DATASOURCE.uid);
  });

  it.each(logPanels)('%s: queries the log store in LogsQL, filtered on the environment', (_name, p) => {
    expect(p.datasource).toEqual(LOGS_DATASOURCE);
    expect(p.targets?.length).toBe(1);
    for (const t of p.targets ?? []) {
      expect(t.datasource).toEqual(LOGS_DATASOURCE);
      expect(t.expr).toContain(LOGS_ENV);
      expect(t.expr).toMatch(/service\.name:/);
    }
  });

  it('has a logs panel for API errors and one for failed jobs', () => {
    expect(logPanels.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^api\.json \/ API errors/),
        expect.stringMatching(/^workers-kafka\.json \/ Failed jobs/),
      ]),
    );
  });

  it.each(queries)('%s: parses as PromQL', (_name, expr) => {
    expect(syntaxErrors(withGrafanaVariables(expr))).toEqual([]);
  });

  it('the parser does reject broken PromQL', () => {
    expect(syntaxErrors('sum(rate(up[5m])')).not.toEqual([]);
    expect(syntaxErrors('up{job=}')).not.toEqual([]);
  });

  it.each(queries)('%s: rates use $__rate_interval', (_name, expr) => {
    // A sentinel duration stands in for the variable so the expression parses.
    const ranges = rangeSelectors(withGrafanaVariables(expr, { __rate_interval: '1337s' }));
    for (const r of ranges.filter((x) => x.fn === 'rate' || x.fn === 'irate')) expect(r.range).toBe('1337s');
  });

  it('the rate check sees a fixed window', () => {
    expect(rangeSelectors('sum(rate(x_total[5m]))')).toEqual([{ fn: 'rate', range: '5m' }]);
  });
});

describe('provisioning', () => {
  it('defines the datasource with the uid the dashboards use', () => {
    const ds = parse(readFileSync(join(root, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    };
    expect(ds.datasources).toEqual([expect.objectContaining({ uid: DATASOURCE.uid, type: 'prometheus' })]);
  });

  it('has a file provider for the generated dashboards', () => {
    const p = parse(readFileSync(join(root, 'grafana', 'provisioning', 'dashboards', 'pynomaly.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(p.providers[0]?.type).toBe('file');
    expect(p.providers[0]?.options.path).toBeTruthy();
  });
});
