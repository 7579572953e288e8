// The trace backend is Jaeger v2, built from its Go module: Jaeger v2 is a Collector distribution,
// so the same toolchain (and mostly the same module graph) as our own Collector build.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from '../exec.js';
import { info, step, UserFacingError } from '../progress.js';
import { goEnv, JAEGER_MODULE_VERSION, jaegerBinary, jaegerHome } from '../tools.js';

const MODULE = 'github.com/jaegertracing/jaeger';

export async function ensureJaeger(logDir: string): Promise<void> {
  if (existsSync(jaegerBinary())) {
    info(`Jaeger: cached ${jaegerBinary()}`);
    return;
  }
  if (!which('go'))
    throw new UserFacingError(
      'Go 1.24+ is needed to build Jaeger (https://go.dev/doc/install), or use the Docker path.',
    );
  const home = jaegerHome();
  const work = join(home, 'src');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // A throwaway module that requires Jaeger as a tool: `go install pkg@version` refuses modules
  // with replace directives, `go get -tool` + `go build` resolves the same graph without them.
  writeFileSync(join(work, 'go.mod'), 'module pynomaly.local/jaeger-build\n\ngo 1.24\n');
  const env = goEnv();
  const logFile = join(logDir, 'jaeger-build.log');
  const hint = `The Go module proxy (GOPROXY) must serve ${MODULE}@${JAEGER_MODULE_VERSION} and its dependencies.`;
  await step(`Jaeger ${JAEGER_MODULE_VERSION}: resolving modules`, () =>
    run('go', ['get', '-tool', `${MODULE}/cmd/jaeger@${JAEGER_MODULE_VERSION}`], { cwd: work, env, logFile, hint }),
  );
  const tmp = join(home, 'jaeger.tmp');
  await step(`Jaeger ${JAEGER_MODULE_VERSION}: compiling (several minutes on a first build)`, () =>
    run('go', ['build', '-trimpath', '-o', tmp, `${MODULE}/cmd/jaeger`], { cwd: work, env, logFile, hint }),
  );
  renameSync(tmp, jaegerBinary());
}
