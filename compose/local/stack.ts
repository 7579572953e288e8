// The stack as a whole: up (in order, each waiting for real health), down (reverse order, only
// what we started), status. Tests use this module directly; the CLI is a thin layer over it.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  apiKey,
  componentByName,
  components,
  context,
  databaseUrl,
  kafkaBrokers,
  profileSecret,
  type Component,
  type Context,
} from './components.js';
import { containerControl, containersMode } from './containers.js';
import { assertPortFree, waitUntil } from './health.js';
import { postgresDataDir, projectRoot, type Profile } from './paths.js';
import { port } from './ports.js';
import { killByPidFile, runningPid, startDetached, stopByPidFile, stopSpawned, type Spawned } from './processes.js';
import { info, UserFacingError } from './progress.js';

export type Selection = 'all' | 'infra';

export interface UpOptions {
  profile: Profile;
  only?: Selection;
  /** Wipe the profile's data first (tests start from an empty database and broker). */
  fresh?: boolean;
}

const pidFile = (ctx: Context, name: string) => join(ctx.varDir, 'pids', `${name}.pid`);
const logFile = (ctx: Context, name: string) => join(ctx.logDir(name), `${name}.log`);

function selected(only: Selection = 'all'): Component[] {
  return only === 'infra' ? components.filter((c) => c.group === 'infra') : components;
}

/**
 * Starts one component and waits until it is healthy. On failure (it exited, timed out, or its
 * after-start step failed) the process it spawned is stopped before the error is rethrown, so a
 * misjudged start leaves nothing behind. `onSpawn` hands the child to the caller, which stops it
 * if a later component fails.
 */
export async function startComponent(
  ctx: Context,
  c: Component,
  onSpawn: (s: Spawned) => void = () => undefined,
): Promise<'started' | 'already-running'> {
  if (runningPid(pidFile(ctx, c.name)) !== undefined) return 'already-running';
  await c.prepare?.(ctx);
  const launch = c.launch(ctx);
  const spawned = startDetached({
    command: launch.command,
    args: launch.args,
    env: { ...process.env, ...launch.env },
    cwd: projectRoot,
    logFile: logFile(ctx, c.name),
    pidFile: pidFile(ctx, c.name),
    executable: launch.executable,
  });
  onSpawn(spawned);
  try {
    await waitUntil(`${c.name} (pid ${spawned.record.pid})`, () => c.healthy(ctx), c.startTimeoutMs ?? 45_000, {
      logFile: logFile(ctx, c.name),
      alive: () => spawned.exit() === undefined,
    });
    await c.afterHealthy?.(ctx);
  } catch (err) {
    await stopSpawned(spawned, c.stopSignal ?? 'SIGTERM');
    throw err;
  }
  return 'started';
}

/**
 * Starts the components in order; when one fails, every process this call spawned is stopped
 * (in reverse order), the failed one included, and the error is rethrown.
 */
export async function startInOrder(
  ctx: Context,
  wanted: Component[],
  onSpawn: (s: Spawned) => void = () => undefined,
): Promise<void> {
  const spawned: { c: Component; s: Spawned }[] = [];
  try {
    for (const c of wanted) {
      const t0 = Date.now();
      const result = await startComponent(ctx, c, (s) => {
        spawned.push({ c, s });
        onSpawn(s);
      });
      info(
        `${c.name.padEnd(18)} ${result === 'started' ? `healthy in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'}`,
      );
    }
  } catch (err) {
    info('start failed; stopping every process this run started so nothing is left half-up');
    for (const { c, s } of spawned.reverse()) await stopSpawned(s, c.stopSignal ?? 'SIGTERM').catch(() => undefined);
    throw err;
  }
}

export async function stopComponent(ctx: Context, c: Component): Promise<'stopped' | 'not-running'> {
  return stopByPidFile(pidFile(ctx, c.name), c.stopSignal ?? 'SIGTERM');
}

/** SIGKILL, for fault tests: no shutdown hooks run. */
export async function killComponent(profile: Profile, name: string): Promise<boolean> {
  if (containersMode()) {
    await containerControl.kill(name);
    return true;
  }
  return killByPidFile(pidFile(context(profile), componentByName(name).name));
}

export async function restartComponent(profile: Profile, name: string): Promise<void> {
  if (containersMode()) return containerControl.restart(name);
  const ctx = context(profile);
  const c = componentByName(name);
  await stopComponent(ctx, c);
  await startComponent(ctx, c);
}

export async function startNamed(profile: Profile, name: string): Promise<void> {
  if (containersMode()) return containerControl.start(name);
  await startComponent(context(profile), componentByName(name));
}

export async function stopNamed(profile: Profile, name: string): Promise<void> {
  if (containersMode()) return containerControl.stop(name);
  await stopComponent(context(profile), componentByName(name));
}

export async function upStack(opts: UpOptions): Promise<Endpoints> {
  const ctx = context(opts.profile);
  if (opts.fresh) {
    await downStack(opts.profile);
    rmSync(ctx.varDir, { recursive: true, force: true });
    rmSync(postgresDataDir(opts.profile), { recursive: true, force: true });
  }
  const wanted = selected(opts.only);
  // Check every port first: a conflict must stop us before anything starts.
  for (const c of wanted) {
    if (runningPid(pidFile(ctx, c.name)) !== undefined) continue;
    for (const p of c.listens(ctx)) await assertPortFree(p, c.name);
  }
  await startInOrder(ctx, wanted);
  return endpoints(opts.profile);
}

/** `quiet` for test teardown, which runs after vitest has printed its summary. */
export async function downStack(profile: Profile, opts: { quiet?: boolean } = {}): Promise<void> {
  const ctx = context(profile);
  if (!existsSync(join(ctx.varDir, 'pids'))) return;
  for (const c of [...components].reverse()) {
    const result = await stopComponent(ctx, c);
    if (result === 'stopped' && !opts.quiet) info(`${c.name.padEnd(18)} stopped`);
  }
}

export interface StatusRow {
  component: string;
  ports: string;
  pid: string;
  health: 'healthy' | 'unhealthy' | 'stopped';
  /** As the running process reports it; '-' when stopped or it does not answer. */
  version: string;
  url: string;
}

export async function stackStatus(profile: Profile): Promise<StatusRow[]> {
  const ctx = context(profile);
  return Promise.all(
    components.map(async (c) => {
      const pid = runningPid(pidFile(ctx, c.name));
      const health = pid === undefined ? 'stopped' : (await c.healthy(ctx)) ? 'healthy' : 'unhealthy';
      const version = pid === undefined ? undefined : await c.version(ctx, pid).catch(() => undefined);
      return {
        component: c.name,
        ports: c.listens(ctx).join(','),
        pid: pid === undefined ? '-' : String(pid),
        health,
        version: version || '-',
        url: c.url(ctx),
      } satisfies StatusRow;
    }),
  );
}

export interface Endpoints {
  profile: Profile;
  apiUrl: string;
  apiKey: string;
  /** Bearer token of the services' metrics endpoints (what Prometheus sends). */
  scrapeToken: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Mailpit's web UI and HTTP API (`/api/v1/messages`); where the email notifications land. */
  mailpitUrl: string;
  databaseUrl: string;
  kafkaBrokers: string[];
  collector: { otlpGrpc: string; otlpHttp: string; telemetry: string; prometheus: string; health: string };
  /** Jaeger v2: OTLP in, query API (`/api/traces/<id>`) and UI at `query`. */
  traceBackend: { otlpGrpc: string; query: string; health: string };
  /** Zipkin: API (`/api/v2/trace/<id>`) and its UI at `/zipkin/`. */
  zipkin: string;
  /** VictoriaLogs: LogsQL API (`/select/logsql/query`) and its UI at `/select/vmui/`. */
  logStore: string;
  trainingWorkerMetrics: string;
  driftWorkerMetrics: string;
  postgresExporter: string;
  nodeExporter: string;
  logsDir: (component: string) => string;
}

export function endpoints(profile: Profile): Endpoints {
  const ctx = context(profile);
  const http = (c: Parameters<typeof port>[1], role: string) => `http://127.0.0.1:${port(ctx.ports, c, role)}`;
  return {
    profile,
    apiUrl: http('api', 'http'),
    apiKey: apiKey(profile),
    scrapeToken: profileSecret(profile, 'scrape-token'),
    prometheusUrl: http('prometheus', 'http'),
    alertmanagerUrl: http('alertmanager', 'http'),
    mailpitUrl: http('mailpit', 'http'),
    databaseUrl: databaseUrl(ctx),
    kafkaBrokers: kafkaBrokers(ctx),
    collector: {
      otlpGrpc: http('otel-collector', 'grpc'),
      otlpHttp: http('otel-collector', 'http'),
      telemetry: http('otel-collector', 'telemetry'),
      prometheus: http('otel-collector', 'prometheus'),
      health: http('otel-collector', 'health'),
    },
    traceBackend: {
      otlpGrpc: http('trace-backend', 'grpc'),
      query: http('trace-backend', 'query'),
      health: `${http('trace-backend', 'health')}/status`,
    },
    zipkin: http('zipkin', 'http'),
    logStore: http('log-store', 'http'),
    trainingWorkerMetrics: `${http('training-worker', 'metrics')}/metrics`,
    driftWorkerMetrics: `${http('drift-worker', 'metrics')}/metrics`,
    postgresExporter: `${http('postgres-exporter', 'http')}/metrics`,
    nodeExporter: `${http('node-exporter', 'http')}/metrics`,
    logsDir: (component) => ctx.logDir(component),
  };
}

export { UserFacingError };
