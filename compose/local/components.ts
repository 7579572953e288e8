// Every part of the stack as a local process: how to prepare it, start it, know it is healthy
// and stop it. Order in `components` is start order; `down` walks it backwards.
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { httpOk, kafkaAnswersMetadata, postgresReady } from './health.js';
import { componentLogDir, postgresDataDir, projectRoot, varDir, type Profile } from './paths.js';
import { port, portsFor, type ComponentName, type PortMap } from './ports.js';
import { UserFacingError } from './progress.js';
import { renderTree } from './render.js';
import {
  alertmanagerVersion,
  buildInfoMetric,
  executableVersion,
  prometheusBuildInfo,
  versionFromLog,
} from './reported-version.js';
import {
  collectorBinary,
  jaegerBinary,
  kafkaClasspath,
  postgresTools,
  prometheusTools,
  victoriaLogsBinary,
  zipkinJar,
} from './tools.js';
import { pin } from './versions.js';

export interface Context {
  profile: Profile;
  ports: PortMap;
  varDir: string;
  logDir: (component: string) => string;
}

export function context(profile: Profile): Context {
  return { profile, ports: portsFor(profile), varDir: varDir(profile), logDir: (c) => componentLogDir(profile, c) };
}

export interface Launch {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  executable?: string;
}

export interface Component {
  name: ComponentName;
  group: 'infra' | 'services';
  /** Ports this component listens on (checked free before start). */
  listens: (ctx: Context) => number[];
  /** The URL or address shown by `status` and printed by `start`. */
  url: (ctx: Context) => string;
  prepare?: (ctx: Context) => Promise<void> | void;
  launch: (ctx: Context) => Launch;
  healthy: (ctx: Context) => Promise<boolean>;
  /** Runs once after the first healthy check (e.g. create the database role). */
  afterHealthy?: (ctx: Context) => Promise<void> | void;
  /** The version the running process reports (`status` prints it; the smoke test checks it). */
  version: (ctx: Context, pid: number) => Promise<string | undefined>;
  stopSignal?: NodeJS.Signals;
  startTimeoutMs?: number;
}

const LOCAL_DB = { user: 'pynomaly', password: 'pynomaly', database: 'pynomaly' };

export function databaseUrl(ctx: Context): string {
  return `postgres://${LOCAL_DB.user}:${LOCAL_DB.password}@127.0.0.1:${port(ctx.ports, 'postgres', 'sql')}/${LOCAL_DB.database}`;
}

/** The profile's admin key (what `start` prints and the tests use). */
export function apiKey(profile: Profile): string {
  return profile === 'test' ? 'pynomaly-test-key' : 'pynomaly-dev-key';
}

/**
 * A secret of the profile, from compose/<profile>-secrets/ (the files compose mounts too):
 * `api-webhook-token` (Alertmanager's alerts:write key), `scrape-token` (Prometheus' bearer token
 * for the services' metrics), `kafka-password` (the services' SCRAM password on Kafka).
 */
export function profileSecret(profile: Profile, name: 'api-webhook-token' | 'scrape-token' | 'kafka-password'): string {
  return readFileSync(join(projectRoot, 'compose', `${profile}-secrets`, name), 'utf8').trim();
}

/** The keys the local API accepts: the admin key, and the webhook's key that can only post alerts. */
export function apiKeysConfig(profile: Profile): string {
  return JSON.stringify([
    { name: 'local', scopes: ['admin', 'metrics:read'], keys: [apiKey(profile)] },
    { name: 'alertmanager', scopes: ['alerts:write'], keys: [profileSecret(profile, 'api-webhook-token')] },
  ]);
}

/** The plaintext listener: the tests' own clients and the Collector's kafkametrics receiver. */
export function kafkaBrokers(ctx: Context): string[] {
  return [`127.0.0.1:${port(ctx.ports, 'kafka', 'broker')}`];
}

/** The SASL/SCRAM-SHA-512 listener the services use, as production Kafka requires credentials. */
export const KAFKA_SASL_USER = 'pynomaly';
export function kafkaSaslBrokers(ctx: Context): string[] {
  return [`127.0.0.1:${port(ctx.ports, 'kafka', 'sasl')}`];
}

const asRoot = () => process.getuid?.() === 0;

/**
 * Postgres refuses to run as root; as root we drop to an unprivileged user: `postgres` when the
 * system has one, otherwise `nobody`.
 */
function postgresUser(): { uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    try {
      return {
        uid: Number(execFileSync('id', ['-u', name], { stdio: 'pipe' }).toString()),
        gid: Number(execFileSync('id', ['-g', name], { stdio: 'pipe' }).toString()),
      };
    } catch {
      // no such user; try the next
    }
  }
  throw new Error('running as root, but neither a postgres nor a nobody user exists to run Postgres as');
}

function asPostgresUser(command: string, args: string[]): Launch {
  if (!asRoot()) return { command, args };
  const { uid, gid } = postgresUser();
  return {
    command: 'setpriv',
    args: [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', command, ...args],
    executable: 'postgres',
  };
}

/** Runs SQL as the `postgres` superuser over the cluster's Unix socket (local connections are trusted). */
export async function superuserQuery(ctx: Context, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({
    host: postgresDataDir(ctx.profile),
    port: port(ctx.ports, 'postgres', 'sql'),
    user: 'postgres',
    database: 'postgres',
  });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

const postgres: Component = {
  name: 'postgres',
  group: 'infra',
  listens: (ctx) => [port(ctx.ports, 'postgres', 'sql')],
  url: (ctx) => databaseUrl(ctx).replace(/:[^:@/]+@/, ':***@'),
  prepare: (ctx) => {
    const data = postgresDataDir(ctx.profile);
    if (existsSync(join(data, 'PG_VERSION'))) {
      // A cluster made by another major version cannot be opened; say so instead of a log tail.
      const made = readFileSync(join(data, 'PG_VERSION'), 'utf8').trim();
      const running = pin('postgres').version.split('.')[0];
      if (made !== running)
        throw new UserFacingError(
          `The ${ctx.profile} database in ${data} was created by Postgres ${made}; the stack runs Postgres ${pin('postgres').version} ` +
            `(versions.yaml). Start with a new one (deletes the local data): npm run stack -- up --fresh --profile ${ctx.profile}`,
        );
      return;
    }
    mkdirSync(data, { recursive: true, mode: 0o700 });
    const owner = asRoot() ? postgresUser() : undefined;
    if (owner) {
      chownSync(join(data, '..'), owner.uid, owner.gid);
      chownSync(data, owner.uid, owner.gid);
    }
    const initdb = asPostgresUser(postgresTools.initdb(), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--no-instructions',
    ]);
    execFileSync(initdb.command, initdb.args, { stdio: 'pipe' });
  },
  launch: (ctx) => {
    const data = postgresDataDir(ctx.profile);
    return asPostgresUser(postgresTools.postgres(), [
      '-D',
      data,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${port(ctx.ports, 'postgres', 'sql')}`,
      '-c',
      `unix_socket_directories=${data}`,
      '-c',
      'max_connections=200',
      '-c',
      'fsync=on',
    ]);
  },
  healthy: (ctx) => postgresReady(port(ctx.ports, 'postgres', 'sql')),
  version: async (ctx) => String((await superuserQuery(ctx, 'SHOW server_version')).rows[0]?.server_version ?? ''),
  afterHealthy: async (ctx) => {
    const role = await superuserQuery(ctx, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [LOCAL_DB.user]);
    if (role.rowCount === 0) {
      await superuserQuery(ctx, `CREATE ROLE ${LOCAL_DB.user} LOGIN PASSWORD '${LOCAL_DB.password}'`);
      await superuserQuery(ctx, `GRANT pg_monitor TO ${LOCAL_DB.user}`);
    }
    const db = await superuserQuery(ctx, 'SELECT 1 FROM pg_database WHERE datname = $1', [LOCAL_DB.database]);
    if (db.rowCount === 0) await superuserQuery(ctx, `CREATE DATABASE ${LOCAL_DB.database} OWNER ${LOCAL_DB.user}`);
  },
  stopSignal: 'SIGINT', // "fast" shutdown: SIGTERM would wait for every client to leave
  startTimeoutMs: 60_000,
};

const kafka: Component = {
  name: 'kafka',
  group: 'infra',
  listens: (ctx) => [
    port(ctx.ports, 'kafka', 'broker'),
    port(ctx.ports, 'kafka', 'controller'),
    port(ctx.ports, 'kafka', 'sasl'),
  ],
  url: (ctx) => `kafka://${kafkaBrokers(ctx).join(',')}`,
  prepare: (ctx) => {
    const dir = join(ctx.varDir, 'kafka');
    const logDirs = join(dir, 'data');
    const broker = port(ctx.ports, 'kafka', 'broker');
    const controller = port(ctx.ports, 'kafka', 'controller');
    const sasl = port(ctx.ports, 'kafka', 'sasl');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'server.properties'),
      [
        '# Rendered by compose/local: a single KRaft node that is both broker and controller.',
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controller}`,
        `listeners=PLAINTEXT://127.0.0.1:${broker},CONTROLLER://127.0.0.1:${controller},SASL_PLAINTEXT://127.0.0.1:${sasl}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${broker},SASL_PLAINTEXT://127.0.0.1:${sasl}`,
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
        // The services' listener: SCRAM-SHA-512 with the user created at format time (below).
        'sasl.enabled.mechanisms=SCRAM-SHA-512',
        'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${logDirs}`,
        'num.partitions=6',
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=true',
        'log.retention.hours=168',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'log4j2.properties'),
      [
        'status = warn',
        'appender.out.type = Console',
        'appender.out.name = STDOUT',
        'appender.out.layout.type = PatternLayout',
        'appender.out.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = info',
        'rootLogger.appenderRef.out.ref = STDOUT',
        'logger.kafka.name = kafka',
        'logger.kafka.level = info',
        'logger.state.name = state.change.logger',
        'logger.state.level = warn',
        '',
      ].join('\n'),
    );
    if (!existsSync(join(logDirs, 'meta.properties'))) {
      const clusterId = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
      execFileSync(
        'java',
        [
          '-cp',
          kafkaClasspath(),
          `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          join(dir, 'server.properties'),
          '--add-scram',
          `SCRAM-SHA-512=[name=${KAFKA_SASL_USER},password=${profileSecret(ctx.profile, 'kafka-password')}]`,
        ],
        { stdio: 'pipe' },
      );
      writeFileSync(join(dir, 'scram-user'), KAFKA_SASL_USER);
    }
  },
  // A data directory formatted before the SASL listener existed has no SCRAM user: add it once.
  afterHealthy: (ctx) => {
    const marker = join(ctx.varDir, 'kafka', 'scram-user');
    if (existsSync(marker)) return;
    execFileSync(
      'java',
      [
        '-cp',
        kafkaClasspath(),
        `-Dlog4j2.configurationFile=${join(ctx.varDir, 'kafka', 'log4j2.properties')}`,
        'kafka.admin.ConfigCommand',
        '--bootstrap-server',
        kafkaBrokers(ctx).join(','),
        '--alter',
        '--entity-type',
        'users',
        '--entity-name',
        KAFKA_SASL_USER,
        '--add-config',
        `SCRAM-SHA-512=[password=${profileSecret(ctx.profile, 'kafka-password')}]`,
      ],
      { stdio: 'pipe' },
    );
    writeFileSync(marker, KAFKA_SASL_USER);
  },
  launch: (ctx) => {
    const dir = join(ctx.varDir, 'kafka');
    return {
      command: 'java',
      args: [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        '-cp',
        kafkaClasspath(),
        'kafka.Kafka',
        join(dir, 'server.properties'),
      ],
    };
  },
  healthy: (ctx) => kafkaAnswersMetadata(kafkaBrokers(ctx)),
  // The broker logs its version once at startup (AppInfoParser).
  version: async (ctx) => versionFromLog(join(ctx.logDir('kafka'), 'kafka.log'), /Kafka version: (\S+)/),
  startTimeoutMs: 90_000,
};

/** Environment that points collector/config.yaml at local addresses (the file itself is unchanged). */
export function collectorEnv(ctx: Context): NodeJS.ProcessEnv {
  const p = (role: string) => port(ctx.ports, 'otel-collector', role);
  const storage = join(ctx.varDir, 'otel-collector', 'queue');
  mkdirSync(storage, { recursive: true });
  return {
    OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${p('grpc')}`,
    OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${p('http')}`,
    OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${p('prometheus')}`,
    OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${p('health')}`,
    OTELCOL_TELEMETRY_HOST: '127.0.0.1',
    OTELCOL_TELEMETRY_PORT: String(p('telemetry')),
    OTELCOL_QUEUE_DIR: storage,
    KAFKA_BROKERS: kafkaBrokers(ctx).join(','),
    TRACE_BACKEND_ENDPOINT: `127.0.0.1:${port(ctx.ports, 'trace-backend', 'grpc')}`,
    ZIPKIN_ENDPOINT: `http://127.0.0.1:${port(ctx.ports, 'zipkin', 'http')}/api/v2/spans`,
    LOG_STORE_ENDPOINT: `http://127.0.0.1:${port(ctx.ports, 'log-store', 'http')}/insert/opentelemetry/v1/logs`,
    PYNOMALY_ENVIRONMENT: ctx.profile === 'dev' ? 'development' : 'test',
  };
}

export function traceBackendEnv(ctx: Context): NodeJS.ProcessEnv {
  const p = (role: string) => `127.0.0.1:${port(ctx.ports, 'trace-backend', role)}`;
  return {
    JAEGER_OTLP_GRPC_ENDPOINT: p('grpc'),
    JAEGER_QUERY_HTTP_ENDPOINT: p('query'),
    JAEGER_QUERY_GRPC_ENDPOINT: p('queryGrpc'),
    JAEGER_HEALTH_ENDPOINT: p('health'),
    JAEGER_TELEMETRY_HOST: '127.0.0.1',
    JAEGER_TELEMETRY_PORT: String(port(ctx.ports, 'trace-backend', 'telemetry')),
  };
}

const traceBackend: Component = {
  name: 'trace-backend',
  group: 'infra',
  listens: (ctx) => Object.values(ctx.ports['trace-backend']),
  url: (ctx) =>
    `Jaeger http://127.0.0.1:${port(ctx.ports, 'trace-backend', 'query')} (OTLP 127.0.0.1:${port(ctx.ports, 'trace-backend', 'grpc')})`,
  launch: (ctx) => ({
    command: jaegerBinary(),
    args: ['--config', join(projectRoot, 'collector', 'jaeger.yaml')],
    env: traceBackendEnv(ctx),
  }),
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'trace-backend', 'health')}/status`),
  version: (_ctx, pid) => executableVersion(pid, ['version'], /"gitVersion":"v?([^"]+)"/),
};

/**
 * Zipkin, the second trace backend (Lens UI at its root). In-memory storage with a bounded span
 * count: it is the place to look at recent traces; Jaeger keeps them for the query API. The bound
 * must fit the heap: our spans (SQL text, a dozen attributes) take a few KiB each in Zipkin's
 * store, and 200,000 of them ran a 384 MiB heap out of memory under a few minutes of load.
 */
export const ZIPKIN_MAX_SPANS = 50_000;

const zipkin: Component = {
  name: 'zipkin',
  group: 'infra',
  listens: (ctx) => [port(ctx.ports, 'zipkin', 'http')],
  url: (ctx) => `Zipkin UI http://127.0.0.1:${port(ctx.ports, 'zipkin', 'http')}/zipkin/`,
  launch: (ctx) => {
    const p = port(ctx.ports, 'zipkin', 'http');
    return {
      command: 'java',
      args: [
        '-Xms64m',
        '-Xmx384m',
        '-XX:+ExitOnOutOfMemoryError',
        '-jar',
        zipkinJar(),
        // Only on the loopback interface (its default is every interface).
        `--armeria.ports[0].ip=127.0.0.1`,
        `--armeria.ports[0].port=${p}`,
      ],
      env: { STORAGE_TYPE: 'mem', MEM_MAX_SPANS: String(ZIPKIN_MAX_SPANS), QUERY_PORT: String(p) },
    };
  },
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'zipkin', 'http')}/health`),
  version: async (ctx) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port(ctx.ports, 'zipkin', 'http')}/info`, {
        signal: AbortSignal.timeout(3000),
      });
      return ((await res.json()) as { zipkin?: { version?: string } }).zipkin?.version;
    } catch {
      return undefined;
    }
  },
  startTimeoutMs: 90_000,
};

/** VictoriaLogs keeps this long locally, and no more than this much disk. */
export const LOG_STORE_RETENTION = { period: '7d', maxDiskBytes: '2GiB' } as const;

const logStore: Component = {
  name: 'log-store',
  group: 'infra',
  listens: (ctx) => [port(ctx.ports, 'log-store', 'http')],
  url: (ctx) => `VictoriaLogs UI http://127.0.0.1:${port(ctx.ports, 'log-store', 'http')}/select/vmui/`,
  launch: (ctx) => ({
    command: victoriaLogsBinary(),
    args: [
      `-storageDataPath=${join(ctx.varDir, 'victoria-logs')}`,
      `-httpListenAddr=127.0.0.1:${port(ctx.ports, 'log-store', 'http')}`,
      `-retentionPeriod=${LOG_STORE_RETENTION.period}`,
      `-retention.maxDiskSpaceUsageBytes=${LOG_STORE_RETENTION.maxDiskBytes}`,
    ],
  }),
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'log-store', 'http')}/health`),
  version: (_ctx, pid) => executableVersion(pid, ['--version'], /-tags-v(\d+\.\d+\.\d+)/),
};

const collector: Component = {
  name: 'otel-collector',
  group: 'infra',
  listens: (ctx) => Object.values(ctx.ports['otel-collector']),
  url: (ctx) =>
    `otlp grpc 127.0.0.1:${port(ctx.ports, 'otel-collector', 'grpc')}, http://127.0.0.1:${port(ctx.ports, 'otel-collector', 'prometheus')}/metrics`,
  launch: (ctx) => ({
    command: collectorBinary(),
    args: ['--config', join(projectRoot, 'collector', 'config.yaml')],
    env: collectorEnv(ctx),
  }),
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'otel-collector', 'health')}/`),
  version: (_ctx, pid) => executableVersion(pid, ['--version'], /version (\S+)/),
};

function renderedConfig(ctx: Context, part: 'prometheus' | 'alertmanager'): string {
  return join(ctx.varDir, 'config', part);
}

const prometheus: Component = {
  name: 'prometheus',
  group: 'infra',
  listens: (ctx) => [port(ctx.ports, 'prometheus', 'http')],
  url: (ctx) => `http://127.0.0.1:${port(ctx.ports, 'prometheus', 'http')}`,
  prepare: (ctx) => {
    // Rules and prometheus.yml as they are; the local environment's file_sd targets become the
    // active ones (compose mounts targets/compose/ there instead).
    const out = renderedConfig(ctx, 'prometheus');
    renderTree(
      join(projectRoot, 'prometheus'),
      out,
      ctx.ports,
      (rel) => rel === 'tests' || rel === 'targets' || rel.endsWith('.md'),
    );
    renderTree(join(projectRoot, 'prometheus', 'targets', 'local'), join(out, 'targets', 'active'), ctx.ports);
    // prometheus.yml sends this bearer token to the services' metrics endpoints.
    mkdirSync(join(out, 'secrets'), { recursive: true });
    writeFileSync(join(out, 'secrets', 'scrape-token'), profileSecret(ctx.profile, 'scrape-token'), { mode: 0o600 });
  },
  launch: (ctx) => ({
    command: prometheusTools.prometheus(),
    args: [
      `--config.file=${join(renderedConfig(ctx, 'prometheus'), 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(ctx.varDir, 'prometheus')}`,
      '--storage.tsdb.retention.time=30d',
      // Exemplars (trace ids on the span latency histograms) for Grafana's exemplar → trace links.
      '--enable-feature=exemplar-storage',
      `--web.listen-address=127.0.0.1:${port(ctx.ports, 'prometheus', 'http')}`,
      '--web.enable-lifecycle',
    ],
  }),
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'prometheus', 'http')}/-/ready`),
  version: (ctx) => prometheusBuildInfo(`http://127.0.0.1:${port(ctx.ports, 'prometheus', 'http')}`),
};

const alertmanager: Component = {
  name: 'alertmanager',
  group: 'infra',
  listens: (ctx) => [port(ctx.ports, 'alertmanager', 'http')],
  url: (ctx) => `http://127.0.0.1:${port(ctx.ports, 'alertmanager', 'http')}`,
  prepare: (ctx) => {
    const out = renderedConfig(ctx, 'alertmanager');
    renderTree(join(projectRoot, 'alertmanager'), out, ctx.ports, (rel) => rel === 'tests' || rel.endsWith('.md'));
    // The webhook receiver authenticates to the API with its alerts:write key, read from a file
    // next to the config (a mounted Secret in compose/k8s); locally the profile's secret.
    mkdirSync(join(out, 'secrets'), { recursive: true });
    writeFileSync(join(out, 'secrets', 'api-webhook-token'), profileSecret(ctx.profile, 'api-webhook-token'), {
      mode: 0o600,
    });
  },
  launch: (ctx) => ({
    command: prometheusTools.alertmanager(),
    args: [
      `--config.file=${join(renderedConfig(ctx, 'alertmanager'), 'alertmanager.yml')}`,
      `--storage.path=${join(ctx.varDir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${port(ctx.ports, 'alertmanager', 'http')}`,
      `--web.external-url=http://127.0.0.1:${port(ctx.ports, 'alertmanager', 'http')}`,
      '--cluster.listen-address=', // single instance: no gossip port on 0.0.0.0
    ],
  }),
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'alertmanager', 'http')}/-/ready`),
  version: (ctx) => alertmanagerVersion(`http://127.0.0.1:${port(ctx.ports, 'alertmanager', 'http')}`),
};

const postgresExporter: Component = {
  name: 'postgres-exporter',
  group: 'infra',
  listens: (ctx) => [port(ctx.ports, 'postgres-exporter', 'http')],
  url: (ctx) => `http://127.0.0.1:${port(ctx.ports, 'postgres-exporter', 'http')}/metrics`,
  launch: (ctx) => ({
    command: prometheusTools['postgres-exporter'](),
    args: [`--web.listen-address=127.0.0.1:${port(ctx.ports, 'postgres-exporter', 'http')}`],
    env: { DATA_SOURCE_NAME: `${databaseUrl(ctx)}?sslmode=disable` },
  }),
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'postgres-exporter', 'http')}/metrics`),
  version: (ctx) =>
    buildInfoMetric(
      `http://127.0.0.1:${port(ctx.ports, 'postgres-exporter', 'http')}/metrics`,
      'postgres_exporter_build_info',
    ),
};

const nodeExporter: Component = {
  name: 'node-exporter',
  group: 'infra',
  listens: (ctx) => [port(ctx.ports, 'node-exporter', 'http')],
  url: (ctx) => `http://127.0.0.1:${port(ctx.ports, 'node-exporter', 'http')}/metrics`,
  launch: (ctx) => ({
    command: prometheusTools['node-exporter'](),
    args: [`--web.listen-address=127.0.0.1:${port(ctx.ports, 'node-exporter', 'http')}`],
  }),
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'node-exporter', 'http')}/metrics`),
  version: (ctx) =>
    buildInfoMetric(`http://127.0.0.1:${port(ctx.ports, 'node-exporter', 'http')}/metrics`, 'node_exporter_build_info'),
};

/** Mailpit: the SMTP server Alertmanager's email notifications go to; its HTTP API lists them. */
const mailpit: Component = {
  name: 'mailpit',
  group: 'infra',
  listens: (ctx) => Object.values(ctx.ports.mailpit),
  url: (ctx) =>
    `Mailpit http://127.0.0.1:${port(ctx.ports, 'mailpit', 'http')}/api/v1/messages (SMTP 127.0.0.1:${port(ctx.ports, 'mailpit', 'smtp')})`,
  launch: (ctx) => {
    const dir = join(ctx.varDir, 'mailpit');
    mkdirSync(dir, { recursive: true });
    return {
      command: prometheusTools.mailpit(),
      args: [
        `--smtp=127.0.0.1:${port(ctx.ports, 'mailpit', 'smtp')}`,
        `--listen=127.0.0.1:${port(ctx.ports, 'mailpit', 'http')}`,
        `--database=${join(dir, 'mailpit.db')}`,
        '--disable-version-check',
        // Offline and local: no reverse DNS lookup of the SMTP client.
        '--smtp-disable-rdns',
      ],
    };
  },
  healthy: (ctx) => httpOk(`http://127.0.0.1:${port(ctx.ports, 'mailpit', 'http')}/readyz`),
  version: (_ctx, pid) => executableVersion(pid, ['version', '--no-release-check'], / v(\S+) compiled with/),
};

/** Environment for the three services, per docs/CONVENTIONS.md. */
export function serviceEnv(ctx: Context, service: 'api' | 'training-worker' | 'drift-worker'): NodeJS.ProcessEnv {
  return {
    PYNOMALY_ENVIRONMENT: ctx.profile === 'dev' ? 'development' : 'test',
    DATABASE_URL: databaseUrl(ctx),
    KAFKA_BROKERS: kafkaSaslBrokers(ctx).join(','),
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: KAFKA_SASL_USER,
    KAFKA_SASL_PASSWORD: profileSecret(ctx.profile, 'kafka-password'),
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port(ctx.ports, 'otel-collector', 'grpc')}`,
    OTEL_SERVICE_NAME: service === 'api' ? 'pynomaly-api' : `pynomaly-${service}`,
    PYNOMALY_API_KEYS: apiKeysConfig(ctx.profile),
    PYNOMALY_SCRAPE_TOKEN: profileSecret(ctx.profile, 'scrape-token'),
    API_HOST: '127.0.0.1',
    API_PORT: String(port(ctx.ports, 'api', 'http')),
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(
      service === 'drift-worker'
        ? port(ctx.ports, 'drift-worker', 'metrics')
        : port(ctx.ports, 'training-worker', 'metrics'),
    ),
    LOG_DIR: ctx.logDir(service),
    ...(ctx.profile === 'test' ? { DRIFT_WINDOW_SIZE: process.env.DRIFT_WINDOW_SIZE ?? '200' } : {}),
    // Retention shortened to minutes by the soak (scripts/soak.ts); unset means the defaults.
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k, v]) => /^(RETENTION_|KAFKA_RETENTION$)/.test(k) && v !== undefined),
    ),
  };
}

function service(name: 'api' | 'training-worker' | 'drift-worker'): Component {
  const role = name === 'api' ? 'http' : 'metrics';
  const probe = (ctx: Context) => `http://127.0.0.1:${port(ctx.ports, name, role)}/health/ready`;
  return {
    name,
    group: 'services',
    listens: (ctx) => [port(ctx.ports, name, role)],
    url: (ctx) =>
      name === 'api'
        ? `http://127.0.0.1:${port(ctx.ports, 'api', 'http')} (docs: /docs)`
        : `http://127.0.0.1:${port(ctx.ports, name, role)}/metrics`,
    launch: (ctx) => ({
      command: process.execPath,
      args: ['--import', 'tsx', join(projectRoot, 'services', name, 'src', 'main.ts')],
      env: serviceEnv(ctx, name),
      executable: 'node',
    }),
    healthy: (ctx) => httpOk(probe(ctx)),
    version: (ctx) =>
      buildInfoMetric(
        name === 'api'
          ? `http://127.0.0.1:${port(ctx.ports, 'api', 'http')}/api/metrics`
          : `http://127.0.0.1:${port(ctx.ports, name, role)}/metrics`,
        'pynomaly_build_info',
        profileSecret(ctx.profile, 'scrape-token'),
      ),
    startTimeoutMs: 90_000,
  };
}

export const components: Component[] = [
  postgres,
  kafka,
  traceBackend,
  zipkin,
  logStore,
  collector,
  postgresExporter,
  nodeExporter,
  mailpit,
  alertmanager,
  service('api'),
  service('training-worker'),
  service('drift-worker'),
  prometheus,
];

export function componentByName(name: string): Component {
  const c = components.find((x) => x.name === name);
  if (!c) throw new Error(`unknown component "${name}"; known: ${components.map((x) => x.name).join(', ')}`);
  return c;
}
