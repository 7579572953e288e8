// `install`: every part at the version versions.yaml pins, idempotent and cached. Each part says
// what it does. Independent builds run in two lanes of about equal length (Prometheus' web UI and
// compile, then VictoriaLogs and Mailpit; next to the downloads and the other compiles).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../paths.js';
import { UserFacingError } from '../progress.js';
import { ensureCollector } from './collector.js';
import { ensureDebianPackages } from './debian.js';
import { ensureGoProgram } from './go-build.js';
import { ensureKafka } from './kafka.js';
import { ensurePostgres } from './postgres.js';
import {
  alertmanagerProgram,
  jaegerProgram,
  mailpitProgram,
  nodeExporterProgram,
  prometheusProgram,
  victoriaLogsProgram,
} from './prometheus-ecosystem.js';
import { ensureZipkin } from './zipkin.js';

export async function installAll(): Promise<void> {
  const logDir = join(cacheDir(), 'install-logs');
  mkdirSync(logDir, { recursive: true });
  await ensureDebianPackages(logDir);
  const lanes = await Promise.allSettled([
    // The second-largest builds follow Prometheus, so the lanes end at about the same time.
    (async () => {
      await ensureGoProgram(prometheusProgram(), logDir);
      await ensureGoProgram(victoriaLogsProgram(), logDir);
      await ensureGoProgram(mailpitProgram(), logDir);
    })(),
    (async () => {
      await ensurePostgres(logDir);
      await ensureKafka(logDir);
      await ensureZipkin(logDir);
      await ensureGoProgram(alertmanagerProgram(), logDir);
      await ensureGoProgram(nodeExporterProgram(), logDir);
      await ensureCollector(logDir);
      await ensureGoProgram(jaegerProgram(), logDir);
    })(),
  ]);
  // Both lanes run to their end (no build is left running behind a failed one); then every
  // failure is reported.
  const failures = lanes.flatMap((l) => (l.status === 'rejected' ? [l.reason as unknown] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new UserFacingError(
      failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n--- and ---\n\n'),
    );
}
