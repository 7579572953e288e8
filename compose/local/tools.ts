// Where each installed binary lives. Debian packages put theirs on fixed paths; what we build or
// download lives in the cache, keyed by the version or manifest that produced it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, projectRoot } from './paths.js';

export const KAFKA_VERSION = '4.1.1';
export const KAFKA_SCALA = '2.13';

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  return join(root, '15', 'bin');
}

export const debianTools = {
  postgres: () => join(postgresBinDir(), 'postgres'),
  initdb: () => join(postgresBinDir(), 'initdb'),
  pg_isready: () => join(postgresBinDir(), 'pg_isready'),
  psql: () => join(postgresBinDir(), 'psql'),
  prometheus: () => '/usr/bin/prometheus',
  promtool: () => '/usr/bin/promtool',
  alertmanager: () => '/usr/bin/prometheus-alertmanager',
  amtool: () => '/usr/bin/amtool',
  'postgres-exporter': () => '/usr/bin/prometheus-postgres-exporter',
  'node-exporter': () => '/usr/bin/prometheus-node-exporter',
} as const;

/** The Debian packages that provide the tools above. */
export const debianPackages = [
  'postgresql',
  'prometheus',
  'prometheus-alertmanager',
  'prometheus-postgres-exporter',
  'prometheus-node-exporter',
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

/** Jaeger v2's Go module version (the v1.x module tags carry the v2 binary in cmd/jaeger). */
export const JAEGER_MODULE_VERSION = 'v1.76.0';

export function jaegerHome(): string {
  return join(cacheDir(), 'jaeger', JAEGER_MODULE_VERSION);
}

export function jaegerBinary(): string {
  return process.env.PYNOMALY_JAEGER ?? join(jaegerHome(), 'jaeger');
}

export function kafkaHome(): string {
  return join(cacheDir(), 'kafka', `${KAFKA_SCALA}-${KAFKA_VERSION}`);
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
