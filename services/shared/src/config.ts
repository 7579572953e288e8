/**
 * Service configuration from the environment (docs/CONVENTIONS.md). Parsed once at start-up;
 * a bad or missing variable stops the process with a message naming it, so a misconfigured
 * deployment fails loudly at boot instead of at the first request.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_TRAINING_BUDGET } from './training-budget.js';
import { apiKeyListSchema, secretSchema, type ApiKeyEntry } from './credentials.js';

export type ServiceName = 'api' | 'training-worker' | 'drift-worker';

const boolFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** Accepts 1e10 as well as 10000000000. */
const positiveNumber = z.coerce.number().positive().finite();

const brokerList = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .refine((list) => list.length > 0 && list.every((b) => /^[^\s:]+:\d+$/.test(b)), {
    message: 'must be a comma-separated list of host:port',
  });

/** PYNOMALY_API_KEYS: a JSON array of { name, scopes, keys } (docs/security.md). */
const apiKeyList = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (s === undefined) return [];
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of {"name","scopes","keys"} (docs/security.md)' });
      return z.NEVER;
    }
  })
  .pipe(apiKeyListSchema);

/** Comma-separated secrets (raw or sha256:<hex>); more than one while rotating. */
const secretList = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0),
  )
  .pipe(z.array(secretSchema).max(4));

/** A path whose file is read at start-up; the file's text is what the config carries. */
const fileContents = z.string().transform((path, ctx) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(err as Error).message}` });
    return z.NEVER;
  }
});

const postgresUrl = z
  .string()
  .min(1)
  .refine((s) => /^postgres(ql)?:\/\//.test(s), { message: 'must be a postgres:// or postgresql:// URL' });

const DURATION_UNITS_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `90s`, `10m`, `12h` or `7d`, in milliseconds. */
const duration = z
  .string()
  .regex(/^[1-9]\d*(s|m|h|d)$/, 'must be a positive whole number followed by s, m, h or d (e.g. 7d, 12h, 10m)')
  .transform((s) => Number(s.slice(0, -1)) * DURATION_UNITS_MS[s.slice(-1) as keyof typeof DURATION_UNITS_MS]);
const MiB = 1024 * 1024;

/**
 * What one API request may cost, so that no body (valid or hostile) can take the process past its
 * memory limit or hold its event loop. Defaults (and why) are in docs/CONVENTIONS.md.
 */
export interface ApiLimits {
  /** JSON bodies of every route not listed below (detectors, training, the alert webhook). */
  bodyBytes: number;
  /** JSON dataset uploads. */
  datasetJsonBytes: number;
  /** JSON detect requests. */
  detectBytes: number;
  /** CSV file uploads. */
  uploadBytes: number;
  /** Deepest nesting of arrays/objects in any JSON body, checked before the body is parsed. */
  jsonMaxDepth: number;
  /** Rows of one dataset (JSON rows or CSV data lines). */
  datasetMaxRows: number;
  /** Rows of one detect request. */
  detectMaxRows: number;
  /** Columns (features) of a dataset or detect row. */
  maxFeatures: number;
  /** Values (rows × columns) of one dataset or detect request. */
  maxCells: number;
  /** Characters of one CSV cell (header names included). */
  csvMaxCellChars: number;
  /** Validation issues listed in an error response; the rest are counted. */
  maxIssues: number;
  /** Bytes of an error response's message. */
  errorMessageBytes: number;
  /** Estimated heap bytes of the parsed models the API keeps for /detect. */
  modelCacheBytes: number;
  /** Stored size (JSON bytes) of the largest model the API loads to score with. */
  modelMaxBytes: number;
  /** Dataset uploads (JSON or CSV) handled at once; more are refused with 429. */
  maxConcurrentUploads: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = {
  bodyBytes: 1 * MiB,
  datasetJsonBytes: 16 * MiB,
  detectBytes: 4 * MiB,
  uploadBytes: 16 * MiB,
  jsonMaxDepth: 8,
  datasetMaxRows: 200_000,
  detectMaxRows: 10_000,
  maxFeatures: 500,
  maxCells: 2_000_000,
  csvMaxCellChars: 256,
  maxIssues: 20,
  errorMessageBytes: 4096,
  modelCacheBytes: 192 * MiB,
  modelMaxBytes: 48 * MiB,
  maxConcurrentUploads: 2,
};

const limit = (fallback: number, max = Number.MAX_SAFE_INTEGER) => positiveInt.max(max).default(fallback);

const apiLimitsEnv = {
  API_BODY_LIMIT_BYTES: limit(DEFAULT_API_LIMITS.bodyBytes),
  API_DATASET_JSON_LIMIT_BYTES: limit(DEFAULT_API_LIMITS.datasetJsonBytes),
  API_DETECT_LIMIT_BYTES: limit(DEFAULT_API_LIMITS.detectBytes),
  API_UPLOAD_LIMIT_BYTES: limit(DEFAULT_API_LIMITS.uploadBytes),
  API_JSON_MAX_DEPTH: limit(DEFAULT_API_LIMITS.jsonMaxDepth, 64),
  API_DATASET_MAX_ROWS: limit(DEFAULT_API_LIMITS.datasetMaxRows),
  API_DETECT_MAX_ROWS: limit(DEFAULT_API_LIMITS.detectMaxRows),
  API_MAX_FEATURES: limit(DEFAULT_API_LIMITS.maxFeatures),
  API_MAX_CELLS: limit(DEFAULT_API_LIMITS.maxCells),
  API_CSV_MAX_CELL_CHARS: limit(DEFAULT_API_LIMITS.csvMaxCellChars),
  API_VALIDATION_MAX_ISSUES: limit(DEFAULT_API_LIMITS.maxIssues, 1000),
  API_ERROR_MESSAGE_MAX_BYTES: limit(DEFAULT_API_LIMITS.errorMessageBytes).pipe(z.number().min(256)),
  API_MODEL_CACHE_BYTES: limit(DEFAULT_API_LIMITS.modelCacheBytes),
  API_MODEL_MAX_BYTES: limit(DEFAULT_API_LIMITS.modelMaxBytes),
  API_MAX_CONCURRENT_UPLOADS: limit(DEFAULT_API_LIMITS.maxConcurrentUploads),
};

const DEFAULT_METRICS_PORT: Record<ServiceName, number> = { api: 8000, 'training-worker': 9102, 'drift-worker': 9103 };

function schemaFor(service: ServiceName) {
  return z
    .object({
      PYNOMALY_ENVIRONMENT: z.enum(['development', 'test', 'production']).default('development'),
      DATABASE_URL: postgresUrl,
      DATABASE_POOL_MAX: positiveInt.default(10),
      KAFKA_BROKERS: brokerList,
      KAFKA_TOPIC_PREFIX: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"')
        .default('pynomaly'),
      KAFKA_TOPIC_PARTITIONS: positiveInt.default(6),
      KAFKA_TOPIC_REPLICATION_FACTOR: positiveInt.max(32).default(1),
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: positiveInt.max(32).default(1),
      KAFKA_TLS: boolFromEnv,
      KAFKA_TLS_CA_FILE: fileContents.optional(),
      KAFKA_TLS_CERT_FILE: fileContents.optional(),
      KAFKA_TLS_KEY_FILE: fileContents.optional(),
      KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
      KAFKA_SASL_USERNAME: z.string().min(1).optional(),
      KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
      OTEL_EXPORTER_OTLP_ENDPOINT: z.url().default('http://127.0.0.1:4317'),
      OTEL_METRIC_EXPORT_INTERVAL: positiveInt.default(15000),
      OTEL_SDK_DISABLED: boolFromEnv,
      API_HOST: z.string().min(1).default('0.0.0.0'),
      API_PORT: port.default(8000),
      METRICS_HOST: z.string().min(1).default('0.0.0.0'),
      METRICS_PORT: port.default(DEFAULT_METRICS_PORT[service]),
      PYNOMALY_API_KEYS: apiKeyList,
      PYNOMALY_AUTH_DISABLED: boolFromEnv,
      PYNOMALY_SCRAPE_TOKEN: secretList,
      PYNOMALY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
      ...apiLimitsEnv,
      PYNOMALY_AUTH_FAILURES_PER_MINUTE: positiveInt.default(20),
      API_TRUST_PROXY: z
        .string()
        .regex(/^(true|\d+|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, 'must be true, a hop count or addresses/CIDRs')
        .optional(),
      LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      LOG_DIR: z.string().min(1).optional(),
      DRIFT_WINDOW_SIZE: positiveInt.default(500),
      DRIFT_BATCH_MAX_MESSAGES: positiveInt.max(10_000).default(200),
      DRIFT_MODEL_CACHE_BYTES: positiveInt.default(64 * MiB),
      // Defaults and why: docs/operations.md "Training limits".
      TRAINING_MAX_WORK: positiveNumber.default(DEFAULT_TRAINING_BUDGET.maxWork),
      TRAINING_MAX_MODEL_NODES: positiveInt.default(DEFAULT_TRAINING_BUDGET.maxModelNodes),
      TRAINING_MAX_ATTEMPTS: positiveInt.default(3),
      TRAINING_TIMEOUT_SECONDS: positiveInt.default(600),
      TRAINING_THREAD_MEMORY_MB: z.coerce.number().int().min(64).default(1024),
      TRAINING_CONCURRENCY: positiveInt.default(1),
      TRAINING_PROGRESS_INTERVAL_SECONDS: positiveNumber.default(5),
      TRAINING_STALE_AFTER_SECONDS: positiveInt.default(300),
      TRAINING_REAPER_INTERVAL_SECONDS: positiveNumber.default(60),
      SERVICE_VERSION: z.string().min(1).default('0.1.0'),
      // The longest retention of any Pynomaly topic, DLQ included (the broker's default is 7 days).
      KAFKA_RETENTION: duration.prefault('7d'),
      RETENTION_INTERVAL: duration.prefault('5m'),
      RETENTION_BATCH_SIZE: positiveInt.max(100_000).default(1000),
      RETENTION_MAX_RUN: duration.prefault('2m'),
      RETENTION_OUTBOX_SENT: duration.prefault('7d'),
      RETENTION_OUTBOX_DEAD: duration.prefault('30d'),
      RETENTION_PROCESSED_EVENTS: duration.prefault('14d'),
      RETENTION_DRIFT_REPORTS: duration.prefault('90d'),
      RETENTION_ALERTS: duration.prefault('90d'),
    })
    .superRefine((env, ctx) => {
      const issue = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
      if (env.KAFKA_TOPIC_MIN_INSYNC_REPLICAS > env.KAFKA_TOPIC_REPLICATION_FACTOR)
        issue('KAFKA_TOPIC_MIN_INSYNC_REPLICAS', 'cannot exceed KAFKA_TOPIC_REPLICATION_FACTOR');
      if ((env.KAFKA_TLS_CERT_FILE === undefined) !== (env.KAFKA_TLS_KEY_FILE === undefined))
        issue(
          env.KAFKA_TLS_CERT_FILE ? 'KAFKA_TLS_KEY_FILE' : 'KAFKA_TLS_CERT_FILE',
          'client certificate and key go together',
        );
      if (env.KAFKA_SASL_MECHANISM) {
        if (!env.KAFKA_SASL_USERNAME) issue('KAFKA_SASL_USERNAME', `is required with KAFKA_SASL_MECHANISM`);
        if (!env.KAFKA_SASL_PASSWORD) issue('KAFKA_SASL_PASSWORD', `is required with KAFKA_SASL_MECHANISM`);
      } else if (env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD) {
        issue('KAFKA_SASL_MECHANISM', 'is required when KAFKA_SASL_USERNAME/PASSWORD are set');
      }
      if (env.PYNOMALY_ENVIRONMENT === 'production' && env.PYNOMALY_SCRAPE_TOKEN.length === 0)
        issue('PYNOMALY_SCRAPE_TOKEN', 'is required in production (Prometheus sends it as a bearer token)');
      // A processed-event id deleted while Kafka can still redeliver its event (a consumer group
      // whose offsets expired restarts from the oldest message kept) would be processed twice.
      if (env.RETENTION_PROCESSED_EVENTS <= env.KAFKA_RETENTION) {
        ctx.addIssue({
          code: 'custom',
          path: ['RETENTION_PROCESSED_EVENTS'],
          message: 'must be longer than KAFKA_RETENTION, or a redelivered event could be processed twice',
        });
      }
      if (service !== 'api') return;
      if (env.PYNOMALY_ENVIRONMENT === 'production') {
        if (env.PYNOMALY_API_KEYS.length === 0) issue('PYNOMALY_API_KEYS', 'is required in production');
        if (env.PYNOMALY_AUTH_DISABLED) issue('PYNOMALY_AUTH_DISABLED', 'cannot be true in production');
      } else if (env.PYNOMALY_API_KEYS.length === 0 && !env.PYNOMALY_AUTH_DISABLED) {
        issue('PYNOMALY_API_KEYS', 'is required unless PYNOMALY_AUTH_DISABLED=true (outside production)');
      }
    });
}

type RawConfig = z.output<ReturnType<typeof schemaFor>>;

export interface Config {
  service: ServiceName;
  environment: 'development' | 'test' | 'production';
  version: string;
  database: { url: string; poolMax: number };
  kafka: KafkaConfig;
  otel: { endpoint: string; metricExportIntervalMs: number; disabled: boolean };
  api: {
    host: string;
    port: number;
    apiKeys: ApiKeyEntry[];
    authDisabled: boolean;
    /** Requests per minute per client (API key name, else address); 0 turns rate limiting off. */
    rateLimitPerMinute: number;
    limits: ApiLimits;
    /** Failed authentications per minute per client address before it gets 429. */
    authFailuresPerMinute: number;
    /** fastify's trustProxy: which proxies' X-Forwarded-For names the client address. */
    trustProxy: boolean | number | string | undefined;
  };
  /** Bearer tokens accepted on the scrape endpoints (none: they are open). */
  scrapeTokens: string[];
  metrics: { host: string; port: number };
  log: { level: string; dir: string | undefined };
  drift: {
    windowSize: number;
    /** The most detections.scored messages of one partition handled in one transaction. */
    batchMaxMessages: number;
    /** Estimated heap bytes of the models (reference profiles) the drift worker keeps. */
    modelCacheBytes: number;
  };
  retention: RetentionSettings;
  training: TrainingSettings;
}

/** How long finished data is kept (milliseconds) and how the retention job runs (see retention.ts). */
export interface RetentionSettings {
  intervalMs: number;
  batchSize: number;
  maxRunMs: number;
  kafkaRetentionMs: number;
  outboxSentMs: number;
  outboxDeadMs: number;
  processedEventsMs: number;
  driftReportsMs: number;
  alertsMs: number;
}

export interface TrainingSettings {
  budget: { maxWork: number; maxModelNodes: number };
  /** Claims of a job (durable, in the jobs table) before it is failed and dead-lettered. */
  maxAttempts: number;
  /** One attempt's training thread is stopped after this. */
  timeoutMs: number;
  /** Heap cap of a training thread (resourceLimits); exceeding it fails the job, not the process. */
  threadMemoryMb: number;
  /** Training threads at once in one worker. */
  concurrency: number;
  /** How often a running job records progress, checks for cancellation and heartbeats Kafka. */
  progressIntervalMs: number;
  /** A running job without progress for this long is failed by the reaper. */
  staleAfterSeconds: number;
  reaperIntervalMs: number;
}

export interface KafkaConfig {
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  /** PEM texts read from the *_FILE settings; `enabled` also when only the system CAs are used. */
  tls: { enabled: boolean; ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly variables: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming each bad variable. */
export function loadConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings are treated as unset so `FOO=` in an env file falls back to the default.
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = schemaFor(service).safeParse(cleaned);
  if (!parsed.success) {
    const variables: string[] = [];
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      variables.push(name);
      const missing = issue.code === 'invalid_type' && cleaned[name] === undefined;
      // Inside a structured value (the API key list), say where: PYNOMALY_API_KEYS[1].scopes[0].
      const where = issue.path
        .slice(1)
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('');
      return `  ${name}${where}: ${missing ? 'is required but not set' : issue.message}`;
    });
    throw new ConfigError(`invalid configuration for ${service}:\n${lines.join('\n')}`, variables);
  }
  return toConfig(service, parsed.data);
}

function toConfig(service: ServiceName, e: RawConfig): Config {
  return {
    service,
    environment: e.PYNOMALY_ENVIRONMENT,
    version: e.SERVICE_VERSION,
    database: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      topicPrefix: e.KAFKA_TOPIC_PREFIX,
      partitions: e.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: e.KAFKA_TOPIC_REPLICATION_FACTOR,
      minInsyncReplicas: e.KAFKA_TOPIC_MIN_INSYNC_REPLICAS,
      tls: {
        enabled: e.KAFKA_TLS || e.KAFKA_TLS_CA_FILE !== undefined || e.KAFKA_TLS_CERT_FILE !== undefined,
        ...(e.KAFKA_TLS_CA_FILE ? { ca: e.KAFKA_TLS_CA_FILE } : {}),
        ...(e.KAFKA_TLS_CERT_FILE ? { cert: e.KAFKA_TLS_CERT_FILE } : {}),
        ...(e.KAFKA_TLS_KEY_FILE ? { key: e.KAFKA_TLS_KEY_FILE } : {}),
      },
      ...(e.KAFKA_SASL_MECHANISM && e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD
        ? {
            sasl: {
              mechanism: e.KAFKA_SASL_MECHANISM,
              username: e.KAFKA_SASL_USERNAME,
              password: e.KAFKA_SASL_PASSWORD,
            },
          }
        : {}),
    },
    otel: {
      endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      metricExportIntervalMs: e.OTEL_METRIC_EXPORT_INTERVAL,
      disabled: e.OTEL_SDK_DISABLED,
    },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      apiKeys: e.PYNOMALY_API_KEYS,
      authDisabled: e.PYNOMALY_AUTH_DISABLED,
      rateLimitPerMinute: e.PYNOMALY_RATE_LIMIT_PER_MINUTE,
      limits: {
        bodyBytes: e.API_BODY_LIMIT_BYTES,
        datasetJsonBytes: e.API_DATASET_JSON_LIMIT_BYTES,
        detectBytes: e.API_DETECT_LIMIT_BYTES,
        uploadBytes: e.API_UPLOAD_LIMIT_BYTES,
        jsonMaxDepth: e.API_JSON_MAX_DEPTH,
        datasetMaxRows: e.API_DATASET_MAX_ROWS,
        detectMaxRows: e.API_DETECT_MAX_ROWS,
        maxFeatures: e.API_MAX_FEATURES,
        maxCells: e.API_MAX_CELLS,
        csvMaxCellChars: e.API_CSV_MAX_CELL_CHARS,
        maxIssues: e.API_VALIDATION_MAX_ISSUES,
        errorMessageBytes: e.API_ERROR_MESSAGE_MAX_BYTES,
        modelCacheBytes: e.API_MODEL_CACHE_BYTES,
        modelMaxBytes: e.API_MODEL_MAX_BYTES,
        maxConcurrentUploads: e.API_MAX_CONCURRENT_UPLOADS,
      },
      authFailuresPerMinute: e.PYNOMALY_AUTH_FAILURES_PER_MINUTE,
      trustProxy: trustProxy(e.API_TRUST_PROXY),
    },
    scrapeTokens: e.PYNOMALY_SCRAPE_TOKEN,
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT },
    log: { level: e.LOG_LEVEL, dir: e.LOG_DIR },
    drift: {
      windowSize: e.DRIFT_WINDOW_SIZE,
      batchMaxMessages: e.DRIFT_BATCH_MAX_MESSAGES,
      modelCacheBytes: e.DRIFT_MODEL_CACHE_BYTES,
    },
    retention: {
      intervalMs: e.RETENTION_INTERVAL,
      batchSize: e.RETENTION_BATCH_SIZE,
      maxRunMs: e.RETENTION_MAX_RUN,
      kafkaRetentionMs: e.KAFKA_RETENTION,
      outboxSentMs: e.RETENTION_OUTBOX_SENT,
      outboxDeadMs: e.RETENTION_OUTBOX_DEAD,
      processedEventsMs: e.RETENTION_PROCESSED_EVENTS,
      driftReportsMs: e.RETENTION_DRIFT_REPORTS,
      alertsMs: e.RETENTION_ALERTS,
    },
    training: {
      budget: { maxWork: e.TRAINING_MAX_WORK, maxModelNodes: e.TRAINING_MAX_MODEL_NODES },
      maxAttempts: e.TRAINING_MAX_ATTEMPTS,
      timeoutMs: e.TRAINING_TIMEOUT_SECONDS * 1000,
      threadMemoryMb: e.TRAINING_THREAD_MEMORY_MB,
      concurrency: e.TRAINING_CONCURRENCY,
      progressIntervalMs: e.TRAINING_PROGRESS_INTERVAL_SECONDS * 1000,
      staleAfterSeconds: e.TRAINING_STALE_AFTER_SECONDS,
      reaperIntervalMs: e.TRAINING_REAPER_INTERVAL_SECONDS * 1000,
    },
  };
}

function trustProxy(v: string | undefined): boolean | number | string | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** For entry points: load or print the reason and exit non-zero. */
export function loadConfigOrExit(service: ServiceName, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(service, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
