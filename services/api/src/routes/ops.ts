/** Probes (public) and scrape endpoints (metrics:read: the scrape token, or a key with that scope, once one is set). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ScrapeMetrics, ScrapeView } from '@pynomaly/shared';
import { z } from 'zod';

export interface OpsRouteOptions {
  checks: Record<string, () => Promise<void>>;
  scrape: ScrapeMetrics;
  checkTimeoutMs?: number;
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

const readiness = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), z.object({ status: z.enum(['ok', 'fail']), error: z.string().optional() })),
});

export const opsRoutes: FastifyPluginAsyncZod<OpsRouteOptions> = async (app, opts) => {
  const timeout = opts.checkTimeoutMs ?? 3000;
  app.get(
    '/health/live',
    {
      config: { rateLimit: false },
      schema: { 'x-scope': 'public', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { rateLimit: false },
      schema: {
        'x-scope': 'public',
        tags: ['health'],
        summary: 'Ready when the API can serve: Postgres answers (Kafka may be away; events wait in the outbox)',
        response: { 200: readiness, 503: readiness },
      },
    },
    async (_request, reply) => {
      const entries = await Promise.all(
        Object.entries(opts.checks).map(async ([name, check]) => {
          try {
            await withTimeout(check(), timeout);
            return [name, { status: 'ok' as const }] as const;
          } catch (err) {
            return [name, { status: 'fail' as const, error: (err as Error).message }] as const;
          }
        }),
      );
      const checks = Object.fromEntries(entries);
      const ok = entries.every(([, c]) => c.status === 'ok');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
    },
  );

  const serve = (path: string, view: ScrapeView) =>
    app.get(
      path,
      { config: { rateLimit: false }, schema: { 'x-scope': 'metrics:read', tags: ['metrics'], hide: view !== 'all' } },
      async (request, reply) => {
        const { contentType, body } = await opts.scrape.render(view, request.headers.accept);
        return reply.header('content-type', contentType).send(body);
      },
    );
  serve('/api/metrics', 'all');
  serve('/api/metrics/business', 'business');
  serve('/api/metrics/models', 'models');
  serve('/api/metrics/drift', 'drift');
};
