import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { instruments, type ApiLimits } from '@pynomaly/shared';
import { z } from 'zod';
import { readCsvDataset } from '../csv-dataset.js';
import { ApiError, notFound } from '../errors.js';
import {
  cascadeQuery,
  errorResponse,
  datasetResponse,
  createDatasetBodySchema,
  listQuery,
  uuidParam,
  iso,
} from '../schemas.js';
import { rowsToMatrix } from '../scoring.js';
import type { ApiStore } from '../store.js';
import type { DatasetMeta } from '@pynomaly/shared';

export interface DatasetRouteOptions {
  store: ApiStore;
  limits: ApiLimits;
}

const toResponse = (d: DatasetMeta) => ({ ...d, createdAt: iso(d.createdAt)! });

function checkRowWidths(rows: readonly (readonly number[])[], width: number, where: string): void {
  const bad = rows.findIndex((r) => r.length !== width);
  if (bad >= 0) {
    throw new ApiError(
      422,
      'unprocessable',
      `${where}[${bad}]: has ${rows[bad]!.length} values but there are ${width} features`,
    );
  }
}

export const datasetRoutes: FastifyPluginAsyncZod<DatasetRouteOptions> = async (app, opts) => {
  const { store, limits } = opts;
  const uploadTooLarge = () =>
    new ApiError(
      413,
      'payload_too_large',
      `file: is larger than the limit of ${limits.uploadBytes} bytes (API_UPLOAD_LIMIT_BYTES)`,
    );

  app.post(
    '/api/v1/datasets',
    {
      bodyLimit: limits.datasetJsonBytes,
      schema: {
        'x-scope': 'write',
        tags: ['datasets'],
        summary: 'Create a dataset from JSON rows',
        body: createDatasetBodySchema(limits),
        response: { 201: datasetResponse },
      },
    },
    async (request, reply) => {
      const { name, featureNames, rows } = request.body;
      checkRowWidths(rows, featureNames.length, 'body.rows');
      const meta = await store.createDataset({
        name,
        featureNames,
        matrix: rowsToMatrix(rows, featureNames.length),
        sourceFormat: 'json',
      });
      instruments().datasetRowsIngested.add(meta.rowCount, { format: 'json' });
      return reply.status(201).send(toResponse(meta));
    },
  );

  app.post(
    '/api/v1/datasets/upload',
    {
      schema: {
        'x-scope': 'write',
        tags: ['datasets'],
        summary: 'Create a dataset from a CSV file (multipart/form-data, field "file"; optional field or query "name")',
        consumes: ['multipart/form-data'],
        querystring: z.object({ name: z.string().min(1).max(200).optional() }),
        response: { 201: datasetResponse },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new ApiError(
          415,
          'unsupported_media_type',
          `content-type ${request.headers['content-type'] ?? '(none)'} is not supported: send multipart/form-data with a "file" field`,
        );
      }
      const file = await request.file();
      if (!file) throw new ApiError(400, 'validation_failed', 'file: a CSV file field is required');
      const parsed = await readCsvDataset(
        file.file,
        {
          maxRows: limits.datasetMaxRows,
          maxFeatures: limits.maxFeatures,
          maxCells: limits.maxCells,
          maxCellChars: limits.csvMaxCellChars,
        },
        uploadTooLarge,
      );
      const nameField = file.fields.name;
      const fieldName =
        nameField && !Array.isArray(nameField) && nameField.type === 'field' ? String(nameField.value) : undefined;
      const name = request.query.name ?? fieldName ?? file.filename ?? 'upload.csv';
      const meta = await store.createDataset({
        name: name.slice(0, 200),
        featureNames: parsed.featureNames,
        matrix: parsed.matrix,
        sourceFormat: 'csv',
      });
      instruments().datasetRowsIngested.add(meta.rowCount, { format: 'csv' });
      return reply.status(201).send(toResponse(meta));
    },
  );

  app.get(
    '/api/v1/datasets',
    {
      schema: {
        'x-scope': 'read',
        tags: ['datasets'],
        querystring: listQuery,
        response: { 200: z.object({ items: z.array(datasetResponse) }) },
      },
    },
    async (request) => ({ items: (await store.listDatasets(request.query.limit)).map(toResponse) }),
  );

  app.get(
    '/api/v1/datasets/:id',
    {
      schema: {
        'x-scope': 'read',
        tags: ['datasets'],
        params: uuidParam,
        response: { 200: datasetResponse },
      },
    },
    async (request) => {
      const d = await store.getDataset(request.params.id);
      if (!d) throw notFound('dataset', request.params.id);
      return toResponse(d);
    },
  );

  app.delete(
    '/api/v1/datasets/:id',
    {
      schema: {
        'x-scope': 'write',
        tags: ['datasets'],
        summary: 'Delete a dataset (204)',
        description:
          'A dataset that detectors use is refused with 409 naming them, unless `cascade=true`: then those detectors are deleted too, each with its models, jobs, drift window and reports. Refused with 409 while one of them has a training job queued or running.',
        params: uuidParam,
        querystring: cascadeQuery,
        response: { 204: z.null(), 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const r = await store.deleteDataset(id, request.query.cascade);
      if (r.outcome === 'not_found') throw notFound('dataset', id);
      if (r.outcome === 'has_detectors') {
        throw new ApiError(
          409,
          'in_use',
          `dataset ${id} is used by ${r.detectorIds.length} detector(s) (${r.detectorIds.slice(0, 10).join(', ')}${r.detectorIds.length > 10 ? ', …' : ''}): delete them first, or pass cascade=true to delete them with it`,
        );
      }
      if (r.outcome === 'jobs_in_flight') {
        throw new ApiError(
          409,
          'jobs_in_flight',
          `detector ${r.detectorId} of dataset ${id} has ${r.jobIds.length} training job(s) queued or running (${r.jobIds.slice(0, 10).join(', ')}): retry when they have finished`,
        );
      }
      request.log.info({ datasetId: id, detectorsDeleted: r.detectors }, 'dataset deleted');
      return reply.status(204).send(null);
    },
  );
};
