/**
 * Service configuration from the environment (docs/CONVENTIONS.md). Parsed once at start-up;
 * a bad or missing variable stops the process with a message naming it, so a misconfigured
 * deployment fails loudly at boot instead of at the first request.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { apiKeyListSchema, secretSchema, type ApiKeyEntry } from './credentials.js';

export type ServiceName = 'api' | 'training-worker' | 'drift-worker';

const boolFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

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
      PYNOMALY_AUTH_FAILURES_PER_MINUTE: positiveInt.default(20),
      API_TRUST_PROXY: z
        .string()
        .regex(/^(true|\d+|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, 'must be true, a hop count or addresses/CIDRs')
        .optional(),
      LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      LOG_DIR: z.string().min(1).optional(),
      DRIFT_WINDOW_SIZE: positiveInt.default(500),
      SERVICE_VERSION: z.string().min(1).default('0.1.0'),
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
    /** Failed authentications per minute per client address before it gets 429. */
    authFailuresPerMinute: number;
    /** fastify's trustProxy: which proxies' X-Forwarded-For names the client address. */
    trustProxy: boolean | number | string | undefined;
  };
  /** Bearer tokens accepted on the scrape endpoints (none: they are open). */
  scrapeTokens: string[];
  metrics: { host: string; port: number };
  log: { level: string; dir: string | undefined };
  drift: { windowSize: number };
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
      authFailuresPerMinute: e.PYNOMALY_AUTH_FAILURES_PER_MINUTE,
      trustProxy: trustProxy(e.API_TRUST_PROXY),
    },
    scrapeTokens: e.PYNOMALY_SCRAPE_TOKEN,
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT },
    log: { level: e.LOG_LEVEL, dir: e.LOG_DIR },
    drift: { windowSize: e.DRIFT_WINDOW_SIZE },
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
