/**
 * Service configuration from the environment (docs/CONVENTIONS.md). Parsed once at start-up;
 * a bad or missing variable stops the process with a message naming it, so a misconfigured
 * deployment fails loudly at boot instead of at the first request.
 */
import { z } from 'zod';
import { DEFAULT_TRAINING_BUDGET } from './training-budget.js';

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

const apiKeyList = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0),
  )
  .refine((keys) => keys.every((k) => !k.startsWith('sha256:') || /^sha256:[0-9a-fA-F]{64}$/.test(k)), {
    message: 'a sha256: key must be followed by 64 hex digits',
  });

const postgresUrl = z
  .string()
  .min(1)
  .refine((s) => /^postgres(ql)?:\/\//.test(s), { message: 'must be a postgres:// or postgresql:// URL' });

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
      OTEL_EXPORTER_OTLP_ENDPOINT: z.url().default('http://127.0.0.1:4317'),
      OTEL_METRIC_EXPORT_INTERVAL: positiveInt.default(15000),
      OTEL_SDK_DISABLED: boolFromEnv,
      API_HOST: z.string().min(1).default('0.0.0.0'),
      API_PORT: port.default(8000),
      METRICS_HOST: z.string().min(1).default('0.0.0.0'),
      METRICS_PORT: port.default(DEFAULT_METRICS_PORT[service]),
      PYNOMALY_API_KEYS: apiKeyList,
      PYNOMALY_AUTH_DISABLED: boolFromEnv,
      PYNOMALY_SCRAPE_TOKEN: z.string().min(1).optional(),
      PYNOMALY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
      LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      LOG_DIR: z.string().min(1).optional(),
      DRIFT_WINDOW_SIZE: positiveInt.default(500),
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
    })
    .superRefine((env, ctx) => {
      if (service !== 'api') return;
      if (env.PYNOMALY_ENVIRONMENT === 'production') {
        if (env.PYNOMALY_API_KEYS.length === 0) {
          ctx.addIssue({ code: 'custom', path: ['PYNOMALY_API_KEYS'], message: 'is required in production' });
        }
        if (env.PYNOMALY_AUTH_DISABLED) {
          ctx.addIssue({ code: 'custom', path: ['PYNOMALY_AUTH_DISABLED'], message: 'cannot be true in production' });
        }
      } else if (env.PYNOMALY_API_KEYS.length === 0 && !env.PYNOMALY_AUTH_DISABLED) {
        ctx.addIssue({
          code: 'custom',
          path: ['PYNOMALY_API_KEYS'],
          message: 'is required unless PYNOMALY_AUTH_DISABLED=true (outside production)',
        });
      }
    });
}

type RawConfig = z.output<ReturnType<typeof schemaFor>>;

export interface Config {
  service: ServiceName;
  environment: 'development' | 'test' | 'production';
  version: string;
  database: { url: string; poolMax: number };
  kafka: { brokers: string[]; topicPrefix: string; partitions: number };
  otel: { endpoint: string; metricExportIntervalMs: number; disabled: boolean };
  api: {
    host: string;
    port: number;
    apiKeys: string[];
    authDisabled: boolean;
    scrapeToken: string | undefined;
    /** Requests per minute per client (API key, else address); 0 turns rate limiting off. */
    rateLimitPerMinute: number;
  };
  metrics: { host: string; port: number };
  log: { level: string; dir: string | undefined };
  drift: { windowSize: number };
  training: TrainingSettings;
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
      return `  ${name}: ${missing ? 'is required but not set' : issue.message}`;
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
    kafka: { brokers: e.KAFKA_BROKERS, topicPrefix: e.KAFKA_TOPIC_PREFIX, partitions: e.KAFKA_TOPIC_PARTITIONS },
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
      scrapeToken: e.PYNOMALY_SCRAPE_TOKEN,
      rateLimitPerMinute: e.PYNOMALY_RATE_LIMIT_PER_MINUTE,
    },
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT },
    log: { level: e.LOG_LEVEL, dir: e.LOG_DIR },
    drift: { windowSize: e.DRIFT_WINDOW_SIZE },
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
