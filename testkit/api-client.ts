// The one client for the Pynomaly API in tests, the demo and the benchmarks, as its users call it
// (fetch + X-API-Key). Each call carries a W3C traceparent we chose, so a test knows the trace id
// of a request without asking the service, and can then look that trace up in the trace backend
// and the logs.
import { randomBytes } from 'node:crypto';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  traceId: string;
  headers: Headers;
}

export interface CallOptions {
  /** Reuse a trace id (a new span id is made); by default every call starts a new trace. */
  traceId?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export const newTraceId = () => randomBytes(16).toString('hex');

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
  ) {}

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<ApiResponse<T>> {
    const traceId = opts.traceId ?? newTraceId();
    const headers: Record<string, string> = {
      'x-api-key': this.apiKey,
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      ...opts.headers,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal ?? AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Non-JSON bodies (metrics, HTML docs) are returned as text.
    }
    return { status: res.status, body: parsed as T, traceId, headers: res.headers };
  }

  /** The response body of a call answered with 2xx; any other status is an error naming the response. */
  async ok<T = unknown>(method: string, path: string, body?: unknown, opts?: CallOptions): Promise<T> {
    const res = await this.call<T>(method, path, body, opts);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${method} ${path} -> ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    }
    return res.body;
  }

  /** Like call, but any status other than `expected` is an error naming the response. */
  async expect<T = unknown>(
    expected: number,
    method: string,
    path: string,
    body?: unknown,
    opts?: CallOptions,
  ): Promise<ApiResponse<T>> {
    const res = await this.call<T>(method, path, body, opts);
    if (res.status !== expected) {
      throw new Error(`${method} ${path}: expected ${expected}, got ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return res;
  }
}

export interface Job {
  id: string;
  detectorId: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  reason: string | null;
  modelId: string | null;
  attempts: number;
}

export interface Detector {
  id: string;
  latestModel: { id: string; version: number; threshold: number } | null;
}

export interface DriftReport {
  id: string;
  modelId: string;
  windowIndex: number;
  windowRows: number;
  datasetDrift: boolean;
  driftShare: number;
  scoreDrift: boolean;
}

export interface AlertItem {
  id: string;
  fingerprint: string;
  alertname: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  startsAt: string | null;
  endsAt: string | null;
  receivedAt: string;
}
