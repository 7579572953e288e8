/**
 * Installs the offline validators the deployment checks use, into the Pynomaly cache
 * (`PYNOMALY_CACHE_DIR`, default `~/.cache/pynomaly`), from the Go module proxy only:
 *
 * - kustomize (`sigs.k8s.io/kustomize/kustomize/v5`), to build `k8s/`;
 * - compose-config, a small program in `scripts/tools/compose-config/` on the compose-go
 *   loader that `docker compose` itself uses: schema check, interpolation, consistency;
 * - the Compose specification JSON schema, from the compose-go module (`schema/compose-spec.json`);
 * - the Kubernetes OpenAPI v3 documents, from the `k8s.io/kubernetes` module (`api/openapi-spec/v3`).
 *
 * Idempotent: a tool whose binary (keyed on its version or source hash) is already in the cache is
 * not rebuilt, and `go mod download` answers from the module cache once a version is there.
 * The lead's bootstrap / vitest global setup calls `ensureDeploymentTools()`; the config tests call
 * it too, so running one test file on its own works.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const KUSTOMIZE_VERSION = 'v5.8.1';
export const COMPOSE_GO_VERSION = 'v2.16.2';
/** Kubernetes release whose OpenAPI documents the manifests are validated against. */
export const KUBERNETES_VERSION = 'v1.34.2';

export interface DeploymentTools {
  kustomize: string;
  composeConfig: string;
  composeSchema: string;
  /** Directory holding `api__v1_openapi.json`, `apis__apps__v1_openapi.json`, ... */
  kubernetesOpenApiDir: string;
}

const toolsDir = dirname(fileURLToPath(import.meta.url));

export function cacheDir(): string {
  return process.env.PYNOMALY_CACHE_DIR ?? join(homedir(), '.cache', 'pynomaly');
}

function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // The checksum database is not reachable here; go.sum files and pinned versions stand in for it.
  return { ...process.env, GOSUMDB: 'off', GOFLAGS: '-mod=mod', ...extra };
}

async function go(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  try {
    const { stdout } = await run('go', args, {
      cwd: opts.cwd,
      env: goEnv(opts.env),
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('the deployment checks need the Go toolchain (`go`) on PATH to install kustomize and schemas', {
        cause: err,
      });
    }
    throw new Error(`go ${args.join(' ')} failed:\n${e.stderr ?? e.message}`, { cause: err });
  }
}

/** `go mod download` one module version; returns its extracted directory in the module cache. */
export async function downloadModule(module: string, version: string): Promise<string> {
  const out = await go(['mod', 'download', '-json', `${module}@${version}`], { cwd: cacheDir() });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (info.Error || !info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no Dir'}`);
  return info.Dir;
}

/**
 * Builds into a temporary name and renames, so an interrupted build never leaves a half binary; the
 * temporary name is per process because vitest workers may install at the same time.
 */
async function installGoBinary(target: string, build: (tmpDir: string) => Promise<string>): Promise<string> {
  if (existsSync(target)) return target;
  mkdirSync(dirname(target), { recursive: true });
  const built = await build(dirname(target));
  if (built !== target) renameSync(built, target);
  if (dirname(built).endsWith('.tmp')) rmSync(dirname(built), { recursive: true, force: true });
  return target;
}

async function ensureKustomize(root: string): Promise<string> {
  const dir = join(root, `kustomize-${KUSTOMIZE_VERSION}`);
  return installGoBinary(join(dir, 'kustomize'), async (tmpDir) => {
    const gobin = join(tmpDir, `gobin.${process.pid}.tmp`);
    await go(['install', `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], { env: { GOBIN: gobin } });
    return join(gobin, 'kustomize');
  });
}

async function ensureComposeConfig(root: string): Promise<string> {
  const src = join(toolsDir, 'compose-config');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(src, f)));
  const dir = join(root, `compose-config-${hash.digest('hex').slice(0, 12)}`);
  return installGoBinary(join(dir, 'compose-config'), async (tmpDir) => {
    const out = join(tmpDir, `compose-config.${process.pid}.tmp`);
    await go(['build', '-o', out, '.'], { cwd: src });
    return out;
  });
}

let pending: Promise<DeploymentTools> | undefined;

/** Installs (once per process) and returns the paths of the deployment validators. */
export function ensureDeploymentTools(): Promise<DeploymentTools> {
  pending ??= (async () => {
    const root = join(cacheDir(), 'deploy-tools');
    mkdirSync(root, { recursive: true });
    const [kustomize, composeConfig, composeGoDir, kubernetesDir] = await Promise.all([
      ensureKustomize(root),
      ensureComposeConfig(root),
      downloadModule('github.com/compose-spec/compose-go/v2', COMPOSE_GO_VERSION),
      downloadModule('k8s.io/kubernetes', KUBERNETES_VERSION),
    ]);
    const tools: DeploymentTools = {
      kustomize,
      composeConfig,
      composeSchema: join(composeGoDir, 'schema', 'compose-spec.json'),
      kubernetesOpenApiDir: join(kubernetesDir, 'api', 'openapi-spec', 'v3'),
    };
    for (const [name, path] of Object.entries(tools)) {
      if (!existsSync(path)) throw new Error(`deployment tool ${name} is missing after install: ${path}`);
    }
    return tools;
  })();
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

// `tsx scripts/tools/install.ts` installs and prints the paths (used by bootstrap scripts).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureDeploymentTools().then(
    (tools) => console.log(JSON.stringify(tools, null, 2)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
