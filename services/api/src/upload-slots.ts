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
  const release = (request: FastifyRequest) => {
    if (holding.delete(request)) inFlight--;
  };
  // Callback-style hooks: they run on every request, and an async hook costs two promises each.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'POST' || !routes.has(request.routeOptions.url ?? '')) return done();
    if (inFlight >= max) {
      reply.header('retry-after', '2');
      return done(
        new ApiError(
          429,
          'too_many_uploads',
          `${max} dataset uploads are already being processed (API_MAX_CONCURRENT_UPLOADS); retry shortly`,
        ),
      );
    }
    inFlight++;
    holding.add(request);
    done();
  });
  app.addHook('onResponse', (request, _reply, done) => {
    release(request);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    release(request);
    done();
  });
}
