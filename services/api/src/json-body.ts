/**
 * The JSON body parser: the body's text is scanned for its nesting depth and the width of its
 * widest array or object before JSON.parse builds anything, so a body of millions of tiny
 * arrays or a 100 000-deep nesting costs one pass over bytes fastify already holds (bounded by
 * the route's bodyLimit), never the millions of objects a parse would allocate first.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

export interface JsonShapeLimits {
  maxDepth: number;
  /** Entries of the widest array or object. */
  maxItems: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The first limit the text breaks, or undefined. Malformed JSON is left for the parser to
 * report; this only counts brackets and commas outside strings.
 */
export function jsonShapeViolation(text: string, limits: JsonShapeLimits): string | undefined {
  // Commas seen at each open level: entries = commas + 1.
  const commas = new Uint32Array(limits.maxDepth + 1);
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      depth++;
      if (depth > limits.maxDepth) {
        return `body: JSON is nested deeper than ${limits.maxDepth} levels (API_JSON_MAX_DEPTH)`;
      }
      commas[depth] = 0;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth > 0) depth--;
    } else if (c === COMMA && depth > 0) {
      if (++commas[depth]! >= limits.maxItems) {
        return `body: a JSON array or object has more than ${limits.maxItems} entries (the largest row or column limit)`;
      }
    }
  }
  return undefined;
}

/** Replaces fastify's JSON parser with one that checks the shape first, then parses as before. */
export function installJsonBodyParser(app: FastifyInstance, limits: JsonShapeLimits): void {
  // The default parser keeps its protection against __proto__ / constructor.prototype keys.
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const violation = jsonShapeViolation(body as string, limits);
    if (violation) {
      done(new ApiError(413, 'payload_too_large', violation), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
