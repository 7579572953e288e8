// `install`: everything the stack needs, idempotent and cached. Each part says what it does.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../paths.js';
import { ensureCollector } from './collector.js';
import { ensureDebianPackages } from './debian.js';
import { ensureJaeger } from './jaeger.js';
import { ensureKafka } from './kafka.js';

export async function installAll(): Promise<void> {
  const logDir = join(cacheDir(), 'install-logs');
  mkdirSync(logDir, { recursive: true });
  await ensureDebianPackages(logDir);
  await ensureKafka(logDir);
  await ensureCollector(logDir);
  await ensureJaeger(logDir);
}
