/**
 * training.requested → fit → model version + reference profile → training.completed|failed.
 * Idempotent per job: a redelivered event for a finished job does nothing. The model, the job
 * transition and the outgoing event are committed in one transaction (outbox).
 *
 * The fit runs in a worker thread (training-thread.ts) while this handler keeps the job alive:
 * every TRAINING_PROGRESS_INTERVAL_SECONDS it records progress (which the reaper watches), notices
 * a cancelled job, and heartbeats the consumer group. Attempts are counted in the jobs table, so a
 * job that keeps killing or timing out its worker ends failed and dead-lettered (outcome.ts).
 */
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  enqueueEvent,
  instruments,
  isTransientInfrastructureError,
  makeEvent,
  parseEvent,
  PermanentError,
  repo,
  trainingBudgetViolation,
  withTransaction,
  type DeadLetterHook,
  type Envelope,
  type HandlerContext,
  type Logger,
  type MessageHandler,
  type Pool,
  type Topics,
  type TrainingSettings,
} from '@pynomaly/shared';
import { attemptOutcome, exhaustedReason } from './outcome.js';
import type { Slots } from './slots.js';
import { runTrainingThread, TrainingAborted } from './training-thread.js';

export interface TrainingHandlerDeps {
  pool: Pool;
  topics: Topics;
  logger: Logger;
  onEnqueued: () => void;
  inProgress: { value: number };
  settings: TrainingSettings;
  slots: Slots;
  /** Aborted when the worker shuts down: running trainings stop and their jobs are requeued. */
  shutdown: AbortSignal;
  /** The thread runner (a fake in unit tests). */
  train?: typeof runTrainingThread;
}

export function trainingHandler(deps: TrainingHandlerDeps): MessageHandler {
  return async (msg, ctx) => {
    const parsed = parseEvent(msg.value, ['training.requested']);
    if (!parsed.ok)
      throw new PermanentError(parsed.reason === 'unexpected_type' ? 'invalid_schema' : parsed.reason, parsed.error);
    await handleTrainingRequested(deps, parsed.event, ctx);
  };
}

/** Ends the job of a dead-lettered training.requested message (failed, with the DLQ reason). */
export function failDeadLetteredJob(deps: Pick<TrainingHandlerDeps, 'pool' | 'topics' | 'onEnqueued'>): DeadLetterHook {
  return async (msg, reason, error) => {
    const parsed = parseEvent(msg.value, ['training.requested']);
    if (!parsed.ok) return; // not a job's message: nothing to end
    const { jobId } = parsed.event.payload;
    await failJob(deps, parsed.event.detectorId, jobId, `message dead-lettered (${reason}): ${error}`);
  };
}

/** running|queued → failed with a training.failed event, in one transaction; false if already finished. */
async function failJob(
  deps: Pick<TrainingHandlerDeps, 'pool' | 'topics' | 'onEnqueued'>,
  detectorId: string,
  jobId: string,
  reason: string,
): Promise<boolean> {
  const failed = await withTransaction(deps.pool, async (client) => {
    const updated = await repo.markJobFailed(client, jobId, reason);
    if (!updated) return false;
    await enqueueEvent(
      client,
      deps.topics['training.failed'],
      makeEvent('training.failed', detectorId, { jobId, reason: reason.slice(0, 2000) }),
    );
    return true;
  });
  if (failed) deps.onEnqueued();
  return failed;
}

/** Keeps a running job alive and aborts its training when it stops being ours (see module comment). */
function keepAlive(
  deps: TrainingHandlerDeps,
  jobId: string,
  ctx: HandlerContext | undefined,
): { stop: () => void; signal: AbortSignal } {
  const job = new AbortController();
  const tick = async () => {
    try {
      if (!(await repo.recordJobProgress(deps.pool, jobId)))
        job.abort('job is no longer running (cancelled or reaped)');
    } catch (err) {
      deps.logger.warn({ err, jobId }, 'could not record training progress');
    }
    await ctx?.heartbeat().catch((err: unknown) => deps.logger.debug({ err }, 'consumer heartbeat failed'));
  };
  const timer = setInterval(() => void tick(), deps.settings.progressIntervalMs);
  return {
    stop: () => clearInterval(timer),
    signal: AbortSignal.any([job.signal, deps.shutdown]),
  };
}

export async function handleTrainingRequested(
  deps: TrainingHandlerDeps,
  event: Envelope<'training.requested'>,
  ctx?: HandlerContext,
): Promise<void> {
  const { pool, logger, topics, settings } = deps;
  const { jobId } = event.payload;
  const existing = await repo.getJob(pool, jobId);
  if (!existing) {
    // A late redelivery for a detector deleted since (deleting it deleted its finished jobs).
    if (await repo.wasDeleted(pool, event.detectorId)) {
      logger.info({ jobId, detectorId: event.detectorId }, 'event for a deleted detector dropped');
      return;
    }
    throw new PermanentError('invalid_schema', `job ${jobId} does not exist`);
  }
  if (existing.detectorId !== event.detectorId) {
    throw new PermanentError(
      'invalid_schema',
      `job ${jobId} belongs to detector ${existing.detectorId}, not ${event.detectorId}`,
    );
  }
  const job = await repo.markJobRunning(pool, jobId);
  if (!job) {
    logger.info({ jobId, state: existing.state }, 'job already finished; redelivery ignored');
    return;
  }
  if (job.attempts >= settings.maxAttempts) {
    // Every earlier attempt started and none ended: the worker died each time (or timed out).
    const reason = exhaustedReason(job.attempts, job.reason);
    await failJob(deps, event.detectorId, jobId, reason);
    instruments().trainingRuns.add(1, { algorithm: event.payload.algorithm, outcome: 'failed' });
    logger.error({ jobId, attempts: job.attempts }, 'training attempts exhausted; dead-lettering');
    throw new PermanentError('attempts_exhausted', reason);
  }
  const tracer = trace.getTracer('pynomaly');
  let algorithm: string = event.payload.algorithm;
  const alive = keepAlive(deps, jobId, ctx);
  deps.inProgress.value += 1;
  let release: (() => void) | undefined;
  const started = performance.now();
  const record = (outcome: string) => {
    instruments().trainingRuns.add(1, { algorithm, outcome });
    instruments().trainingDuration.record((performance.now() - started) / 1000, { algorithm, outcome });
  };
  try {
    const detector = await repo.getDetector(pool, event.detectorId);
    const dataset = detector ? await repo.getDatasetMatrix(pool, detector.datasetId) : undefined;
    if (!detector || !dataset) {
      const reason = !detector
        ? `detector ${event.detectorId} does not exist`
        : `dataset ${detector.datasetId} does not exist`;
      await failJob(deps, event.detectorId, jobId, reason);
      record('failed');
      logger.warn({ jobId, reason }, 'training failed');
      return;
    }
    algorithm = detector.algorithm;
    const { rows, cols } = dataset.matrix;
    // The budget may have been lowered since the detector was created (the API checked then).
    const overBudget = trainingBudgetViolation(
      detector.algorithm,
      detector.parameters,
      { rows, cols },
      settings.budget,
    );
    if (overBudget) {
      await failJob(deps, event.detectorId, jobId, overBudget);
      record('failed');
      logger.warn({ jobId, reason: overBudget }, 'training refused: over budget');
      return;
    }
    // Set once this attempt is counted: a shutdown before that has no attempt to give back.
    let attempt: Awaited<ReturnType<typeof repo.startJobAttempt>>;
    const trained = await (async () => {
      try {
        release = await deps.slots.acquire(alive.signal);
      } catch {
        throw new TrainingAborted(String(alive.signal.reason));
      }
      attempt = await repo.startJobAttempt(pool, jobId);
      if (!attempt) throw new TrainingAborted('job is no longer running (cancelled or reaped)');
      const attempts = attempt.attempts;
      return tracer.startActiveSpan('train', async (span) => {
        span.setAttribute('pynomaly.detector_id', detector.id);
        span.setAttribute('pynomaly.algorithm', detector.algorithm);
        span.setAttribute('pynomaly.rows', rows);
        span.setAttribute('pynomaly.attempt', attempts);
        try {
          return await (deps.train ?? runTrainingThread)(detector.algorithm, detector.parameters, dataset.matrix, {
            memoryMb: settings.threadMemoryMb,
            timeoutMs: settings.timeoutMs,
            signal: alive.signal,
          });
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      });
    })().catch(async (err: unknown) => {
      // Postgres going away says nothing about the job: the consumer waits it out.
      if (isTransientInfrastructureError(err)) throw err;
      const outcome = attemptOutcome(err, {
        attempts: attempt?.attempts ?? job.attempts,
        maxAttempts: settings.maxAttempts,
        shuttingDown: deps.shutdown.aborted,
      });
      switch (outcome.kind) {
        case 'fail':
          await failJob(deps, event.detectorId, jobId, outcome.reason);
          record('failed');
          logger.warn({ jobId, reason: outcome.reason }, 'training failed');
          return undefined;
        case 'stand_down':
          record('cancelled');
          logger.info({ jobId, reason: (err as Error).message }, 'training stopped: the job is no longer running');
          return undefined;
        case 'requeue':
          await requeue(deps, event, jobId, attempt !== undefined);
          record('requeued');
          logger.info({ jobId }, 'training stopped by shutdown; job requeued with its attempt given back');
          return undefined;
        case 'retry':
          await repo.recordAttemptFailure(pool, jobId, outcome.reason);
          record('retried');
          logger.warn({ jobId, reason: outcome.reason }, 'training attempt failed; will retry');
          throw new Error(outcome.reason);
        case 'exhausted':
          await failJob(deps, event.detectorId, jobId, outcome.reason);
          record('failed');
          logger.error({ jobId, reason: outcome.reason }, 'training attempts exhausted; dead-lettering');
          throw new PermanentError('attempts_exhausted', outcome.reason);
      }
    });
    if (!trained) return;

    const seconds = (performance.now() - started) / 1000;
    const model = await withTransaction(pool, async (client) => {
      const stored = await repo.insertModelVersion(client, {
        id: randomUUID(),
        detectorId: detector.id,
        jobId,
        algorithm: detector.algorithm,
        featureNames: dataset.meta.featureNames,
        threshold: trained.threshold,
        trainedRows: trained.trainedRows,
        model: trained.model,
        referenceProfile: trained.referenceProfile,
      });
      const updated = await repo.markJobSucceeded(client, jobId, stored.id);
      // Cancelled or reaped while training: the model is not kept (the rollback drops it).
      if (!updated) throw new JobNoLongerRunning();
      await enqueueEvent(
        client,
        topics['training.completed'],
        makeEvent('training.completed', detector.id, {
          jobId,
          modelId: stored.id,
          modelVersion: stored.version,
          algorithm: detector.algorithm,
          featureNames: stored.featureNames,
          trainedRows: stored.trainedRows,
          threshold: stored.threshold,
          durationMs: seconds * 1000,
        }),
      );
      return stored;
    }).catch((err: unknown) => {
      if (err instanceof JobNoLongerRunning) return undefined;
      throw err;
    });
    if (!model) {
      record('cancelled');
      logger.info({ jobId }, 'job finished elsewhere (cancelled or reaped) while training; model discarded');
      return;
    }
    deps.onEnqueued();
    record('succeeded');
    logger.info({ jobId, modelId: model.id, version: model.version, seconds }, 'training succeeded');
  } finally {
    release?.();
    alive.stop();
    deps.inProgress.value -= 1;
  }
}

class JobNoLongerRunning extends Error {}

/** The job back to queued (attempt given back) with a new training.requested, in one transaction. */
async function requeue(
  deps: TrainingHandlerDeps,
  event: Envelope<'training.requested'>,
  jobId: string,
  giveBackAttempt: boolean,
): Promise<void> {
  const requeued = await withTransaction(deps.pool, async (client) => {
    if (!(await repo.requeueJob(client, jobId, giveBackAttempt))) return false;
    await enqueueEvent(
      client,
      deps.topics['training.requested'],
      makeEvent('training.requested', event.detectorId, event.payload),
    );
    return true;
  });
  if (requeued) deps.onEnqueued();
}
