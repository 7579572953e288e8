// The Collector is our own distribution, built by the OpenTelemetry Collector Builder from the
// pinned manifest in collector/. The cache is keyed by the manifest's hash: edit it, get a rebuild.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from '../exec.js';
import { cacheDir } from '../paths.js';
import { info, step, UserFacingError } from '../progress.js';
import { collectorBinary, collectorBuildDir, collectorManifest, goEnv } from '../tools.js';

export function builderVersion(): string {
  const manifest = readFileSync(collectorManifest(), 'utf8');
  const m = /go\.opentelemetry\.io\/collector\/\S+ (v\d+\.\d+\.\d+)/.exec(manifest);
  if (!m?.[1]) throw new UserFacingError(`cannot find the core Collector version in ${collectorManifest()}`);
  return m[1];
}

export async function ensureCollector(logDir: string): Promise<void> {
  if (existsSync(collectorBinary())) {
    info(`Collector: cached ${collectorBinary()}`);
    return;
  }
  if (!which('go')) {
    throw new UserFacingError(
      'Go 1.24+ is needed to build the OpenTelemetry Collector (https://go.dev/doc/install), or use the Docker path.',
    );
  }
  const version = builderVersion();
  const env = goEnv();
  const builder = join(cacheDir(), 'go', 'bin', 'builder');
  const logFile = join(logDir, 'collector-build.log');
  const hint = 'The Go module proxy (GOPROXY) must serve the modules named in collector/builder-config.yaml.';
  const versionFile = join(cacheDir(), 'go', 'builder.version');
  const haveBuilder =
    existsSync(builder) && existsSync(versionFile) && readFileSync(versionFile, 'utf8').trim() === version;
  if (!haveBuilder) {
    await step(`ocb ${version}: go install`, () =>
      run('go', ['install', `go.opentelemetry.io/collector/cmd/builder@${version}`], { env, logFile, hint }),
    );
    writeFileSync(versionFile, version);
  }
  const out = collectorBuildDir();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await step(`Collector: building with ocb ${version} (first build downloads modules, a few minutes)`, () =>
    run(builder, ['--config', collectorManifest(), '--output-path', out], { env, logFile, hint }),
  );
  if (!existsSync(collectorBinary()))
    throw new UserFacingError(`ocb finished but ${collectorBinary()} is missing (see ${logFile})`);
}
