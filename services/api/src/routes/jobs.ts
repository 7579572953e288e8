import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Job } from '@pynomaly/shared';
import { z } from 'zod';
import { ApiError, notFound } from '../errors.js';
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

  app.post(
    '/api/v1/jobs/:id/cancel',
    {
      schema: {
        'x-scope': 'write',
        tags: ['training'],
        summary:
          'Cancel a queued or running job (202 + the cancelled job; a running training stops within TRAINING_PROGRESS_INTERVAL_SECONDS)',
        params: uuidParam,
        body: z.object({}).strict().nullish(),
        response: { 202: jobResponse },
      },
    },
    async (request, reply) => {
      const cancelled = await store.cancelJob(request.params.id);
      if (cancelled) return reply.status(202).send(toJobResponse(cancelled));
      const job = await store.getJob(request.params.id);
      if (!job) throw notFound('job', request.params.id);
      throw new ApiError(409, 'job_finished', `job ${job.id} has already finished (${job.state}); nothing to cancel`);
    },
  );
};
