/** Request and response schemas (zod); also the source of the OpenAPI document at /docs. */
import { z } from 'zod';
import {
  DEFAULT_PERSISTENCE,
  MAX_FALSE_ALARM_RATE,
  MAX_PERSISTENCE_WINDOWS,
  MIN_FALSE_ALARM_RATE,
} from '@pynomaly/algorithms';

/** Row, column and issue limits the request schemas are built with (ApiLimits from the config). */
export interface SchemaLimits {
  datasetMaxRows: number;
  detectMaxRows: number;
  maxFeatures: number;
  maxCells: number;
  maxIssues: number;
}

export const uuidParam = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

/** Marks the issue that counts the issues a guard found but did not list. */
export const OMITTED_ISSUES = 'omittedIssues';

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * An array whose length is checked before any element is: zod checks min/max only after it has
 * validated (and reported on) every element, so a million bad elements made a million issues.
 */
export function boundedArray<T extends z.ZodType>(item: T, min: number, max: number) {
  return z.preprocess((value, ctx) => {
    if (Array.isArray(value) && value.length > max)
      ctx.addIssue({ code: 'custom', message: `must have at most ${max} items (has ${value.length})` });
    return value;
  }, z.array(item).min(min).max(max));
}

/** A string-to-string map with at most `max` keys, counted before any value is validated. */
function boundedRecord(max: number) {
  return z.preprocess(
    (value, ctx) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      if (Object.keys(value).length > max)
        ctx.addIssue({ code: 'custom', message: `must have at most ${max} entries` });
      return value;
    },
    z.record(z.string(), z.string()),
  );
}

/**
 * Rows of finite numbers, checked in one pass that allocates nothing for valid input and lists at
 * most `maxIssues` problems (counting the rest) for invalid input; zod's own array schema then
 * only ever sees well-formed rows.
 */
export function numericRows(maxRows: number, maxCols: number, maxCells: number, maxIssues: number) {
  const rows = z.array(z.array(z.number()).min(1).max(maxCols)).min(1).max(maxRows);
  return z.preprocess((value, ctx) => {
    if (!Array.isArray(value)) return value; // the array schema names the wrong type
    if (value.length > maxRows) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${maxRows} rows (has ${value.length})` });
      return value;
    }
    let cells = 0;
    for (const row of value) cells += Array.isArray(row) ? row.length : 1;
    if (cells > maxCells) {
      ctx.addIssue({
        code: 'custom',
        message: `must have at most ${maxCells} values in all (has ${cells}; API_MAX_CELLS)`,
      });
      return value;
    }
    let found = 0;
    const report = (path: number[], message: string) => {
      if (found++ < maxIssues) ctx.addIssue({ code: 'custom', path, message });
    };
    for (let i = 0; i < value.length; i++) {
      const row: unknown = value[i];
      if (!Array.isArray(row)) report([i], `expected an array of numbers, received ${describe(row)}`);
      else if (row.length === 0) report([i], 'must have at least 1 value');
      else if (row.length > maxCols) report([i], `must have at most ${maxCols} values (has ${row.length})`);
      else {
        for (let j = 0; j < row.length; j++) {
          const cell: unknown = row[j];
          if (typeof cell !== 'number') report([i, j], `expected number, received ${describe(cell)}`);
          else if (!Number.isFinite(cell)) report([i, j], 'must be a finite number');
        }
      }
    }
    if (found > maxIssues) {
      const omitted = found - maxIssues;
      ctx.addIssue({ code: 'custom', message: `${omitted} more`, params: { [OMITTED_ISSUES]: omitted } });
    }
    return value;
  }, rows);
}

const featureName = z.string().min(1).max(200);
export const featureNamesSchema = (maxFeatures: number) =>
  boundedArray(featureName, 1, maxFeatures).refine((names) => new Set(names).size === names.length, {
    message: 'feature names must be unique',
  });

export const createDatasetBodySchema = (l: SchemaLimits) =>
  z.object({
    name: z.string().min(1).max(200),
    featureNames: featureNamesSchema(l.maxFeatures),
    rows: numericRows(l.datasetMaxRows, l.maxFeatures, l.maxCells, l.maxIssues),
  });

export const datasetResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  featureNames: z.array(z.string()),
  rowCount: z.number().int(),
  sourceFormat: z.enum(['json', 'csv']),
  createdAt: z.string(),
});

export const isolationForestParams = z.strictObject({
  nEstimators: z.number().int().min(1).max(1000).optional(),
  maxSamples: z.number().int().min(2).max(100_000).optional(),
  contamination: z.number().gt(0).max(0.5).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
});
export const robustZScoreParams = z.strictObject({
  threshold: z.number().gt(0).max(1000).optional(),
});

// Drift settings per detector (docs/drift.md). The calibrated decision needs only falseAlarmRate;
// setting any of ksPValue, wassersteinNormalized, sizeCutoff, driftShare switches to raw thresholds.
export const driftThresholds = z
  .strictObject({
    falseAlarmRate: z.number().min(MIN_FALSE_ALARM_RATE).max(MAX_FALSE_ALARM_RATE).optional(),
    featureFdr: z.number().gt(0).lt(1).optional(),
    persistenceWindows: z.number().int().min(1).max(MAX_PERSISTENCE_WINDOWS).optional(),
    persistenceRequired: z.number().int().min(1).max(MAX_PERSISTENCE_WINDOWS).optional(),
    ksPValue: z.number().gt(0).lt(1).optional(),
    wassersteinNormalized: z.number().gt(0).optional(),
    sizeCutoff: z.number().int().min(1).optional(),
    driftShare: z.number().gt(0).max(1).optional(),
    psiModerate: z.number().gt(0).optional(),
    psiMajor: z.number().gt(0).optional(),
    anomalyRateDelta: z.number().gt(0).max(1).optional(),
  })
  .refine(
    (t) =>
      (t.persistenceRequired ?? DEFAULT_PERSISTENCE.required) <= (t.persistenceWindows ?? DEFAULT_PERSISTENCE.windows),
    {
      message: `persistenceRequired must not exceed persistenceWindows (defaults ${DEFAULT_PERSISTENCE.required} of ${DEFAULT_PERSISTENCE.windows})`,
      path: ['persistenceRequired'],
    },
  );

export const createDetectorBody = z.discriminatedUnion('algorithm', [
  z.object({
    name: z.string().min(1).max(200),
    datasetId: z.uuid(),
    algorithm: z.literal('isolation_forest'),
    parameters: isolationForestParams.default({}),
    driftThresholds: driftThresholds.default({}),
  }),
  z.object({
    name: z.string().min(1).max(200),
    datasetId: z.uuid(),
    algorithm: z.literal('robust_zscore'),
    parameters: robustZScoreParams.default({}),
    driftThresholds: driftThresholds.default({}),
  }),
]);

export const detectorResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  datasetId: z.uuid(),
  algorithm: z.enum(['isolation_forest', 'robust_zscore']),
  parameters: z.record(z.string(), z.unknown()),
  driftThresholds: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  latestModel: z
    .object({ id: z.uuid(), version: z.number().int(), threshold: z.number(), createdAt: z.string() })
    .nullable(),
});

export const jobResponse = z.object({
  id: z.uuid(),
  type: z.literal('training'),
  detectorId: z.uuid(),
  // queued → running → succeeded | failed | cancelled (docs/architecture.md "Job states").
  state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  /** Why it failed or was cancelled; while a retried job runs again, its last attempt's error. */
  reason: z.string().nullable(),
  modelId: z.uuid().nullable(),
  attempts: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const detectBodySchema = (l: SchemaLimits) =>
  z.object({ rows: numericRows(l.detectMaxRows, l.maxFeatures, l.maxCells, l.maxIssues) });

export const detectResponse = z.object({
  detectorId: z.uuid(),
  modelId: z.uuid(),
  modelVersion: z.number().int(),
  threshold: z.number(),
  scores: z.array(z.number()),
  labels: z.array(z.union([z.literal(0), z.literal(1)])),
  anomalies: z.number().int(),
});

export const driftReportResponse = z.object({
  id: z.uuid(),
  detectorId: z.uuid(),
  modelId: z.uuid(),
  modelVersion: z.number().int(),
  windowIndex: z.number().int(),
  windowRows: z.number().int(),
  datasetDrift: z.boolean(),
  driftShare: z.number(),
  scoreDrift: z.boolean(),
  anomalyRateDrift: z.boolean(),
  result: z.unknown(),
  createdAt: z.string(),
});

export const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

export const alertsQuery = listQuery.extend({ status: z.enum(['firing', 'resolved']).optional() });

/** Alertmanager sends at most max_alerts per notification; 1000 is far above its batches. */
const MAX_WEBHOOK_ALERTS = 1000;
/** Labels or annotations of one alert: far above what a rule sets, small enough to bound the checks. */
const MAX_ALERT_LABELS = 128;

/** Alertmanager webhook payload (version 4). */
export const alertmanagerWebhook = z.object({
  version: z.string(),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: boundedRecord(MAX_ALERT_LABELS),
  commonLabels: boundedRecord(MAX_ALERT_LABELS),
  commonAnnotations: boundedRecord(MAX_ALERT_LABELS),
  externalURL: z.string(),
  alerts: boundedArray(
    z.object({
      status: z.enum(['firing', 'resolved']),
      labels: boundedRecord(MAX_ALERT_LABELS).refine((l) => typeof l.alertname === 'string', {
        message: 'labels.alertname is required',
      }),
      annotations: boundedRecord(MAX_ALERT_LABELS),
      startsAt: z.string(),
      endsAt: z.string(),
      generatorURL: z.string(),
      fingerprint: z.string(),
    }),
    0,
    MAX_WEBHOOK_ALERTS,
  ),
});

export const alertResponse = z.object({
  id: z.uuid(),
  fingerprint: z.string(),
  alertname: z.string(),
  status: z.enum(['firing', 'resolved']),
  severity: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string().nullable(),
  endsAt: z.string().nullable(),
  receivedAt: z.string(),
});

/** The shape of every 4xx/5xx body (see errors.ts), for routes that document their errors. */
export const errorResponse = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

export const cascadeQuery = z.object({
  cascade: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
});

export const modelSummaryResponse = z.object({
  id: z.uuid(),
  detectorId: z.uuid(),
  version: z.number().int(),
  jobId: z.uuid(),
  algorithm: z.string(),
  threshold: z.number(),
  trainedRows: z.number().int(),
  createdAt: z.string(),
});
