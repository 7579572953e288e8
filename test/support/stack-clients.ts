// Small clients for the real parts, used by the e2e tests: Prometheus HTTP API, Alertmanager
// API, the trace backend's files.

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

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

export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
}

interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: {
      spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number }[];
    }[];
  }[];
}

function flattenOtlp(doc: OtlpTraces): StoredSpan[] {
  const out: StoredSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        out.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          service,
          kind: span.kind ?? 0,
        });
      }
    }
  }
  return out;
}

/**
 * One trace as the trace backend (Jaeger v2) stores it, read through its query API (api/v3
 * answers in OTLP JSON). Empty when Jaeger does not have it (yet).
 */
export async function traceBackendTrace(queryUrl: string, traceId: string): Promise<StoredSpan[]> {
  const res = await fetch(`${queryUrl}/api/v3/traces/${traceId}`);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Jaeger query for trace ${traceId} answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { result?: OtlpTraces };
  return flattenOtlp(body.result ?? {});
}

/** Several traces at once, by trace id (ids Jaeger does not have map to no entry). */
export async function traceBackendSpans(queryUrl: string, traceIds: string[]): Promise<Map<string, StoredSpan[]>> {
  const out = new Map<string, StoredSpan[]>();
  for (const id of traceIds) {
    const spans = await traceBackendTrace(queryUrl, id);
    if (spans.length) out.set(id, spans);
  }
  return out;
}
