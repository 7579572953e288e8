// The bench's own stack: the local runner's test profile on a dedicated port offset and data
// dir (so it never collides with a developer's or the tests' stack), plus API children we
// start ourselves. Everything started here is stopped by `down`, even on failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

export const BENCH_ENV_DEFAULTS = {
  PYNOMALY_PORT_OFFSET: '40000',
  PYNOMALY_VAR_DIR: '/tmp/pyn-bench',
  PYNOMALY_LOGS_DIR: '/tmp/pyn-bench-logs',
  // The conventions' default window: the test profile's 200 would flatter rows/s.
  DRIFT_WINDOW_SIZE: '500',
};

/** Must run before the runner's modules compute ports and paths (they read env at call time). */
export function applyBenchEnv(): void {
  for (const [k, v] of Object.entries(BENCH_ENV_DEFAULTS)) {
    if (process.env[k] === undefined || process.env[k] === '') process.env[k] = v;
  }
}

import type * as StackModuleNs from '../../compose/local/stack.js';
import type * as ComponentsModuleNs from '../../compose/local/components.js';

type StackModule = typeof StackModuleNs;
type ComponentsModule = typeof ComponentsModuleNs;

export interface BenchStack {
  stack: StackModule;
  components: ComponentsModule;
  endpoints: Awaited<ReturnType<StackModule['upStack']>>;
  pid: (component: string) => number | undefined;
  /** Every component process the runner started (from its pid files). */
  pids: () => number[];
  down: () => Promise<void>;
}

export async function upBenchStack(log: (s: string) => void): Promise<BenchStack> {
  applyBenchEnv();
  const stack = await import('../../compose/local/stack.js');
  const components = await import('../../compose/local/components.js');
  log(
    `starting the test profile at port offset ${process.env.PYNOMALY_PORT_OFFSET} (data ${process.env.PYNOMALY_VAR_DIR})`,
  );
  const endpoints = await stack.upStack({ profile: 'test', only: 'all', fresh: true });
  const varDir = process.env.PYNOMALY_VAR_DIR!;
  return {
    stack,
    components,
    endpoints,
    pid: (name) => readPidFile(join(varDir, 'pids', `${name}.pid`)),
    pids: () =>
      readdirSync(join(varDir, 'pids'))
        .filter((f) => f.endsWith('.pid'))
        .map((f) => readPidFile(join(varDir, 'pids', f)))
        .filter((p): p is number => p !== undefined),
    down: () => stack.downStack('test'),
  };
}

/** The pid in one of the runner's pid files (JSON records, { pid, ... }); undefined when unreadable. */
function readPidFile(file: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** An API process of our own (same entry point and env as the runner's), on another port. */
export interface ApiChild {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

export async function startApiChild(
  s: BenchStack,
  opts: { port: number; env?: NodeJS.ProcessEnv; nodeArgs?: string[]; name: string },
): Promise<ApiChild> {
  const ctx = s.components.context('test');
  const logDir = join(process.env.PYNOMALY_LOGS_DIR!, opts.name);
  mkdirSync(logDir, { recursive: true });
  const env = {
    ...process.env,
    ...s.components.serviceEnv(ctx, 'api'),
    API_PORT: String(opts.port),
    LOG_DIR: logDir,
    LOG_LEVEL: 'warn',
    // The per-key request quota would cap the measured side at 6000/min and answer 429s.
    PYNOMALY_RATE_LIMIT_PER_MINUTE: '0',
    ...opts.env,
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', join(process.cwd(), 'services', 'api', 'src', 'main.ts')],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${opts.name} exited (${child.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} not ready in 90 s: ${stderr}`);
    }
    await sleep(300);
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  return { url, pid: child.pid!, stop };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Peak and current resident memory of a process (Linux /proc), in MiB. */
export function processMemory(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces, so they start
 * after the last ')'): index 0 is the state, 1 the parent pid, 11 and 12 user and system ticks.
 */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function processCpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  const ticksPerS = 100; // USER_HZ on Linux
  return (Number(f[11]) + Number(f[12])) / ticksPerS;
}

/** The parent pid of every process (Linux /proc), for finding a process's descendants. */
function parentPids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (f) out.set(Number(name), Number(f[1])); // else: exited meanwhile
  }
  return out;
}

/** The given processes and all their descendants. */
export function withDescendants(roots: readonly number[]): number[] {
  const parents = parentPids();
  const all = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parents)
      if (!all.has(pid) && all.has(ppid)) {
        all.add(pid);
        grew = true;
      }
  }
  return [...all];
}

export interface CpuPinning {
  /** Why it was not done, when it was not. */
  skipped?: string;
  restore: () => void;
}

/**
 * Gives `measured` (and every thread of theirs) the last CPU and moves `others` to the rest, the
 * way a CPU-limited container gets its own core: what the measured process does per request is
 * then not diluted by whatever else the machine is running at that moment. `taskset` (util-linux).
 */
export function pinCpus(measured: readonly number[], others: readonly number[]): CpuPinning {
  const cpus = availableParallelism();
  const none = (skipped: string): CpuPinning => ({ skipped, restore: () => {} });
  if (cpus < 2) return none(`one CPU only`);
  const all = `0-${cpus - 1}`;
  const rest = cpus === 2 ? '0' : `0-${cpus - 2}`;
  const set = (pids: readonly number[], list: string) => {
    for (const pid of pids) spawnSync('taskset', ['-a', '-pc', list, String(pid)], { stdio: 'ignore' });
  };
  const probe = spawnSync('taskset', ['-pc', String(process.pid)], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return none('taskset is not available');
  set(others, rest);
  set(measured, String(cpus - 1));
  return { restore: () => set([...others, ...measured], all) };
}
