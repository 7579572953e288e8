import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  instruments,
  trainingBudgetViolation,
  type ApiLimits,
  type DatasetMeta,
  type Detector,
  type DriftReport,
  type ModelSummary,
  type TrainingBudget,
} from '@pynomaly/shared';
import { z } from 'zod';
import { ApiError, notFound } from '../errors.js';
import {
  createDetectorBody,
  detectBodySchema,
  detectorResponse,
  detectResponse,
  driftReportResponse,
  errorResponse,
  iso,
  modelSummaryResponse,
  jobResponse,
  listQuery,
  uuidParam,
} from '../schemas.js';
import { rowsToMatrix, scoreWithModel } from '../scoring.js';
import { ParentGone, type ApiStore } from '../store.js';
import { toJobResponse } from './jobs.js';

export interface DetectorRouteOptions {
  store: ApiStore;
  limits: ApiLimits;
  trainingBudget: TrainingBudget;
}

function toResponse(d: Detector, m: ModelSummary | undefined) {
  return {
    ...d,
    createdAt: iso(d.createdAt)!,
    latestModel: m ? { id: m.id, version: m.version, threshold: m.threshold, createdAt: iso(m.createdAt)! } : null,
  };
}

const toReport = (r: DriftReport) => ({ ...r, createdAt: iso(r.createdAt)! });

export const detectorRoutes: FastifyPluginAsyncZod<DetectorRouteOptions> = async (app, opts) => {
  const { store } = opts;
  const tracer = trace.getTracer('pynomaly');

  /** The same budget the training worker checks before it trains, refused here before any work is queued. */
  function assertWithinBudget(
    d: Pick<Detector, 'algorithm' | 'parameters'>,
    dataset: Pick<DatasetMeta, 'rowCount' | 'featureNames'>,
  ): void {
    const violation = trainingBudgetViolation(
      d.algorithm,
      d.parameters,
      { rows: dataset.rowCount, cols: dataset.featureNames.length },
      opts.trainingBudget,
    );
    if (violation) throw new ApiError(422, 'training_budget_exceeded', violation);
  }

  async function detectorOr404(id: string): Promise<Detector> {
    const d = await store.getDetector(id);
    if (!d) throw notFound('detector', id);
    return d;
  }

  app.post(
    '/api/v1/detectors',
    {
      schema: {
        'x-scope': 'write',
        tags: ['detectors'],
        summary: 'Create a detector (isolation_forest or robust_zscore) bound to a dataset',
        body: createDetectorBody,
        response: { 201: detectorResponse },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const dataset = await store.getDataset(body.datasetId);
      if (!dataset) throw notFound('dataset', body.datasetId);
      if (
        body.algorithm === 'isolation_forest' &&
        body.parameters.maxSamples &&
        body.parameters.maxSamples > dataset.rowCount
      ) {
        // sklearn clips max_samples to n; we say so instead of silently changing what was asked.
        throw new ApiError(
          422,
          'unprocessable',
          `body.parameters.maxSamples: ${body.parameters.maxSamples} exceeds the dataset's ${dataset.rowCount} rows`,
        );
      }
      assertWithinBudget(body, dataset);
      const d = await store
        .createDetector({
          name: body.name,
          datasetId: body.datasetId,
          algorithm: body.algorithm,
          parameters: body.parameters,
          driftThresholds: body.driftThresholds,
        })
        .catch((err: unknown) => {
          // The dataset was deleted between the check above and the insert.
          throw err instanceof ParentGone ? notFound('dataset', body.datasetId) : err;
        });
      return reply.status(201).send(toResponse(d, undefined));
    },
  );

  app.get(
    '/api/v1/detectors',
    {
      schema: {
        'x-scope': 'read',
        tags: ['detectors'],
        querystring: listQuery,
        response: { 200: z.object({ items: z.array(detectorResponse) }) },
      },
    },
    async (request) => {
      const list = await store.listDetectors(request.query.limit);
      const models = await store.latestModelSummaries(list.map((d) => d.id));
      return { items: list.map((d) => toResponse(d, models.get(d.id))) };
    },
  );

  app.get(
    '/api/v1/detectors/:id',
    {
      schema: {
        'x-scope': 'read',
        tags: ['detectors'],
        params: uuidParam,
        response: { 200: detectorResponse },
      },
    },
    async (request) => {
      const d = await detectorOr404(request.params.id);
      return toResponse(d, (await store.latestModelSummaries([d.id])).get(d.id));
    },
  );

  app.post(
    '/api/v1/detectors/:id/train',
    {
      schema: {
        'x-scope': 'write',
        tags: ['training'],
        summary: 'Queue a training job (202 + job; the job and its event are recorded in one transaction)',
        params: uuidParam,
        body: z.object({}).strict().nullish(),
        response: { 202: jobResponse },
      },
    },
    async (request, reply) => {
      const d = await detectorOr404(request.params.id);
      // The budget may have been lowered since the detector was created.
      const dataset = await store.getDataset(d.datasetId);
      if (dataset) assertWithinBudget(d, dataset);
      const job = await store.requestTraining(d).catch((err: unknown) => {
        throw err instanceof ParentGone ? notFound('detector', d.id) : err;
      });
      return reply.status(202).header('location', `/api/v1/jobs/${job.id}`).send(toJobResponse(job));
    },
  );

  app.post(
    '/api/v1/detectors/:id/detect',
    {
      bodyLimit: opts.limits.detectBytes,
      schema: {
        'x-scope': 'write',
        tags: ['detection'],
        summary: "Score rows synchronously with the detector's latest model",
        params: uuidParam,
        body: detectBodySchema(opts.limits),
        response: { 200: detectResponse },
      },
    },
    async (request) => {
      const found = await store.detectorForScoring(request.params.id);
      if (!found) throw notFound('detector', request.params.id);
      const { detector: d, model } = found;
      if (!model) {
        throw new ApiError(
          409,
          'not_trained',
          `detector ${d.id} has no trained model yet: POST /api/v1/detectors/${d.id}/train first`,
        );
      }
      const { rows } = request.body;
      const width = model.featureNames.length;
      const bad = rows.findIndex((r) => r.length !== width);
      if (bad >= 0) {
        throw new ApiError(
          422,
          'feature_count_mismatch',
          `body.rows[${bad}]: has ${rows[bad]!.length} values but the model was trained on ${width} features (${model.featureNames.join(', ')})`,
        );
      }
      const started = performance.now();
      // Not made active: scoring is synchronous and opens no spans or log lines of its own, and
      // entering a context per request is part of what telemetry costs on this path.
      const span = tracer.startSpan('score', {
        attributes: {
          'pynomaly.detector_id': d.id,
          'pynomaly.model_version': model.version,
          'pynomaly.rows': rows.length,
        },
      });
      let scored: ReturnType<typeof scoreWithModel>;
      try {
        scored = scoreWithModel(model, rowsToMatrix(rows, width));
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
      const { scores, labels } = scored;
      const anomalies = labels.reduce((a, b) => a + b, 0);
      const labelList = Array.from(labels, (l) => (l === 1 ? 1 : 0) as 0 | 1);
      const scoreList = Array.from(scores);
      await store.recordDetections(d.id, {
        modelId: model.id,
        modelVersion: model.version,
        featureNames: model.featureNames,
        rows,
        scores: scoreList,
        labels: labelList,
      });
      const inst = instruments();
      inst.detectionDuration.record((performance.now() - started) / 1000, {
        detector_id: d.id,
        algorithm: model.algorithm,
      });
      inst.detectionRows.add(rows.length, { detector_id: d.id }, d.id);
      inst.detectionAnomalies.add(anomalies, { detector_id: d.id }, d.id);
      return {
        detectorId: d.id,
        modelId: model.id,
        modelVersion: model.version,
        threshold: model.threshold,
        scores: scoreList,
        labels: labelList,
        anomalies,
      };
    },
  );

  app.get(
    '/api/v1/detectors/:id/drift-reports',
    {
      schema: {
        'x-scope': 'read',
        tags: ['drift'],
        params: uuidParam,
        querystring: listQuery,
        response: { 200: z.object({ items: z.array(driftReportResponse) }) },
      },
    },
    async (request) => {
      const d = await detectorOr404(request.params.id);
      return { items: (await store.listDriftReports(d.id, request.query.limit)).map(toReport) };
    },
  );

  app.delete(
    '/api/v1/detectors/:id',
    {
      schema: {
        'x-scope': 'write',
        tags: ['detectors'],
        summary: 'Delete a detector with its models, jobs, drift window and reports (204)',
        description:
          'Refused with 409 while one of its training jobs is queued or running. Events still in flight for it are dropped by the workers. Its dataset stays.',
        params: uuidParam,
        response: { 204: z.null(), 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const r = await store.deleteDetector(id);
      if (r.outcome === 'not_found') throw notFound('detector', id);
      if (r.outcome === 'jobs_in_flight') {
        throw new ApiError(
          409,
          'jobs_in_flight',
          `detector ${id} has ${r.jobIds.length} training job(s) queued or running (${r.jobIds.slice(0, 10).join(', ')}): retry when they have finished`,
        );
      }
      request.log.info({ detectorId: id, ...r }, 'detector deleted');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/detectors/:id/models',
    {
      schema: {
        'x-scope': 'read',
        tags: ['detectors'],
        summary: "The detector's model versions, newest first (without model bodies)",
        params: uuidParam,
        querystring: listQuery,
        response: { 200: z.object({ items: z.array(modelSummaryResponse) }) },
      },
    },
    async (request) => {
      const d = await detectorOr404(request.params.id);
      const items = await store.listModels(d.id, request.query.limit);
      return { items: items.map((m) => ({ ...m, createdAt: iso(m.createdAt)! })) };
    },
  );

  app.delete(
    '/api/v1/models/:id',
    {
      schema: {
        'x-scope': 'write',
        tags: ['detectors'],
        summary: 'Delete an older model version with its drift reports (204)',
        description:
          "The detector's latest model is refused with 409 (detect scores with it; delete the detector instead). The job that trained the model stays, without a model. Version numbers are never reused.",
        params: uuidParam,
        response: { 204: z.null(), 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const r = await store.deleteModel(id);
      if (r.outcome === 'not_found') throw notFound('model', id);
      if (r.outcome === 'latest') {
        throw new ApiError(
          409,
          'latest_model',
          `model ${id} is version ${r.version}, the latest of detector ${r.detectorId}, which detect uses: train a newer version first, or delete the detector`,
        );
      }
      request.log.info({ modelId: id, ...r }, 'model deleted');
      return reply.status(204).send(null);
    },
  );
};
