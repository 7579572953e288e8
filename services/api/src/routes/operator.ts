/**
 * The operator's tools (admin scope): jobs listed by state, detector and creation time with
 * cursor paging, a failed job retried, and dead-lettered messages listed, inspected (original
 * bytes, headers, reason), replayed through the outbox or discarded. `npm run ops` is a terminal
 * client of these routes (docs/operations.md "Jobs and dead letters").
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { repo, type DeadLetter, type ListCursor } from '@pynomaly/shared';
import { z } from 'zod';
import { ApiError, notFound } from '../errors.js';
import type { OperatorStore } from '../operator-store.js';
import { iso, jobResponse, uuidParam } from '../schemas.js';
import { toJobResponse } from './jobs.js';

const encodeCursor = (c: ListCursor | undefined) =>
  c ? Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url') : null;

const cursorShape = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);
/** An opaque cursor as the previous page returned it (nextCursor). */
const cursorParam = z.string().transform((s, ctx): ListCursor => {
  try {
    const [createdAt, id] = cursorShape.parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
    return { createdAt, id };
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'is not a cursor this API returned (use nextCursor of the previous page)',
    });
    return z.NEVER;
  }
});

const limit = z.coerce.number().int().min(1).max(200).default(50);
const time = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 time with an offset, e.g. 2026-01-31T12:00:00Z',
});

const jobsQuery = z
  .object({
    state: z.enum(repo.JOB_STATES).optional(),
    detectorId: z.uuid({ error: 'must be a UUID' }).optional(),
    createdFrom: time.optional(),
    createdTo: time.optional(),
    limit,
    cursor: cursorParam.optional(),
  })
  .strict();

const deadLettersQuery = z
  .object({
    state: z.enum(repo.DEAD_LETTER_STATES).optional(),
    topic: z.string().min(1).max(249).optional(),
    consumerGroup: z.string().min(1).max(255).optional(),
    reason: z.string().min(1).max(100).optional(),
    limit,
    cursor: cursorParam.optional(),
  })
  .strict();

const deadLetterSummary = z.object({
  id: z.uuid(),
  state: z.enum(repo.DEAD_LETTER_STATES),
  consumerGroup: z.string(),
  originTopic: z.string(),
  originPartition: z.number().int(),
  originOffset: z.number().int(),
  key: z.string().nullable(),
  eventType: z.string().nullable(),
  reason: z.string(),
  error: z.string(),
  attempts: z.number().int(),
  bytes: z.number().int(),
  deadLetteredAt: z.string(),
  resolvedAt: z.string().nullable(),
  /** The outbox event id of the replayed copy. */
  replayEventId: z.uuid().nullable(),
});

const deadLetterDetail = deadLetterSummary.extend({
  headers: z.record(z.string(), z.string()),
  /** The original bytes as UTF-8 text, or null when they are not valid UTF-8 (see valueBase64). */
  value: z.string().nullable(),
  valueBase64: z.string(),
});

const summary = (d: DeadLetter) => ({
  id: d.id,
  state: d.state,
  consumerGroup: d.consumerGroup,
  originTopic: d.originTopic,
  originPartition: d.originPartition,
  originOffset: Number(d.originOffset),
  key: d.key,
  eventType: d.headers['event-type'] ?? null,
  reason: d.reason,
  error: d.error,
  attempts: d.attempts,
  bytes: d.value.length,
  deadLetteredAt: iso(d.deadLetteredAt)!,
  resolvedAt: iso(d.resolvedAt),
  replayEventId: d.replayEventId,
});

const utf8 = (b: Buffer) => {
  const text = b.toString('utf8');
  return Buffer.from(text, 'utf8').equals(b) ? text : null;
};

const detail = (d: DeadLetter) => ({
  ...summary(d),
  headers: d.headers,
  value: utf8(d.value),
  valueBase64: d.value.toString('base64'),
});

const alreadyResolved = (d: DeadLetter) =>
  new ApiError(409, 'dead_letter_resolved', `dead letter ${d.id} was already ${d.state} at ${iso(d.resolvedAt)}`);

export const operatorRoutes: FastifyPluginAsyncZod<{ operator: OperatorStore }> = async (app, { operator }) => {
  app.get(
    '/api/v1/jobs',
    {
      schema: {
        'x-scope': 'admin',
        tags: ['operator'],
        summary: 'Jobs, newest first, filtered by state, detector and creation time; pass nextCursor for the next page',
        querystring: jobsQuery,
        response: { 200: z.object({ items: z.array(jobResponse), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await operator.listJobs({
        state: q.state,
        detectorId: q.detectorId,
        createdFrom: q.createdFrom ? new Date(q.createdFrom) : undefined,
        createdTo: q.createdTo ? new Date(q.createdTo) : undefined,
        after: q.cursor,
        limit: q.limit,
      });
      return { items: page.items.map(toJobResponse), nextCursor: encodeCursor(page.next) };
    },
  );

  app.post(
    '/api/v1/jobs/:id/retry',
    {
      schema: {
        'x-scope': 'admin',
        tags: ['operator'],
        summary:
          'Retry a failed or cancelled job: back to queued with its attempts reset, trained again with the detector as it is now (202)',
        params: uuidParam,
        body: z.object({}).strict().nullish(),
        response: { 202: jobResponse },
      },
    },
    async (request, reply) => {
      const r = await operator.retryJob(request.params.id);
      if (r.outcome === 'not_found') throw notFound('job', request.params.id);
      if (r.outcome === 'not_retryable')
        throw new ApiError(
          409,
          'job_not_retryable',
          `job ${r.job.id} is ${r.job.state}; only failed or cancelled jobs can be retried`,
        );
      return reply.status(202).send(toJobResponse(r.job));
    },
  );

  app.get(
    '/api/v1/dead-letters',
    {
      schema: {
        'x-scope': 'admin',
        tags: ['operator'],
        summary: 'Messages the consumers dead-lettered, newest first; pass nextCursor for the next page',
        querystring: deadLettersQuery,
        response: { 200: z.object({ items: z.array(deadLetterSummary), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await operator.listDeadLetters({
        state: q.state,
        topic: q.topic,
        consumerGroup: q.consumerGroup,
        reason: q.reason,
        after: q.cursor,
        limit: q.limit,
      });
      return { items: page.items.map(summary), nextCursor: encodeCursor(page.next) };
    },
  );

  app.get(
    '/api/v1/dead-letters/:id',
    {
      schema: {
        'x-scope': 'admin',
        tags: ['operator'],
        summary: 'One dead letter: its original bytes, headers, reason and error',
        params: uuidParam,
        response: { 200: deadLetterDetail },
      },
    },
    async (request) => {
      const d = await operator.getDeadLetter(request.params.id);
      if (!d) throw notFound('dead letter', request.params.id);
      return detail(d);
    },
  );

  app.post(
    '/api/v1/dead-letters/:id/replay',
    {
      schema: {
        'x-scope': 'admin',
        tags: ['operator'],
        summary:
          'Replay a pending dead letter: its original bytes go back to their topic through the outbox, once (202)',
        params: uuidParam,
        body: z.object({}).strict().nullish(),
        response: { 202: deadLetterSummary },
      },
    },
    async (request, reply) => {
      const r = await operator.replayDeadLetter(request.params.id);
      if (r.outcome === 'not_found') throw notFound('dead letter', request.params.id);
      if (r.outcome === 'already_resolved') throw alreadyResolved(r.deadLetter);
      if (r.outcome === 'not_utf8')
        throw new ApiError(
          422,
          'dead_letter_not_replayable',
          `dead letter ${r.deadLetter.id} is not UTF-8 text; it cannot be an event of ours, discard it`,
        );
      return reply.status(202).send(summary(r.deadLetter));
    },
  );

  app.post(
    '/api/v1/dead-letters/:id/discard',
    {
      schema: {
        'x-scope': 'admin',
        tags: ['operator'],
        summary: 'Discard a pending dead letter (kept, marked discarded, never replayed)',
        params: uuidParam,
        body: z.object({}).strict().nullish(),
        response: { 200: deadLetterSummary },
      },
    },
    async (request) => {
      const r = await operator.discardDeadLetter(request.params.id);
      if (r.outcome === 'not_found') throw notFound('dead letter', request.params.id);
      if (r.outcome === 'already_resolved') throw alreadyResolved(r.deadLetter);
      return summary(r.deadLetter);
    },
  );
};
