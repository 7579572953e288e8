// Where the runner keeps things. Everything is derived from the project root so a fresh clone
// anywhere works, and from two overrides so tests and a dev stack never share state.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Profile = 'dev' | 'test';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Install cache: downloaded jars, the built Collector, Go's module and build caches. */
export function cacheDir(): string {
  return resolve(process.env.PYNOMALY_CACHE_DIR ?? join(homedir(), '.cache', 'pynomaly'));
}

/** Data, pid files and rendered configs of one profile. */
export function varDir(profile: Profile): string {
  return resolve(process.env.PYNOMALY_VAR_DIR ?? join(projectRoot, 'var', profile));
}

/** `logs/<component>/` for the dev stack, one directory per component; tests keep theirs apart. */
export function logsRoot(profile: Profile): string {
  if (process.env.PYNOMALY_LOGS_DIR) return resolve(process.env.PYNOMALY_LOGS_DIR);
  return profile === 'dev' ? join(projectRoot, 'logs') : join(projectRoot, 'logs', 'test');
}

export function componentLogDir(profile: Profile, component: string): string {
  return join(logsRoot(profile), component);
}

/**
 * Postgres will not run as root, and its data directory must be reachable by the `postgres`
 * user; a clone under a private temp dir is not. When we are root the cluster lives under
 * /var/tmp, keyed by the var dir so two profiles or clones never collide.
 */
export function postgresDataDir(profile: Profile): string {
  if (process.getuid?.() !== 0) return join(varDir(profile), 'postgres');
  const key = createHash('sha256').update(varDir(profile)).digest('hex').slice(0, 12);
  return join('/var/tmp/pynomaly-postgres', `${profile}-${key}`);
}
