import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { instruments, type Detector, type DriftReport, type ModelRecord } from '@pynomaly/shared';
import { z } from 'zod';
import { ApiError, notFound } from '../errors.js';
import {
  createDetectorBody,
  detectBody,
  detectorResponse,
  detectResponse,
  driftReportResponse,
  iso,
  jobResponse,
  listQuery,
  uuidParam,
} from '../schemas.js';
import { rowsToMatrix, scoreWithModel } from '../scoring.js';
import type { ApiStore } from '../store.js';
import { toJobResponse } from './jobs.js';

export interface DetectorRouteOptions {
  store: ApiStore;
  detectBodyLimit: number;
}

function toResponse(d: Detector, m: ModelRecord | undefined) {
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
      const d = await store.createDetector({
        name: body.name,
        datasetId: body.datasetId,
        algorithm: body.algorithm,
        parameters: body.parameters,
        driftThresholds: body.driftThresholds,
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
      return { items: await Promise.all(list.map(async (d) => toResponse(d, await store.latestModel(d.id)))) };
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
      return toResponse(d, await store.latestModel(d.id));
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
      const job = await store.requestTraining(d);
      return reply.status(202).header('location', `/api/v1/jobs/${job.id}`).send(toJobResponse(job));
    },
  );

  app.post(
    '/api/v1/detectors/:id/detect',
    {
      bodyLimit: opts.detectBodyLimit,
      schema: {
        'x-scope': 'write',
        tags: ['detection'],
        summary: "Score rows synchronously with the detector's latest model",
        params: uuidParam,
        body: detectBody,
        response: { 200: detectResponse },
      },
    },
    async (request) => {
      const d = await detectorOr404(request.params.id);
      const model = await store.latestModel(d.id);
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
      const { scores, labels } = tracer.startActiveSpan('score', (span) => {
        try {
          span.setAttribute('pynomaly.detector_id', d.id);
          span.setAttribute('pynomaly.model_version', model.version);
          span.setAttribute('pynomaly.rows', rows.length);
          return scoreWithModel(model, rowsToMatrix(rows, width));
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      });
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
      inst.detectionRows.add(rows.length, { detector_id: d.id });
      inst.detectionAnomalies.add(anomalies, { detector_id: d.id });
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
};
