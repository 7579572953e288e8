/**
 * W3C trace context in Kafka headers. An explicit propagator (not the global one) so the headers
 * are written and read the same way whether or not the SDK is running.
 */
import { context, ROOT_CONTEXT, type Context, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { IHeaders } from 'kafkajs';

const propagator = new W3CTraceContextPropagator();

function headerValue(v: IHeaders[string]): string | undefined {
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return undefined;
  return Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

const kafkaHeaderGetter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => headerValue(carrier[key]),
};

/** Adds traceparent (and tracestate) of the given (default: active) context to the headers. */
export function injectTraceHeaders(
  headers: Record<string, string>,
  ctx: Context = context.active(),
): Record<string, string> {
  propagator.inject(ctx, headers, { set: (c, k, v) => (c[k] = v) });
  return headers;
}

/** The remote parent context carried by a message's headers (ROOT_CONTEXT-based when absent). */
export function extractTraceContext(headers: IHeaders | undefined): Context {
  return propagator.extract(ROOT_CONTEXT, headers ?? {}, kafkaHeaderGetter);
}

export function headerString(headers: IHeaders | undefined, key: string): string | undefined {
  return headers ? headerValue(headers[key]) : undefined;
}
