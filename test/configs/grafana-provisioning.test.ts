/**
 * Grafana provisioning, offline: every datasource file in grafana/provisioning/datasources/ is valid
 * against the provisioning schema (test/configs/schemas/grafana-datasources.schema.json: Grafana's
 * documented format and the jsonData of the types we provision, unknown keys refused); uids are
 * unique; every link between datasources (trace → logs, logs → trace, exemplar → trace) and every
 * datasource a generated dashboard names points to a provisioned uid of the right type.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dsDir = join(root, 'grafana', 'provisioning', 'datasources');
const schema = JSON.parse(
  readFileSync(join(root, 'test', 'configs', 'schemas', 'grafana-datasources.schema.json'), 'utf8'),
) as object;

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: {
    exemplarTraceIdDestinations?: { name: string; datasourceUid?: string }[];
    tracesToLogsV2?: { datasourceUid: string; query?: string };
    derivedFields?: { name: string; datasourceUid?: string; matcherType?: string; matcherRegex: string }[];
  };
}

const files = readdirSync(dsDir).filter((f) => /\.ya?ml$/.test(f));
const docs = files.map(
  (f) => [f, parse(readFileSync(join(dsDir, f), 'utf8')) as { datasources: Datasource[] }] as const,
);
const datasources = docs.flatMap(([, d]) => d.datasources ?? []);
const byUid = new Map(datasources.map((d) => [d.uid, d]));

/** Every datasource a dashboard JSON refers to ({type, uid} objects anywhere in it). */
function dashboardRefs(node: unknown, out: { type?: string; uid: string }[] = []): { type?: string; uid: string }[] {
  if (Array.isArray(node)) for (const n of node) dashboardRefs(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.datasource && typeof o.datasource === 'object' && typeof (o.datasource as { uid?: unknown }).uid === 'string')
      out.push(o.datasource as { type?: string; uid: string });
    for (const v of Object.values(o)) dashboardRefs(v, out);
  }
  return out;
}

describe('Grafana datasource provisioning', () => {
  it.each(docs.map(([f, d]) => [f, d] as const))('%s is valid against the provisioning schema', (_f, doc) => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const ok = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema refuses what Grafana would silently ignore or misread', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const good = docs[0]![1];
    const bad = [
      { ...good, datasources: [{ ...datasources[0]!, jsonData: { tracesToLogs: {} } }] },
      {
        apiVersion: 1,
        datasources: [{ name: 'x', type: 'jaeger', uid: 'x', access: 'proxy', url: 'trace-backend:16686' }],
      },
      { apiVersion: 1, datasources: [{ name: 'x', type: 'loki', uid: 'x', access: 'proxy', url: 'http://loki:3100' }] },
    ];
    for (const doc of bad) expect(validate(doc), JSON.stringify(doc)).toBe(false);
  });

  it('provisions Prometheus, Jaeger and the log store, each uid once, one default', () => {
    expect(datasources.map((d) => d.type).sort()).toEqual(['jaeger', 'prometheus', 'victoriametrics-logs-datasource']);
    expect(byUid.size).toBe(datasources.length);
    expect(datasources.filter((d) => (d as { isDefault?: boolean }).isDefault)).toHaveLength(1);
  });

  it('links traces to logs, logs to traces and exemplars to traces, each to a provisioned uid of the right type', () => {
    const links: [string, string | undefined, string][] = [];
    for (const d of datasources) {
      for (const e of d.jsonData?.exemplarTraceIdDestinations ?? [])
        links.push([`${d.uid} exemplar ${e.name}`, e.datasourceUid, 'jaeger']);
      if (d.jsonData?.tracesToLogsV2)
        links.push([
          `${d.uid} tracesToLogsV2`,
          d.jsonData.tracesToLogsV2.datasourceUid,
          'victoriametrics-logs-datasource',
        ]);
      for (const f of d.jsonData?.derivedFields ?? [])
        links.push([`${d.uid} derived field ${f.name}`, f.datasourceUid, 'jaeger']);
    }
    // All three directions exist.
    expect(links.map(([n]) => n.split(' ').slice(1, 2)[0])).toEqual(
      expect.arrayContaining(['exemplar', 'tracesToLogsV2', 'derived']),
    );
    for (const [name, uid, type] of links) {
      expect(uid, `${name} names a datasource`).toBeDefined();
      expect(byUid.get(uid!)?.type, `${name} → ${uid}`).toBe(type);
    }
  });

  it('the trace → logs query and the logs → trace field use the field the log store keeps the trace id in', () => {
    const jaeger = datasources.find((d) => d.type === 'jaeger')!;
    expect(jaeger.jsonData?.tracesToLogsV2?.query).toContain('trace_id:');
    expect(jaeger.jsonData?.tracesToLogsV2?.query).toContain('${__trace.traceId}');
    const logs = datasources.find((d) => d.type === 'victoriametrics-logs-datasource')!;
    expect(logs.jsonData?.derivedFields).toEqual(
      expect.arrayContaining([expect.objectContaining({ matcherType: 'label', matcherRegex: 'trace_id' })]),
    );
  });

  it('every datasource a generated dashboard names is provisioned, with the same type', () => {
    const dir = join(root, 'grafana', 'dashboards');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const refs = dashboardRefs(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      expect(refs.length, f).toBeGreaterThan(0);
      for (const r of refs) {
        expect(byUid.has(r.uid), `${f}: datasource ${r.uid}`).toBe(true);
        if (r.type) expect(byUid.get(r.uid)?.type, `${f}: ${r.uid}`).toBe(r.type);
      }
    }
  });

  it('points at the compose/k8s service names of the stores', () => {
    expect(datasources.map((d) => d.url).sort()).toEqual([
      'http://log-store:9428',
      'http://prometheus:9090',
      'http://trace-backend:16686',
    ]);
  });
});
