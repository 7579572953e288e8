/**
 * Versioned event envelopes, one zod schema per topic (docs/CONVENTIONS.md). Consumers parse with
 * these; anything that fails goes to the DLQ with the zod message as its reason.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const EVENT_TYPES = [
  'training.requested',
  'training.completed',
  'training.failed',
  'detections.scored',
  'drift.detected',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SUPPORTED_VERSION = 1;

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const algorithm = z.enum(['isolation_forest', 'robust_zscore']);

export const payloadSchemas = {
  'training.requested': z.object({
    jobId: z.uuid(),
    datasetId: z.uuid(),
    algorithm,
    parameters: z.record(z.string(), z.unknown()),
  }),
  'training.completed': z.object({
    jobId: z.uuid(),
    modelId: z.uuid(),
    modelVersion: z.number().int().positive(),
    algorithm,
    featureNames: z.array(z.string()).min(1),
    trainedRows: z.number().int().positive(),
    threshold: finite,
    durationMs: z.number().nonnegative(),
  }),
  'training.failed': z.object({
    jobId: z.uuid(),
    reason: z.string().min(1),
  }),
  'detections.scored': z
    .object({
      modelId: z.uuid(),
      modelVersion: z.number().int().positive(),
      featureNames: z.array(z.string()).min(1),
      rows: z.array(z.array(finite)).min(1),
      scores: z.array(finite),
      labels: z.array(z.union([z.literal(0), z.literal(1)])),
    })
    .superRefine((p, ctx) => {
      if (p.scores.length !== p.rows.length || p.labels.length !== p.rows.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['scores'],
          message: 'rows, scores and labels must have the same length',
        });
      }
      const bad = p.rows.findIndex((r) => r.length !== p.featureNames.length);
      if (bad >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['rows', bad],
          message: `row has ${p.rows[bad]!.length} values, expected ${p.featureNames.length}`,
        });
      }
    }),
  // Fields after driftedFeatures were added with the calibrated decision: optional, so events
  // written before still parse, and consumers that do not know them ignore them.
  'drift.detected': z.object({
    reportId: z.uuid(),
    modelId: z.uuid(),
    modelVersion: z.number().int().positive(),
    windowRows: z.number().int().positive(),
    driftShare: z.number().min(0).max(1),
    datasetDrift: z.boolean(),
    scoreDrift: z.boolean(),
    anomalyRateDrift: z.boolean(),
    driftedFeatures: z.array(z.string()),
    signals: z.array(z.enum(['dataset', 'feature', 'score'])).optional(),
    featureDrift: z.boolean().optional(),
    persistentDatasetDrift: z.boolean().optional(),
    persistentFeatures: z.array(z.string()).optional(),
    referenceRows: z.number().int().positive().optional(),
    referenceSampleRows: z.number().int().positive().optional(),
    mode: z.enum(['calibrated', 'thresholds']).optional(),
    calibration: z.enum(['bootstrap', 'analytic', 'none']).optional(),
    falseAlarmRate: finite.optional(),
    featureAlpha: finite.nullable().optional(),
    combined: z
      .object({
        statistic: finite,
        pValue: finite,
        pValueCensored: z.boolean(),
        threshold: z.number(),
        drifted: z.boolean(),
      })
      .nullable()
      .optional(),
    features: z
      .array(
        z.object({
          name: z.string(),
          pValue: finite,
          pValueHolm: finite,
          qValue: finite,
          meanShiftSigma: finite,
          wassersteinSigma: finite,
          psi: finite,
          effectSize: z.enum(['negligible', 'small', 'medium', 'large']),
          drifted: z.boolean(),
        }),
      )
      .optional(),
  }),
} as const satisfies Record<EventType, z.ZodType>;

export type Payload<T extends EventType> = z.output<(typeof payloadSchemas)[T]>;

const envelopeBase = z.object({
  id: z.uuid(),
  type: z.enum(EVENT_TYPES),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  detectorId: z.uuid(),
  payload: z.unknown(),
});

export interface Envelope<T extends EventType = EventType> {
  id: string;
  type: T;
  version: number;
  occurredAt: string;
  detectorId: string;
  payload: Payload<T>;
}

/**
 * Largest encoded event we accept per type. Control events are a few hundred bytes; scored rows
 * are chunked by the API to stay well under the broker's 1 MiB message limit.
 */
export const MAX_EVENT_BYTES: Record<EventType, number> = {
  'training.requested': 64 * 1024,
  'training.completed': 64 * 1024,
  'training.failed': 64 * 1024,
  'detections.scored': 1024 * 1024,
  'drift.detected': 64 * 1024,
};

export type EventParseFailure = {
  ok: false;
  reason: 'unparseable' | 'invalid_schema' | 'unsupported_version' | 'unexpected_type' | 'oversized';
  error: string;
};
export type EventParseResult<T extends EventType> = { ok: true; event: Envelope<T> } | EventParseFailure;

function formatIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses raw message bytes as an event of one of the expected types. */
export function parseEvent<T extends EventType>(
  raw: Buffer | string | null,
  expected: readonly T[],
): EventParseResult<T> {
  if (raw === null || raw.length === 0) return { ok: false, reason: 'unparseable', error: 'empty message value' };
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  const limit = Math.max(...expected.map((t) => MAX_EVENT_BYTES[t]));
  if (size > limit) {
    return {
      ok: false,
      reason: 'oversized',
      error: `message is ${size} bytes; ${expected.join('/')} events may be at most ${limit}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'unparseable', error: `not JSON: ${(err as Error).message}` };
  }
  const env = envelopeBase.safeParse(json);
  if (!env.success) return { ok: false, reason: 'invalid_schema', error: formatIssues(env.error) };
  if (!(expected as readonly string[]).includes(env.data.type)) {
    return {
      ok: false,
      reason: 'unexpected_type',
      error: `type ${env.data.type} is not one of ${expected.join(', ')}`,
    };
  }
  if (env.data.version !== SUPPORTED_VERSION) {
    return {
      ok: false,
      reason: 'unsupported_version',
      error: `version ${env.data.version} is not supported (expected ${SUPPORTED_VERSION})`,
    };
  }
  const type = env.data.type as T;
  const payload = payloadSchemas[type].safeParse(env.data.payload);
  if (!payload.success) return { ok: false, reason: 'invalid_schema', error: formatIssues(payload.error, 'payload') };
  return { ok: true, event: { ...env.data, type, payload: payload.data as Payload<T> } };
}

export interface MakeEventOptions {
  id?: string;
  occurredAt?: Date;
  /**
   * The payload was built only from input already validated by the same rules and from values
   * the caller computed (the API's detect body and its scores): parsing it again proves nothing
   * and cost 7 % of a 100-row /detect request's CPU. Consumers validate every event they read
   * either way (parseEvent).
   */
  prevalidated?: boolean;
}

/** Builds a validated envelope (throws if the payload does not match its schema: a bug, not input). */
export function makeEvent<T extends EventType>(
  type: T,
  detectorId: string,
  payload: Payload<T>,
  opts: MakeEventOptions = {},
): Envelope<T> {
  const checked = opts.prevalidated ? payload : (payloadSchemas[type].parse(payload) as Payload<T>);
  return {
    id: opts.id ?? randomUUID(),
    type,
    version: SUPPORTED_VERSION,
    occurredAt: (opts.occurredAt ?? new Date()).toISOString(),
    detectorId,
    payload: checked,
  };
}

export interface Topics {
  'training.requested': string;
  'training.completed': string;
  'training.failed': string;
  'detections.scored': string;
  'drift.detected': string;
  dlq: string;
}

export function topicNames(prefix: string): Topics {
  return {
    'training.requested': `${prefix}.training.requested`,
    'training.completed': `${prefix}.training.completed`,
    'training.failed': `${prefix}.training.failed`,
    'detections.scored': `${prefix}.detections.scored`,
    'drift.detected': `${prefix}.drift.detected`,
    dlq: `${prefix}.dlq`,
  };
}

export const CONSUMER_GROUPS = {
  trainingWorker: 'pynomaly-training-worker',
  driftWorker: 'pynomaly-drift-worker',
} as const;
