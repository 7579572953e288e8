// Postgres, Prometheus, Alertmanager and the exporters come from Debian packages. We only use
// their binaries: the system services they ship are never started or touched.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from '../exec.js';
import { info, step, UserFacingError } from '../progress.js';
import { debianPackages, debianTools } from '../tools.js';

const javaAndMaven = [
  { binary: 'java', pkg: 'default-jre-headless' },
  { binary: 'mvn', pkg: 'maven' },
];

export function missingDebianPackages(): string[] {
  const missing = new Set<string>();
  const toolPackage: Record<keyof typeof debianTools, string> = {
    postgres: 'postgresql',
    initdb: 'postgresql',
    pg_isready: 'postgresql',
    psql: 'postgresql',
    prometheus: 'prometheus',
    promtool: 'prometheus',
    alertmanager: 'prometheus-alertmanager',
    amtool: 'prometheus-alertmanager',
    'postgres-exporter': 'prometheus-postgres-exporter',
    'node-exporter': 'prometheus-node-exporter',
  };
  for (const [tool, path] of Object.entries(debianTools)) {
    if (!existsSync(path())) missing.add(toolPackage[tool as keyof typeof debianTools]);
  }
  for (const { binary, pkg } of javaAndMaven) if (!which(binary)) missing.add(pkg);
  return [...missing].filter((p) => debianPackages.includes(p) || javaAndMaven.some((j) => j.pkg === p));
}

export async function ensureDebianPackages(logDir: string): Promise<void> {
  const missing = missingDebianPackages();
  if (missing.length === 0) {
    info('Debian packages: all present');
    return;
  }
  if (!which('apt-get')) {
    throw new UserFacingError(
      `These tools are missing: ${missing.join(', ')}, and this is not a Debian-like system (no apt-get).\n` +
        'Install them with your package manager, or run Pynomaly with Docker: docker compose -f compose/docker-compose.yml up',
    );
  }
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : which('sudo') ? ['sudo', '-n'] : undefined;
  if (!sudo) {
    throw new UserFacingError(
      `Missing Debian packages: ${missing.join(' ')}. Install them as root:\n  apt-get update && apt-get install -y ${missing.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const logFile = join(logDir, 'apt.log');
  const hint = `Try by hand: ${sudo.join(' ')} apt-get update && ${sudo.join(' ')} apt-get install -y ${missing.join(' ')}`;
  const cmd = (args: string[]): [string, string[]] =>
    sudo.length ? [sudo[0]!, [...sudo.slice(1), ...args]] : [args[0]!, args.slice(1)];
  await step('apt-get update', () => run(...cmd(['apt-get', 'update']), { env, logFile, hint }));
  await step(`apt-get install ${missing.join(' ')}`, () =>
    run(...cmd(['apt-get', 'install', '-y', '--no-install-recommends', ...missing]), { env, logFile, hint }),
  );
  const still = missingDebianPackages();
  if (still.length)
    throw new UserFacingError(`apt-get finished but these are still missing: ${still.join(', ')} (see ${logFile})`);
}
