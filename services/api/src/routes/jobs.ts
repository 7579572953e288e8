import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Job } from '@pynomaly/shared';
import { notFound } from '../errors.js';
import { iso, jobResponse, uuidParam } from '../schemas.js';
import type { ApiStore } from '../store.js';

export const toJobResponse = (j: Job) => ({
  id: j.id,
  type: j.type,
  detectorId: j.detectorId,
  state: j.state,
  reason: j.reason,
  modelId: j.modelId,
  attempts: j.attempts,
  createdAt: iso(j.createdAt)!,
  startedAt: iso(j.startedAt),
  finishedAt: iso(j.finishedAt),
});

export const jobRoutes: FastifyPluginAsyncZod<{ store: ApiStore }> = async (app, { store }) => {
  app.get(
    '/api/v1/jobs/:id',
    {
      schema: {
        'x-scope': 'read',
        tags: ['training'],
        params: uuidParam,
        response: { 200: jobResponse },
      },
    },
    async (request) => {
      const job = await store.getJob(request.params.id);
      if (!job) throw notFound('job', request.params.id);
      return toJobResponse(job);
    },
  );
};
