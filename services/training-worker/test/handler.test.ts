/**
 * The handler's job accounting against a fake repository (the SQL is exercised on the live stack
 * by test/e2e/jobs-end.test.ts): when attempts are spent, when a job fails at once, when it is
 * requeued, and what reaches the outbox.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Shared from '@pynomaly/shared';
import type { Job } from '@pynomaly/shared';

const jobs = new Map<string, Job>();
const outbox: { topic: string; type: string; payload: Record<string, unknown> }[] = [];
const calls: string[] = [];
const detectorId = randomUUID();
const datasetId = randomUUID();

const running = (id: string) => {
  const j = jobs.get(id);
  return j && j.state === 'running' ? j : undefined;
};

vi.mock('@pynomaly/shared', async (importOriginal) => {
  const real = await importOriginal<typeof Shared>();
  const update = (id: string, patch: Partial<Job>) => {
    const j = { ...jobs.get(id)!, ...patch, updatedAt: new Date() };
    jobs.set(id, j);
    return j;
  };
  const repo = {
    ...real.repo,
    getJob: async (_q: unknown, id: string) => jobs.get(id),
    markJobRunning: async (_q: unknown, id: string) => {
      const j = jobs.get(id);
      return j && (j.state === 'queued' || j.state === 'running') ? update(id, { state: 'running' }) : undefined;
    },
    startJobAttempt: async (_q: unknown, id: string) => {
      calls.push('startJobAttempt');
      const j = running(id);
      return j ? update(id, { attempts: j.attempts + 1 }) : undefined;
    },
    recordJobProgress: async (_q: unknown, id: string) => running(id) !== undefined,
    recordAttemptFailure: async (_q: unknown, id: string, reason: string) =>
      void (running(id) && update(id, { reason })),
    requeueJob: async (_q: unknown, id: string, giveBack = true) => {
      const j = running(id);
      if (!j) return false;
      update(id, { state: 'queued', attempts: Math.max(0, j.attempts - (giveBack ? 1 : 0)) });
      return true;
    },
    markJobFailed: async (_q: unknown, id: string, reason: string) => {
      const j = jobs.get(id);
      return j && (j.state === 'queued' || j.state === 'running') ? update(id, { state: 'failed', reason }) : undefined;
    },
    markJobSucceeded: async (_q: unknown, id: string, modelId: string) =>
      running(id) ? update(id, { state: 'succeeded', modelId }) : undefined,
    getDetector: async () => ({
      id: detectorId,
      name: 'd',
      datasetId,
      algorithm: 'isolation_forest',
      parameters: { nEstimators: 10 },
      driftThresholds: {},
      createdAt: new Date(),
    }),
    getDatasetMatrix: async () => ({
      meta: {
        id: datasetId,
        name: 'ds',
        featureNames: ['a', 'b'],
        rowCount: 50,
        sourceFormat: 'json',
        createdAt: new Date(),
      },
      matrix: { data: new Float64Array(100).map((_, i) => Math.sin(i)), rows: 50, cols: 2 },
    }),
    insertModelVersion: async (
      _q: unknown,
      m: { id: string; featureNames: string[]; trainedRows: number; threshold: number },
    ) => {
      calls.push('insertModelVersion');
      return { ...m, version: 1 };
    },
  };
  return {
    ...real,
    repo,
    withTransaction: async (_pool: unknown, fn: (c: unknown) => Promise<unknown>) => fn({}),
    enqueueEvent: async (_q: unknown, topic: string, event: { type: string; payload: Record<string, unknown> }) =>
      void outbox.push({ topic, type: event.type, payload: event.payload }),
  };
});

const { handleTrainingRequested } = await import('../src/handler.js');
const { Slots } = await import('../src/slots.js');
const { TrainingAborted, TrainingTimedOut, TrainingThreadCrashed } = await import('../src/training-thread.js');
const { makeEvent, PermanentError, topicNames } = await import('@pynomaly/shared');
const { trainModel } = await import('../src/train.js');

const settings = {
  budget: { maxWork: 1e12, maxModelNodes: 1e9 },
  maxAttempts: 3,
  timeoutMs: 60_000,
  threadMemoryMb: 256,
  concurrency: 1,
  progressIntervalMs: 20,
  staleAfterSeconds: 300,
  reaperIntervalMs: 60_000,
};

function setup(train: Parameters<typeof handleTrainingRequested>[0]['train'], attempts = 0) {
  const id = randomUUID();
  const now = new Date();
  jobs.set(id, {
    id,
    type: 'training',
    detectorId,
    state: 'queued',
    reason: null,
    modelId: null,
    attempts,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  });
  const shutdown = new AbortController();
  const deps = {
    pool: {} as never,
    topics: topicNames('pynomaly'),
    logger: pino({ level: 'silent' }),
    onEnqueued: () => {},
    inProgress: { value: 0 },
    settings,
    slots: new Slots(1),
    shutdown: shutdown.signal,
    train,
  };
  const event = makeEvent('training.requested', detectorId, {
    jobId: id,
    datasetId,
    algorithm: 'isolation_forest',
    parameters: { nEstimators: 10 },
  });
  return { id, deps, event, shutdown };
}

beforeEach(() => {
  jobs.clear();
  outbox.length = 0;
  calls.length = 0;
});

describe('training handler: durable attempts', () => {
  it('counts one attempt and succeeds', async () => {
    const { id, deps, event } = setup(async (a, p, x) => trainModel(a, p, x));
    await handleTrainingRequested(deps, event);
    expect(jobs.get(id)).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(outbox.map((o) => o.type)).toEqual(['training.completed']);
    expect(deps.inProgress.value).toBe(0);
  });

  it('spends an attempt on a timeout, records why, and asks for a retry', async () => {
    const { id, deps, event } = setup(async () => {
      throw new TrainingTimedOut('training did not finish within 60 s');
    });
    await expect(handleTrainingRequested(deps, event)).rejects.not.toBeInstanceOf(PermanentError);
    expect(jobs.get(id)).toMatchObject({
      state: 'running',
      attempts: 1,
      reason: 'attempt 1 of 3 failed: training did not finish within 60 s',
    });
    expect(outbox).toEqual([]);
  });

  it('fails the job and dead-letters on the last attempt', async () => {
    const { id, deps, event } = setup(async () => {
      throw new TrainingThreadCrashed('training thread exited with code 1 before answering');
    }, 2);
    const err = await handleTrainingRequested(deps, event).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as InstanceType<typeof PermanentError>).reason).toBe('attempts_exhausted');
    expect(jobs.get(id)).toMatchObject({ state: 'failed', attempts: 3 });
    expect(jobs.get(id)!.reason).toMatch(/^gave up after 3 attempts/);
    expect(outbox.map((o) => o.type)).toEqual(['training.failed']);
  });

  it('fails without training when every attempt was spent by a worker that died (no attempt left)', async () => {
    let trained = false;
    const { id, deps, event } = setup(async () => {
      trained = true;
      throw new Error('unreachable');
    }, 3);
    const err = await handleTrainingRequested(deps, event).catch((e: unknown) => e);
    expect((err as InstanceType<typeof PermanentError>).reason).toBe('attempts_exhausted');
    expect(trained).toBe(false);
    expect(calls).not.toContain('startJobAttempt');
    expect(jobs.get(id)!.reason).toMatch(/none recorded: the worker stopped \(crashed or was killed\)/);
    expect(jobs.get(id)!.attempts).toBe(3);
  });

  it('on shutdown requeues the job with its attempt given back and a new request event', async () => {
    const { id, deps, event, shutdown } = setup(
      (_a, _p, _x, limits) =>
        new Promise((_resolve, reject) => {
          limits.signal!.addEventListener('abort', () => reject(new TrainingAborted(String(limits.signal!.reason))));
          setTimeout(() => shutdown.abort('worker shutting down'), 10);
        }),
    );
    await handleTrainingRequested(deps, event);
    expect(jobs.get(id)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(outbox.map((o) => o.type)).toEqual(['training.requested']);
    expect(outbox[0]!.payload).toMatchObject({ jobId: id });
  });

  it('stops the training when the job is cancelled meanwhile and keeps no model', async () => {
    const { id, deps, event } = setup(
      (_a, _p, _x, limits) =>
        new Promise((_resolve, reject) => {
          setTimeout(() => jobs.set(id, { ...jobs.get(id)!, state: 'cancelled' }), 10);
          limits.signal!.addEventListener('abort', () => reject(new TrainingAborted(String(limits.signal!.reason))));
        }),
    );
    await handleTrainingRequested(deps, event);
    expect(jobs.get(id)!.state).toBe('cancelled');
    expect(calls).not.toContain('insertModelVersion');
    expect(outbox).toEqual([]);
  });
});
