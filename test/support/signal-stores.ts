// Reading back a trace and its logs from the second trace backend and the log store, through
// their own query APIs: Zipkin's /api/v2/trace/<id> and VictoriaLogs' LogsQL /select/logsql/query.

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** One trace as Zipkin stores it; empty while Zipkin does not have it. */
export async function zipkinTrace(zipkinUrl: string, traceId: string): Promise<ZipkinSpan[]> {
  const res = await fetch(`${zipkinUrl}/api/v2/trace/${traceId}`, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Zipkin trace ${traceId} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as ZipkinSpan[];
}

/** Several traces by id from Zipkin (a few requests at a time; an id it lacks maps to []). */
export async function zipkinTraces(zipkinUrl: string, traceIds: Iterable<string>): Promise<Map<string, ZipkinSpan[]>> {
  const ids = [...new Set(traceIds)];
  const out = new Map<string, ZipkinSpan[]>();
  for (let i = 0; i < ids.length; i += 8) {
    const chunk = ids.slice(i, i + 8);
    const got = await Promise.all(chunk.map((id) => zipkinTrace(zipkinUrl, id)));
    chunk.forEach((id, j) => out.set(id, got[j]!));
  }
  return out;
}

/** A log record as VictoriaLogs returns it: `_msg`, `_time`, `_stream` and every field flat. */
export type StoredLog = Record<string, string>;

/** Records matching a LogsQL query (one JSON object per line in the answer). */
export async function logsQuery(logStoreUrl: string, query: string, limit = 10_000): Promise<StoredLog[]> {
  const body = new URLSearchParams({ query, limit: String(limit) });
  const res = await fetch(`${logStoreUrl}/select/logsql/query`, {
    method: 'POST',
    body,
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`log store query ${query} answered ${res.status}: ${await res.text()}`);
  return (await res.text())
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as StoredLog);
}

/** The log store's records of one trace. */
export function logsOfTrace(logStoreUrl: string, traceId: string): Promise<StoredLog[]> {
  return logsQuery(logStoreUrl, `trace_id:${JSON.stringify(traceId)}`);
}

/** The log store's records of several traces (LogsQL `in()`, a few hundred ids per query). */
export async function logsOfTraces(logStoreUrl: string, traceIds: Iterable<string>): Promise<StoredLog[]> {
  const ids = [...new Set(traceIds)];
  const out: StoredLog[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200).map((id) => JSON.stringify(id));
    out.push(...(await logsQuery(logStoreUrl, `trace_id:in(${chunk.join(',')})`)));
  }
  return out;
}
