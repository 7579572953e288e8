// Postgres at the pinned release: the upstream binaries (postgres, initdb and their libraries) as
// packaged per release on npm, installed with npm into a directory keyed by the version.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.js';
import { info, step, UserFacingError } from '../progress.js';
import { postgresHome, postgresTools } from '../tools.js';
import { localField, pin } from '../versions.js';

export function postgresInstalled(): boolean {
  return existsSync(join(postgresHome(), '.complete'));
}

export async function ensurePostgres(logDir: string): Promise<void> {
  const { version } = pin('postgres');
  if (postgresInstalled()) {
    info(`Postgres ${version}: cached in ${postgresHome()}`);
    return;
  }
  const pkg = `${localField('postgres', 'npm')}@${localField('postgres', 'packageVersion')}`;
  const home = postgresHome();
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true, mode: 0o755 });
  const logFile = join(logDir, 'postgres-install.log');
  await step(`Postgres ${version}: npm install ${pkg}`, () =>
    // The package's install script links the shared libraries' sonames, so scripts must run.
    run('npm', ['install', '--prefix', home, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', pkg], {
      logFile,
      hint: `npm must reach its registry and serve ${pkg}.`,
    }),
  );
  const reported = execFileSync(postgresTools.postgres(), ['--version']).toString().trim();
  if (!reported.endsWith(` ${version}`))
    throw new UserFacingError(`Postgres: ${pkg} reports "${reported}", versions.yaml pins ${version}`);
  writeFileSync(join(home, '.complete'), `${pkg}\n`);
}
