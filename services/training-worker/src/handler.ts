/**
 * training.requested → fit → model version + reference profile → training.completed|failed.
 * Idempotent per job: a redelivered event for a finished job does nothing. The model, the job
 * transition and the outgoing event are committed in one transaction (outbox).
 */
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  enqueueEvent,
  instruments,
  makeEvent,
  parseEvent,
  PermanentError,
  repo,
  withTransaction,
  type Envelope,
  type Logger,
  type MessageHandler,
  type Pool,
  type Topics,
} from '@pynomaly/shared';
import { trainModel, TrainingRejected } from './train.js';

export interface TrainingHandlerDeps {
  pool: Pool;
  topics: Topics;
  logger: Logger;
  onEnqueued: () => void;
  inProgress: { value: number };
}

export function trainingHandler(deps: TrainingHandlerDeps): MessageHandler {
  return async (msg) => {
    const parsed = parseEvent(msg.value, ['training.requested']);
    if (!parsed.ok)
      throw new PermanentError(parsed.reason === 'unexpected_type' ? 'invalid_schema' : parsed.reason, parsed.error);
    await handleTrainingRequested(deps, parsed.event);
  };
}

export async function handleTrainingRequested(
  deps: TrainingHandlerDeps,
  event: Envelope<'training.requested'>,
): Promise<void> {
  const { pool, logger, topics } = deps;
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
  const tracer = trace.getTracer('pynomaly');
  const started = performance.now();
  let algorithm: string = event.payload.algorithm;
  deps.inProgress.value += 1;
  try {
    const detector = await repo.getDetector(pool, event.detectorId);
    const dataset = detector ? await repo.getDatasetMatrix(pool, detector.datasetId) : undefined;
    let failure: string | undefined;
    let trained: ReturnType<typeof trainModel> | undefined;
    if (!detector) failure = `detector ${event.detectorId} does not exist`;
    else if (!dataset) failure = `dataset ${detector.datasetId} does not exist`;
    else {
      algorithm = detector.algorithm;
      trained = tracer.startActiveSpan('train', (span) => {
        span.setAttribute('pynomaly.detector_id', detector.id);
        span.setAttribute('pynomaly.algorithm', detector.algorithm);
        span.setAttribute('pynomaly.rows', dataset.matrix.rows);
        try {
          return trainModel(detector.algorithm, detector.parameters, dataset.matrix);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          if (err instanceof TrainingRejected) {
            failure = err.message;
            return undefined;
          }
          throw err;
        } finally {
          span.end();
        }
      });
    }

    const seconds = (performance.now() - started) / 1000;
    if (failure !== undefined || !trained || !detector || !dataset) {
      const reason = failure ?? 'training produced no model';
      await withTransaction(pool, async (client) => {
        const updated = await repo.markJobFailed(client, jobId, reason);
        if (!updated) return;
        await enqueueEvent(
          client,
          topics['training.failed'],
          makeEvent('training.failed', event.detectorId, { jobId, reason }),
        );
      });
      deps.onEnqueued();
      instruments().trainingRuns.add(1, { algorithm, outcome: 'failed' });
      instruments().trainingDuration.record(seconds, { algorithm, outcome: 'failed' });
      logger.warn({ jobId, reason }, 'training failed');
      return;
    }

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
      if (!updated) throw new Error(`job ${jobId} finished concurrently`);
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
    });
    deps.onEnqueued();
    instruments().trainingRuns.add(1, { algorithm, outcome: 'succeeded' });
    instruments().trainingDuration.record(seconds, { algorithm, outcome: 'succeeded' });
    logger.info({ jobId, modelId: model.id, version: model.version, seconds }, 'training succeeded');
  } finally {
    deps.inProgress.value -= 1;
  }
}
