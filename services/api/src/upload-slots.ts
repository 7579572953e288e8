/**
 * At most `max` dataset uploads are read, parsed and stored at once. Each holds its body and its
 * parsed matrix (tens of MiB at the byte limits), so a burst of uploads would otherwise multiply
 * that by the number of clients; the ones over the bound are refused with 429 before their body
 * is read, and the client retries.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const holding = new WeakSet<FastifyRequest>();

export function limitConcurrentUploads(app: FastifyInstance, routes: ReadonlySet<string>, max: number): void {
  let inFlight = 0;
  const release = async (request: FastifyRequest) => {
    if (holding.delete(request)) inFlight--;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || !routes.has(request.routeOptions.url ?? '')) return;
    if (inFlight >= max) {
      reply.header('retry-after', '2');
      throw new ApiError(
        429,
        'too_many_uploads',
        `${max} dataset uploads are already being processed (API_MAX_CONCURRENT_UPLOADS); retry shortly`,
      );
    }
    inFlight++;
    holding.add(request);
  });
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
}
