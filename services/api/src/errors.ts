/**
 * One error shape for every 4xx/5xx: { statusCode, error, code, message, issues? }. The message
 * names the offending field or header so a client can fix its request without reading logs.
 *
 * 400: the request is not shaped like the schema (malformed JSON, wrong types, missing fields).
 * 422: well-formed but impossible (non-finite numbers, ragged rows, feature-count mismatch).
 *
 * Whatever the request, an error response is small: at most `maxIssues` issues are listed (the
 * rest are counted in the message), each path and issue message is cut to ISSUE_PART_CHARS, and
 * the message to `messageBytes`. A body of a million bad values gets a 4 KiB answer.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { STATUS_CODES } from 'node:http';
import { DEFAULT_API_LIMITS, isTransientInfrastructureError } from '@pynomaly/shared';
import { OMITTED_ISSUES } from './schemas.js';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const NOT_FINITE = 'must be a finite number';

export const notFound = (what: string, id: string) => new ApiError(404, 'not_found', `${what} ${id} not found`);

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  issues?: { path: string; message: string }[];
}

export interface ErrorLimits {
  maxIssues: number;
  messageBytes: number;
}

export const DEFAULT_ERROR_LIMITS: ErrorLimits = {
  maxIssues: DEFAULT_API_LIMITS.maxIssues,
  messageBytes: DEFAULT_API_LIMITS.errorMessageBytes,
};

/** Longest path or message of one listed issue (a path can carry a client's key names). */
const ISSUE_PART_CHARS = 200;

const clip = (text: string, chars: number) => (text.length > chars ? `${text.slice(0, chars - 1)}…` : text);

/** `text` cut to at most `maxBytes` of UTF-8, marked with … when cut. */
export function clipBytes(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  // Decoding a cut buffer may end in a partial character (U+FFFD): drop it.
  const cut = Buffer.from(text.slice(0, maxBytes))
    .subarray(0, maxBytes - 3)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return `${cut}…`;
}

function errorBody(
  messageBytes: number,
  statusCode: number,
  code: string,
  message: string,
  issues?: ErrorBody['issues'],
): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    code,
    message: clipBytes(message, messageBytes),
    ...(issues ? { issues } : {}),
  };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

export function formatPath(context: string, path: readonly PropertyKey[]): string {
  let out = context;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    message: 'request body is larger than the limit',
  },
  FST_REQ_FILE_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'uploaded file is larger than the limit' },
  FST_PARTS_LIMIT: { status: 413, code: 'payload_too_large' },
  FST_FILES_LIMIT: { status: 413, code: 'payload_too_large' },
  FST_FIELDS_LIMIT: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'malformed_json',
    message: 'body: is empty but content-type is application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'expected multipart/form-data',
  },
};

const MULTIPART_PARSE_ERRORS =
  /Unexpected end of (form|multipart data)|Malformed part header|Boundary not found|Multipart: /;

function isMalformedMultipart(err: Error): boolean {
  return !('code' in err && err.code) && MULTIPART_PARSE_ERRORS.test(err.message);
}

/**
 * Fastify's own formatter joins every validation issue into one string before the error handler
 * runs; this one stays constant-size (the handler below builds the message that is sent).
 */
export const schemaErrorFormatter = (errors: readonly unknown[], dataVar: string): Error =>
  new Error(`${dataVar}: ${errors.length} validation issue(s)`);

export function installErrorHandler(app: FastifyInstance, limits: ErrorLimits = DEFAULT_ERROR_LIMITS): void {
  const body = (statusCode: number, code: string, message: string, issues?: ErrorBody['issues']) =>
    errorBody(limits.messageBytes, statusCode, code, message, issues);
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) {
      return reply
        .status(err.statusCode)
        .send(body(err.statusCode, err.code, err.message, err.issues?.slice(0, limits.maxIssues)));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const context = err.validationContext ?? 'body';
      const source = (request as unknown as Record<string, unknown>)[context];
      // A guard that stopped listing issues reports how many it left out in one marker issue.
      let omitted = 0;
      const listed = err.validation.filter((v) => {
        const count = (v.params as { params?: Record<string, unknown> } | undefined)?.params?.[OMITTED_ISSUES];
        if (typeof count === 'number') omitted += count;
        return typeof count !== 'number';
      });
      const shown = listed.slice(0, limits.maxIssues);
      const more = listed.length - shown.length + omitted;
      const issues = shown.map((v) => {
        const path: PropertyKey[] = v.instancePath
          .split('/')
          .filter((seg) => seg.length > 0)
          .map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
        const value = valueAt(source, path);
        const where = clip(formatPath(context, path), ISSUE_PART_CHARS);
        if (typeof value === 'number' && !Number.isFinite(value)) return { path: where, message: NOT_FINITE };
        return { path: where, message: clip(v.message ?? v.keyword, ISSUE_PART_CHARS) };
      });
      // 422 only when every issue is a non-finite number (the shape is right, the values impossible).
      const status = more === 0 && issues.every((i) => i.message === NOT_FINITE) ? 422 : 400;
      const message =
        issues.map((i) => `${i.path}: ${i.message}`).join('; ') +
        (more > 0 ? ` (and ${more} more issue${more === 1 ? '' : 's'})` : '');
      return reply
        .status(status)
        .send(body(status, status === 422 ? 'unprocessable' : 'validation_failed', message, issues));
    }
    if (isResponseSerializationError(err)) {
      request.log.error({ err }, 'response did not match its schema');
      return reply.status(500).send(body(500, 'internal', 'internal server error'));
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) {
      let message = known.message ?? err.message;
      if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') message = `body: malformed JSON (${err.message})`;
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && request.routeOptions.bodyLimit) {
        message = `body: is larger than the limit of ${request.routeOptions.bodyLimit} bytes for this endpoint`;
      }
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        message = `content-type ${request.headers['content-type'] ?? '(none)'} is not supported by this endpoint`;
      }
      return reply.status(known.status).send(body(known.status, known.code, message));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      if (err.statusCode === 429) {
        return reply.status(429).send(body(429, 'rate_limited', err.message));
      }
      return reply.status(err.statusCode).send(body(err.statusCode, 'bad_request', err.message));
    }
    if (isMalformedMultipart(err)) {
      // busboy reports a body that is not the multipart it claims to be with plain Errors.
      return reply.status(400).send(body(400, 'bad_request', `body: malformed multipart/form-data (${err.message})`));
    }
    if (
      isTransientInfrastructureError(err) ||
      (err instanceof AggregateError && err.errors.some(isTransientInfrastructureError))
    ) {
      request.log.warn({ err }, 'database unavailable');
      return reply
        .status(503)
        .header('retry-after', '5')
        .send(body(503, 'unavailable', 'the database is unavailable; retry shortly (nothing was stored)'));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(body(500, 'internal', 'internal server error'));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(body(404, 'not_found', `route ${request.method} ${request.url.split('?')[0]} not found`));
  });
}
