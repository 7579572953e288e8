/**
 * The API's HTTP server telemetry, from fastify's own hooks: one SERVER span per request, named
 * `METHOD route` and parented on the caller's traceparent, and http.server.request.duration with
 * the catalog's labels (method, status code, route), both per the stable HTTP semantic conventions.
 *
 * Why not the OTel HTTP instrumentation: it patches every server's 'request' event, parses the URL
 * and headers into attributes fastify already has, and binds the request's and the response's
 * event emitters to the span's context (every listener wrapped), which together cost about a tenth
 * of a /detect request's CPU. Fastify knows the route and the status; what the emitter binding
 * guaranteed, that the handler runs in the span's context after the body has been read from the
 * socket, one preValidation hook guarantees here.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { instruments } from '@pynomaly/shared';

export interface RequestTelemetry {
  span: Span;
  /** The caller's context with the server span active: what the request's own work runs in. */
  context: Context;
  /** The request method as the conventions name it (`_OTHER` for one they do not). */
  method: string;
  ended: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    telemetry: RequestTelemetry | null;
  }
}

/** Methods the conventions name; anything else is `_OTHER`, so a client cannot mint series. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

export interface ServerSpanOptions {
  /** Requests neither traced nor measured: probes and scrapes would drown the traces of real work. */
  untraced: RegExp;
}

/**
 * Attribute sets of http.server.request.duration, one object per (method, status, route): the
 * set is bounded by the route table, and reusing it spares an allocation per request.
 */
class DurationAttributes {
  private readonly sets = new Map<string, Attributes>();

  get(method: string, status: number, route: string | undefined): Attributes {
    const key = `${method} ${status} ${route ?? ''}`;
    let attrs = this.sets.get(key);
    if (!attrs) {
      attrs = {
        'http.request.method': method,
        'http.response.status_code': status,
        ...(route ? { 'http.route': route } : {}),
      };
      this.sets.set(key, attrs);
    }
    return attrs;
  }
}

function pathAndQuery(url: string): { path: string; query: string | undefined } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: undefined } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

export function installServerSpans(app: FastifyInstance, opts: ServerSpanOptions): void {
  const tracer = trace.getTracer('pynomaly-http-server');
  const durationAttributes = new DurationAttributes();
  app.decorateRequest('telemetry', null);

  const finish = (request: FastifyRequest, status: number | undefined, elapsedMs: number) => {
    const t = request.telemetry;
    if (!t || t.ended) return;
    t.ended = true;
    if (status === undefined) {
      // The client went away before an answer was written.
      t.span.setAttribute('error.type', 'request_aborted');
      t.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
    } else {
      t.span.setAttribute('http.response.status_code', status);
      // Server spans mark only 5xx as errors: a 4xx is the client's mistake, answered correctly.
      if (status >= 500) {
        t.span.setAttribute('error.type', String(status));
        t.span.setStatus({ code: SpanStatusCode.ERROR });
      }
      instruments().httpServerDuration.record(
        elapsedMs / 1000,
        durationAttributes.get(t.method, status, request.routeOptions.url),
      );
    }
    t.span.end();
  };

  // Registered before every other hook, so all of them run inside the span.
  app.addHook('onRequest', (request, _reply, done) => {
    if (opts.untraced.test(request.url)) return done();
    const route = request.routeOptions.url;
    const known = KNOWN_METHODS.has(request.method);
    const method = known ? request.method : '_OTHER';
    const { path, query } = pathAndQuery(request.url);
    const attributes: Attributes = {
      'http.request.method': method,
      'url.path': path,
      'url.scheme': request.protocol,
      'server.address': request.hostname,
      'network.protocol.version': request.raw.httpVersion,
      'client.address': request.ip,
    };
    if (!known) attributes['http.request.method_original'] = request.method;
    if (route) attributes['http.route'] = route;
    if (query !== undefined) attributes['url.query'] = query;
    if (request.port) attributes['server.port'] = request.port;
    const agent = request.headers['user-agent'];
    if (agent) attributes['user_agent.original'] = agent;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(route ? `${method} ${route}` : method, { kind: SpanKind.SERVER, attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    request.telemetry = { span, context: ctx, method, ended: false };
    context.with(ctx, done);
  });

  // The body arrives in the socket's 'data' and 'end' events, and which context those run in is
  // up to Node's stream and parser internals, not to us. Validation, the handler and everything
  // they await start here: entering the span's context once more makes the handler's spans its
  // children whatever context the body was read in.
  app.addHook('preValidation', (request, _reply, done) => {
    const t = request.telemetry;
    if (t) context.with(t.context, done);
    else done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    finish(request, reply.statusCode, reply.elapsedTime);
    done();
  });

  app.addHook('onRequestAbort', (request, done) => {
    finish(request, undefined, 0);
    done();
  });
}

/** Runs `fn` in the request's span context (for work that fastify starts outside it, like logging on finish). */
export function inRequestContext<T>(request: FastifyRequest, fn: () => T): T {
  const t = request.telemetry;
  return t ? context.with(t.context, fn) : fn();
}
