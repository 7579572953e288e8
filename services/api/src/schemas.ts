/** Request and response schemas (zod); also the source of the OpenAPI document at /docs. */
import { z } from 'zod';
import {
  DEFAULT_PERSISTENCE,
  MAX_FALSE_ALARM_RATE,
  MAX_PERSISTENCE_WINDOWS,
  MIN_FALSE_ALARM_RATE,
} from '@pynomaly/algorithms';

export const MAX_FEATURES = 500;
export const MAX_DATASET_ROWS = 200_000;
export const MAX_DETECT_ROWS = 10_000;

export const uuidParam = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

const featureName = z.string().min(1).max(200);
export const featureNames = z
  .array(featureName)
  .min(1)
  .max(MAX_FEATURES)
  .refine((names) => new Set(names).size === names.length, { message: 'feature names must be unique' });

const row = z.array(z.number()).min(1).max(MAX_FEATURES);

export const createDatasetBody = z.object({
  name: z.string().min(1).max(200),
  featureNames,
  rows: z.array(row).min(1).max(MAX_DATASET_ROWS),
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
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  reason: z.string().nullable(),
  modelId: z.uuid().nullable(),
  attempts: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const detectBody = z.object({
  rows: z.array(row).min(1).max(MAX_DETECT_ROWS),
});

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

/** Alertmanager webhook payload (version 4). */
export const alertmanagerWebhook = z.object({
  version: z.string(),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: z.record(z.string(), z.string()),
  commonLabels: z.record(z.string(), z.string()),
  commonAnnotations: z.record(z.string(), z.string()),
  externalURL: z.string(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string(), z.string()).refine((l) => typeof l.alertname === 'string', {
          message: 'labels.alertname is required',
        }),
        annotations: z.record(z.string(), z.string()),
        startsAt: z.string(),
        endsAt: z.string(),
        generatorURL: z.string(),
        fingerprint: z.string(),
      }),
    )
    .max(1000),
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

export const errorResponse = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);
