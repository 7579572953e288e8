// Where each installed binary lives: what we build or download lives in the cache, keyed by the
// version (versions.yaml) or manifest that produced it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, projectRoot } from './paths.js';
import { localField, pin } from './versions.js';

/** Build directory of a part built from source, keyed by its pinned version. */
const partHome =
  (part: 'prometheus' | 'alertmanager' | 'node-exporter' | 'jaeger' | 'mailpit' | 'victoria-logs' | 'zipkin') => () =>
    join(cacheDir(), part, pin(part).version);
export const prometheusHome = partHome('prometheus');
export const alertmanagerHome = partHome('alertmanager');
export const nodeExporterHome = partHome('node-exporter');
export const jaegerHome = partHome('jaeger');
export const mailpitHome = partHome('mailpit');
export const victoriaLogsHome = partHome('victoria-logs');
export const zipkinHome = partHome('zipkin');

export const KAFKA_SCALA = '2.13';
export const kafkaVersion = (): string => pin('kafka').version;

/**
 * Postgres' binaries. As root the server runs as an unprivileged user (Postgres refuses root),
 * which cannot enter root's home: then they live under /var/cache/pynomaly instead.
 */
export function postgresHome(): string {
  const base = process.getuid?.() === 0 ? '/var/cache/pynomaly' : cacheDir();
  return join(base, 'postgres', pin('postgres').version);
}

function postgresBin(binary: string): string {
  return join(postgresHome(), 'node_modules', ...localField('postgres', 'npm').split('/'), 'native', 'bin', binary);
}

export const postgresTools = {
  postgres: () => postgresBin('postgres'),
  initdb: () => postgresBin('initdb'),
} as const;

export const prometheusTools = {
  prometheus: () => join(prometheusHome(), 'prometheus'),
  promtool: () => join(prometheusHome(), 'promtool'),
  alertmanager: () => join(alertmanagerHome(), 'alertmanager'),
  amtool: () => join(alertmanagerHome(), 'amtool'),
  'node-exporter': () => join(nodeExporterHome(), 'node_exporter'),
  mailpit: () => join(mailpitHome(), 'mailpit'),
  /** Debian's package: it ships exactly the pinned version (see versions.yaml). */
  'postgres-exporter': () => '/usr/bin/prometheus-postgres-exporter',
} as const;

/** Debian packages the stack uses, each with the binary that shows it is installed. */
export const debianPackages = [
  { pkg: 'prometheus-postgres-exporter', binary: '/usr/bin/prometheus-postgres-exporter' },
  { pkg: 'default-jre-headless', binary: 'java' },
  { pkg: 'maven', binary: 'mvn' },
  // Headless browser for the UI tests (test/e2e/browser.test.ts).
  { pkg: 'chromium', binary: '/usr/bin/chromium' },
];

export function collectorManifest(): string {
  return join(projectRoot, 'collector', 'builder-config.yaml');
}

export function collectorBuildDir(): string {
  // Keyed on what the build reads, so editing a comment does not cost a rebuild.
  const significant = readFileSync(collectorManifest(), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .join('\n');
  const hash = createHash('sha256').update(significant).digest('hex').slice(0, 16);
  return join(cacheDir(), 'collector', hash);
}

/** The Collector built by ocb from collector/builder-config.yaml (PYNOMALY_OTELCOL overrides). */
export function collectorBinary(): string {
  return process.env.PYNOMALY_OTELCOL ?? join(collectorBuildDir(), 'otelcol-pynomaly');
}

export function jaegerBinary(): string {
  return process.env.PYNOMALY_JAEGER ?? join(jaegerHome(), 'jaeger');
}

export function victoriaLogsBinary(): string {
  return join(victoriaLogsHome(), 'victoria-logs');
}

/** Zipkin's executable jar (the server with its Lens UI), as Maven fetched it. */
export function zipkinJar(): string {
  return join(zipkinHome(), `zipkin-server-${pin('zipkin').version}-exec.jar`);
}

export function kafkaHome(): string {
  return join(cacheDir(), 'kafka', `${KAFKA_SCALA}-${kafkaVersion()}`);
}

export function kafkaClasspath(): string {
  return join(kafkaHome(), 'libs', '*');
}

export function goEnv(): NodeJS.ProcessEnv {
  const cache = cacheDir();
  return {
    ...process.env,
    GOPATH: join(cache, 'go'),
    GOCACHE: join(cache, 'go-build'),
    GOFLAGS: '-modcacherw',
    // The module proxy here serves modules but not the checksum database; go.sum of each
    // module still pins what was downloaded.
    GOSUMDB: 'off',
    CGO_ENABLED: '0',
  };
}
