// The few parts Debian ships at the pinned version (see versions.yaml), the Java runtime and Maven
// for Kafka, and Chromium for the UI tests. We only use their binaries: no system service they
// ship is started or touched.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from '../exec.js';
import { info, step, UserFacingError } from '../progress.js';
import { debianPackages } from '../tools.js';
import { pins } from '../versions.js';

const present = (binary: string) => (binary.startsWith('/') ? existsSync(binary) : which(binary) !== undefined);

export function missingDebianPackages(): string[] {
  return debianPackages.filter(({ binary }) => !present(binary)).map(({ pkg }) => pkg);
}

/** Upstream version of an installed Debian package (`0.11.1-3+b5` → `0.11.1`), if installed. */
function installedVersion(pkg: string): string | undefined {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { stdio: 'pipe' }).toString();
    return v.replace(/^\d+:/, '').replace(/[-+~].*$/, '') || undefined;
  } catch {
    return undefined;
  }
}

/** A part taken from Debian must be exactly the pinned version. */
function checkPinnedDebianVersions(): void {
  for (const [name, pin] of Object.entries(pins())) {
    const pkg = pin.local?.debian;
    if (!pkg) continue;
    const have = installedVersion(pkg);
    if (have && have !== pin.local?.debianVersion)
      throw new UserFacingError(
        `${name}: Debian's ${pkg} is ${have}, versions.yaml pins ${pin.local?.debianVersion}. ` +
          'Change the pin (and the images in compose/ and k8s/) or build that version another way.',
      );
  }
}

export async function ensureDebianPackages(logDir: string): Promise<void> {
  const missing = missingDebianPackages();
  if (missing.length === 0) {
    checkPinnedDebianVersions();
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
  checkPinnedDebianVersions();
}
