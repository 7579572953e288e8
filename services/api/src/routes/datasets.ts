import { parse as parseCsv } from 'csv-parse/sync';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { instruments } from '@pynomaly/shared';
import { z } from 'zod';
import { ApiError, notFound } from '../errors.js';
import {
  datasetResponse,
  createDatasetBody,
  featureNames as featureNamesSchema,
  listQuery,
  uuidParam,
  iso,
  MAX_DATASET_ROWS,
} from '../schemas.js';
import { rowsToMatrix } from '../scoring.js';
import type { ApiStore } from '../store.js';
import type { DatasetMeta } from '@pynomaly/shared';

export interface DatasetRouteOptions {
  store: ApiStore;
  jsonBodyLimit: number;
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

/** CSV with a header row of feature names and numeric cells only. */
export function parseCsvDataset(text: string): { featureNames: string[]; rows: number[][] } {
  let records: string[][];
  try {
    records = parseCsv(text, { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (err) {
    throw new ApiError(422, 'unprocessable', `file: not valid CSV (${(err as Error).message})`);
  }
  if (records.length < 2)
    throw new ApiError(422, 'unprocessable', 'file: needs a header row and at least one data row');
  if (records.length - 1 > MAX_DATASET_ROWS) {
    throw new ApiError(422, 'unprocessable', `file: has ${records.length - 1} rows, the limit is ${MAX_DATASET_ROWS}`);
  }
  const header = records[0]!;
  const names = featureNamesSchema.safeParse(header);
  if (!names.success) {
    throw new ApiError(
      422,
      'unprocessable',
      `file: header row: ${names.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  const rows = records.slice(1).map((rec, i) =>
    rec.map((cell, j) => {
      const v = cell === '' ? Number.NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new ApiError(
          422,
          'unprocessable',
          `file: row ${i + 1}, column ${header[j]}: ${JSON.stringify(cell)} is not a finite number`,
        );
      }
      return v;
    }),
  );
  return { featureNames: names.data, rows };
}

export const datasetRoutes: FastifyPluginAsyncZod<DatasetRouteOptions> = async (app, opts) => {
  const { store } = opts;

  app.post(
    '/api/v1/datasets',
    {
      bodyLimit: opts.jsonBodyLimit,
      schema: {
        'x-scope': 'write',
        tags: ['datasets'],
        summary: 'Create a dataset from JSON rows',
        body: createDatasetBody,
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
      const buffer = await file.toBuffer();
      const nameField = file.fields.name;
      const fieldName =
        nameField && !Array.isArray(nameField) && nameField.type === 'field' ? String(nameField.value) : undefined;
      const name = request.query.name ?? fieldName ?? file.filename ?? 'upload.csv';
      const parsed = parseCsvDataset(buffer.toString('utf8'));
      const meta = await store.createDataset({
        name: name.slice(0, 200),
        featureNames: parsed.featureNames,
        matrix: rowsToMatrix(parsed.rows, parsed.featureNames.length),
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
};
