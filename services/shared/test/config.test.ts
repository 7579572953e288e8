import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_API_LIMITS, loadConfig } from '../src/config.js';
import { readFileSync } from 'node:fs';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', KAFKA_BROKERS: '127.0.0.1:9092' };

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig('training-worker', base);
    expect(c.environment).toBe('development');
    expect(c.kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      topicPrefix: 'pynomaly',
      partitions: 6,
      replicationFactor: 1,
      minInsyncReplicas: 1,
      tls: { enabled: false },
    });
    expect(c.scrapeTokens).toEqual([]);
    expect(c.api.authFailuresPerMinute).toBe(20);
    expect(c.metrics.port).toBe(9102);
    expect(loadConfig('drift-worker', base).metrics.port).toBe(9103);
    expect(c.otel).toEqual({ endpoint: 'http://127.0.0.1:4317', metricExportIntervalMs: 15000, disabled: false });
    expect(c.drift).toEqual({ windowSize: 500, batchMaxMessages: 200, modelCacheBytes: 64 * 1024 * 1024 });
    expect(c.database.poolMax).toBe(10);
  });

  it('names a missing required variable', () => {
    const err = errorOf(() => loadConfig('drift-worker', { KAFKA_BROKERS: '127.0.0.1:9092' }));
    expect(err.variables).toEqual(['DATABASE_URL']);
    expect(err.message).toMatch(/DATABASE_URL: is required but not set/);
  });

  it('names each malformed variable', () => {
    const err = errorOf(() =>
      loadConfig('drift-worker', {
        ...base,
        KAFKA_BROKERS: 'no-port',
        DATABASE_POOL_MAX: 'ten',
        PYNOMALY_ENVIRONMENT: 'staging',
      }),
    );
    expect(err.variables.sort()).toEqual(['DATABASE_POOL_MAX', 'KAFKA_BROKERS', 'PYNOMALY_ENVIRONMENT']);
    expect(err.message).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
  });

  it('requires API keys for the API in production even with auth disabled', () => {
    const err = errorOf(() =>
      loadConfig('api', { ...base, PYNOMALY_ENVIRONMENT: 'production', PYNOMALY_AUTH_DISABLED: 'true' }),
    );
    expect(err.variables.sort()).toEqual(['PYNOMALY_API_KEYS', 'PYNOMALY_AUTH_DISABLED', 'PYNOMALY_SCRAPE_TOKEN']);
  });

  it('requires API keys outside production unless auth is explicitly disabled', () => {
    expect(errorOf(() => loadConfig('api', base)).variables).toEqual(['PYNOMALY_API_KEYS']);
    expect(loadConfig('api', { ...base, PYNOMALY_AUTH_DISABLED: 'true' }).api.authDisabled).toBe(true);
  });

  it('reads named, scoped keys (raw or sha256) and names what is wrong in an entry', () => {
    const hash = 'sha256:' + 'a'.repeat(64);
    const keys = [
      { name: 'ci', scopes: ['read', 'write'], keys: ['a-raw-key-0123456789', hash] },
      { name: 'alertmanager', scopes: ['alerts:write'], keys: ['webhook-key-0123456789'] },
    ];
    expect(loadConfig('api', { ...base, PYNOMALY_API_KEYS: JSON.stringify(keys) }).api.apiKeys).toEqual(keys);
    const bad = (entries: unknown) =>
      errorOf(() => loadConfig('api', { ...base, PYNOMALY_API_KEYS: JSON.stringify(entries) }));
    expect(bad([{ name: 'x', scopes: ['read'], keys: ['sha256:abc'] }]).message).toMatch(
      /PYNOMALY_API_KEYS\[0\]\.keys\[0\]: a key must be 16\+ characters, or sha256: followed by 64 hex digits/,
    );
    expect(bad([{ name: 'x', scopes: ['root'], keys: [hash] }]).message).toMatch(/PYNOMALY_API_KEYS\[0\]\.scopes\[0\]/);
    expect(bad([{ name: 'am', scopes: ['alerts:write', 'read'], keys: [hash] }]).message).toMatch(
      /an alerts:write key may hold no other scope/,
    );
    expect(
      bad([
        { name: 'a', scopes: ['read'], keys: [hash] },
        { name: 'a', scopes: ['read'], keys: ['other-key-0123456789'] },
      ]).message,
    ).toMatch(/key name "a" is used twice/);
    expect(bad([{ name: 'scrape', scopes: ['read'], keys: [hash] }]).message).toMatch(/reserved/);
    const notJson = errorOf(() => loadConfig('api', { ...base, PYNOMALY_API_KEYS: 'plain-old-key' }));
    expect(notJson.variables).toEqual(['PYNOMALY_API_KEYS']);
    expect(notJson.message).toMatch(/must be a JSON array/);
    // The secrets themselves never appear in the message.
    expect(notJson.message).not.toContain('plain-old-key');
  });

  it('requires a scrape token in production for every service, and accepts two while rotating', () => {
    for (const service of ['training-worker', 'drift-worker'] as const) {
      const err = errorOf(() => loadConfig(service, { ...base, PYNOMALY_ENVIRONMENT: 'production' }));
      expect(err.variables).toEqual(['PYNOMALY_SCRAPE_TOKEN']);
    }
    const c = loadConfig('drift-worker', {
      ...base,
      PYNOMALY_SCRAPE_TOKEN: 'scrape-old-0123456789, scrape-new-0123456789',
    });
    expect(c.scrapeTokens).toEqual(['scrape-old-0123456789', 'scrape-new-0123456789']);
  });

  it('reads Kafka topic replication and TLS/SASL settings, and names what is inconsistent', () => {
    const c = loadConfig('training-worker', {
      ...base,
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
      KAFKA_TLS: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'pynomaly',
      KAFKA_SASL_PASSWORD: 'secret',
    });
    expect(c.kafka).toMatchObject({
      replicationFactor: 3,
      minInsyncReplicas: 2,
      tls: { enabled: true },
      sasl: { mechanism: 'scram-sha-512', username: 'pynomaly', password: 'secret' },
    });
    expect(
      errorOf(() =>
        loadConfig('training-worker', {
          ...base,
          KAFKA_TOPIC_REPLICATION_FACTOR: '2',
          KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '3',
        }),
      ).variables,
    ).toEqual(['KAFKA_TOPIC_MIN_INSYNC_REPLICAS']);
    expect(
      errorOf(() => loadConfig('training-worker', { ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512' })).variables.sort(),
    ).toEqual(['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_USERNAME']);
    expect(errorOf(() => loadConfig('training-worker', { ...base, KAFKA_SASL_MECHANISM: 'gssapi' })).variables).toEqual(
      ['KAFKA_SASL_MECHANISM'],
    );
    const missing = errorOf(() => loadConfig('training-worker', { ...base, KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' }));
    expect(missing.variables).toEqual(['KAFKA_TLS_CA_FILE']);
    expect(missing.message).toMatch(/cannot read \/nonexistent\/ca.pem/);
    expect(
      errorOf(() => loadConfig('training-worker', { ...base, KAFKA_TLS_CERT_FILE: '/etc/hostname' })).variables,
    ).toEqual(['KAFKA_TLS_KEY_FILE']);
  });

  it('reads the per-client rate limit (0 turns it off) and names a bad value', () => {
    const api = {
      ...base,
      PYNOMALY_API_KEYS: JSON.stringify([{ name: 'k', scopes: ['read'], keys: ['k-0123456789abcdef'] }]),
    };
    expect(loadConfig('api', api).api.rateLimitPerMinute).toBe(6000);
    expect(loadConfig('api', { ...api, PYNOMALY_RATE_LIMIT_PER_MINUTE: '0' }).api.rateLimitPerMinute).toBe(0);
    expect(errorOf(() => loadConfig('api', { ...api, PYNOMALY_RATE_LIMIT_PER_MINUTE: '-5' })).variables).toEqual([
      'PYNOMALY_RATE_LIMIT_PER_MINUTE',
    ]);
  });

  it('reads every API limit with its default, and names a bad one', () => {
    const env = { ...base, PYNOMALY_AUTH_DISABLED: 'true' };
    expect(loadConfig('api', env).api.limits).toEqual(DEFAULT_API_LIMITS);
    const c = loadConfig('api', { ...env, API_MAX_CELLS: '1000', API_MODEL_CACHE_BYTES: '1048576' });
    expect(c.api.limits).toMatchObject({ maxCells: 1000, modelCacheBytes: 1048576 });
    const err = errorOf(() =>
      loadConfig('api', { ...env, API_JSON_MAX_DEPTH: '0', API_ERROR_MESSAGE_MAX_BYTES: '10', API_MAX_FEATURES: 'x' }),
    );
    expect(err.variables.sort()).toEqual(['API_ERROR_MESSAGE_MAX_BYTES', 'API_JSON_MAX_DEPTH', 'API_MAX_FEATURES']);
  });

  it('documents every API limit variable in docs/CONVENTIONS.md', () => {
    const docs = readFileSync(new URL('../../../docs/CONVENTIONS.md', import.meta.url), 'utf8');
    const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
    const names = [...source.matchAll(/^\s+(API_[A-Z_]+): limit\(/gm)].map((m) => m[1]!);
    expect(names.length).toBe(Object.keys(DEFAULT_API_LIMITS).length);
    for (const name of names) expect(docs, name).toContain(`| \`${name}\` |`);
  });

  it('workers do not need API keys', () => {
    const prod = { ...base, PYNOMALY_ENVIRONMENT: 'production', PYNOMALY_SCRAPE_TOKEN: 'scrape-0123456789abcdef' };
    expect(loadConfig('training-worker', prod).environment).toBe('production');
  });

  it('reads retention durations with units and refuses processed-event ids kept no longer than Kafka keeps events', () => {
    const c = loadConfig('api', { ...base, PYNOMALY_AUTH_DISABLED: 'true' });
    const day = 86_400_000;
    expect(c.retention).toEqual({
      intervalMs: 5 * 60_000,
      batchSize: 1000,
      maxRunMs: 2 * 60_000,
      kafkaRetentionMs: 7 * day,
      outboxSentMs: 7 * day,
      outboxDeadMs: 30 * day,
      processedEventsMs: 14 * day,
      driftReportsMs: 90 * day,
      alertsMs: 90 * day,
    });
    const short = loadConfig('drift-worker', {
      ...base,
      KAFKA_RETENTION: '1m',
      RETENTION_PROCESSED_EVENTS: '90s',
      RETENTION_OUTBOX_SENT: '2m',
    });
    expect(short.retention.processedEventsMs).toBe(90_000);
    expect(short.retention.outboxSentMs).toBe(120_000);
    expect(errorOf(() => loadConfig('drift-worker', { ...base, RETENTION_ALERTS: '3 days' })).message).toMatch(
      /RETENTION_ALERTS: must be a positive whole number followed by s, m, h or d/,
    );
    const unsafe = errorOf(() => loadConfig('drift-worker', { ...base, RETENTION_PROCESSED_EVENTS: '7d' }));
    expect(unsafe.variables).toEqual(['RETENTION_PROCESSED_EVENTS']);
    expect(unsafe.message).toMatch(/must be longer than KAFKA_RETENTION/);
  });
});
