// Reading back what the stack recorded: spans in the trace backend (with kind, parent and
// attributes, looked up by trace id through its query API), series in Prometheus by name and job, a text exposition
// value, and JSON log lines.
import { profileSecret } from '../../compose/local/components.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promQuery } from './stack-clients.js';

export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

function attrValue(v: OtlpValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue ?? '';
}

const KINDS: Record<string, number> = {
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

/** OTLP JSON ids are hex; protojson would give base64: accept both. */
function hexId(id: string | undefined, hexLength: number): string {
  if (!id) return '';
  if (id.length === hexLength && /^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number | string;
        attributes?: { key: string; value: OtlpValue }[];
      }[];
    }[];
  }[];
}

/**
 * One trace as the trace backend (Jaeger) stores it, through its query API (api/v3 answers in
 * OTLP JSON); empty while it does not have the trace.
 */
export async function traceSpans(queryUrl: string, traceId: string): Promise<StoredSpan[]> {
  const res = await fetch(`${queryUrl}/api/v3/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`trace backend query for ${traceId} answered ${res.status}: ${await res.text()}`);
  const doc = ((await res.json()) as { result?: OtlpTraces }).result ?? {};
  const out: StoredSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const service = String(attrValue(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}));
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hexId(s.traceId, 32),
          spanId: hexId(s.spanId, 16),
          parentSpanId: hexId(s.parentSpanId, 16),
          name: s.name,
          service,
          kind: typeof s.kind === 'string' ? (KINDS[s.kind] ?? 0) : (s.kind ?? 0),
          attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, attrValue(a.value)])),
        });
      }
    }
  }
  return out;
}

/** Several traces by id (a few requests at a time; an id the backend lacks maps to []). */
export async function spansOf(queryUrl: string, traceIds: Iterable<string>): Promise<Map<string, StoredSpan[]>> {
  const ids = [...new Set(traceIds)];
  const out = new Map<string, StoredSpan[]>();
  for (let i = 0; i < ids.length; i += 8) {
    const chunk = ids.slice(i, i + 8);
    const got = await Promise.all(chunk.map((id) => traceSpans(queryUrl, id)));
    chunk.forEach((id, j) => out.set(id, got[j]!));
  }
  return out;
}

/** Metric name → jobs reporting it, for the names matching `nameRegex`. */
export async function jobsByName(prometheusUrl: string, nameRegex = '.+'): Promise<Map<string, Set<string>>> {
  const rows = await promQuery(prometheusUrl, `count by (__name__, job) ({__name__=~"${nameRegex}"})`);
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const name = r.metric.__name__!;
    const set = out.get(name) ?? new Set<string>();
    set.add(r.metric.job ?? '');
    out.set(name, set);
  }
  return out;
}

/** Sum of every sample of `name` (any labels matching `labelFilter`) in a text exposition. */
export async function exposedValue(url: string, name: string, labelFilter?: RegExp): Promise<number> {
  // The services' metrics endpoints take the scrape token (the Collector's ignore it).
  const headers = { authorization: `Bearer ${profileSecret('test', 'scrape-token')}` };
  const text = await (await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter && !labelFilter.test(line)) continue;
    sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** Parsed JSON lines of every *.log file in a component's log directory. */
export function logLines(dir: string): Record<string, unknown>[] {
  if (!existsSync(dir)) return [];
  const out: Record<string, unknown>[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line cut by a concurrent write is not a log line yet.
      }
    }
  }
  return out;
}

/** Active alerts in Prometheus (state pending or firing) with this name. */
export async function promAlerts(
  prometheusUrl: string,
  alertname: string,
): Promise<{ labels: Record<string, string>; state: string; activeAt: string }[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/alerts`);
  const body = (await res.json()) as {
    data: { alerts: { labels: Record<string, string>; state: string; activeAt: string }[] };
  };
  return body.data.alerts.filter((a) => a.labels.alertname === alertname);
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
