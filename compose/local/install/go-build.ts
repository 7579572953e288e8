// Builds a pinned Go program into the cache, keyed by its version: a throwaway module requires the
// upstream module as a tool (`go install pkg@version` refuses modules whose go.mod has replace or
// exclude directives), `go build` links it with the version stamped in, and the binary must then
// report that version before the build counts as cached.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from '../exec.js';
import { info, step, UserFacingError } from '../progress.js';
import { goEnv } from '../tools.js';

export interface GoProgram {
  /** Human name with version, for progress lines. */
  label: string;
  /** Cache directory of this version; the binaries land here. */
  home: string;
  module: string;
  moduleVersion: string;
  /** Package path (relative to the module, '' for its root) → binary name. */
  commands: { pkg: string; binary: string }[];
  ldflags: string[];
  tags?: string[];
  /** Runs in the work dir before modules are resolved; may return a local replacement of the module. */
  prepareSource?: (work: string, logFile: string) => Promise<string | undefined>;
  /** `binary args` must print a line containing `expect`. */
  versionCheck: { args: string[]; expect: string };
  logName: string;
}

const COMPLETE = '.complete';

export function goProgramInstalled(p: GoProgram): boolean {
  return existsSync(join(p.home, COMPLETE));
}

/** `go` runs niced: the machine is shared and compiling takes every core it can get. */
function goCommand(): [string, string[]] {
  return which('nice') ? ['nice', ['-n', '10', 'go']] : ['go', []];
}

export async function ensureGoProgram(p: GoProgram, logDir: string): Promise<void> {
  if (goProgramInstalled(p)) {
    info(`${p.label}: cached in ${p.home}`);
    return;
  }
  if (!which('go'))
    throw new UserFacingError(
      `Go 1.24+ is needed to build ${p.label} (https://go.dev/doc/install), or use the Docker path.`,
    );
  const env = goEnv();
  const logFile = join(logDir, `${p.logName}-build.log`);
  const hint = `The Go module proxy (GOPROXY) must serve ${p.module}@${p.moduleVersion} and its dependencies.`;
  const [goBin, goPrefix] = goCommand();
  const go = (args: string[], cwd: string) => run(goBin, [...goPrefix, ...args], { cwd, env, logFile, hint });

  const work = join(p.home, 'src');
  rmSync(p.home, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const replacement = await p.prepareSource?.(work, logFile);
  writeFileSync(
    join(work, 'go.mod'),
    `module pynomaly.local/${p.logName}-build\n\ngo 1.24\n${replacement ? `\nreplace ${p.module} => ${replacement}\n` : ''}`,
  );
  const pkgs = p.commands.map((c) => (c.pkg ? `${p.module}/${c.pkg}` : p.module));
  await step(`${p.label}: resolving modules`, () =>
    go(['get', '-tool', ...pkgs.map((pkg) => `${pkg}@${p.moduleVersion}`)], work),
  );
  const tmp = join(p.home, 'bin.tmp');
  mkdirSync(tmp, { recursive: true });
  await step(
    `${p.label}: compiling ${p.commands.map((c) => c.binary).join(', ')} (minutes on a first build)`,
    async () => {
      for (const [i, c] of p.commands.entries()) {
        const args = ['build', '-trimpath', '-ldflags', p.ldflags.join(' '), '-o', join(tmp, c.binary)];
        if (p.tags?.length) args.push('-tags', p.tags.join(','));
        await go([...args, pkgs[i]!], work);
      }
    },
  );
  for (const c of p.commands) {
    const out = execFileSync(join(tmp, c.binary), p.versionCheck.args, { stdio: 'pipe' }).toString();
    if (!out.includes(p.versionCheck.expect))
      throw new UserFacingError(
        `${p.label}: ${c.binary} ${p.versionCheck.args.join(' ')} does not report ${p.versionCheck.expect}:\n${out}`,
      );
    renameSync(join(tmp, c.binary), join(p.home, c.binary));
  }
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  writeFileSync(join(p.home, COMPLETE), `${p.module}@${p.moduleVersion}\n`);
}

/** ldflags that stamp prometheus/common's build info (what `--version` and build_info report). */
export function prometheusBuildInfo(version: string, revision: string): string[] {
  const v = 'github.com/prometheus/common/version';
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return [
    `-X ${v}.Version=${version}`,
    `-X ${v}.Revision=${revision}`,
    `-X ${v}.Branch=HEAD`,
    `-X ${v}.BuildUser=pynomaly`,
    `-X ${v}.BuildDate=${date}`,
  ];
}
