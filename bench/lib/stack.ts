// The bench's own stack: the local runner's test profile on a dedicated port offset and data
// dir (so it never collides with a developer's or the tests' stack), plus API children we
// start ourselves. Everything started here is stopped by `down`, even on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
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
    pid: (name) => {
      try {
        // The runner's pid files are JSON records ({ pid, ... }).
        const rec = JSON.parse(readFileSync(join(varDir, 'pids', `${name}.pid`), 'utf8')) as { pid?: number };
        return rec.pid;
      } catch {
        return undefined;
      }
    },
    down: () => stack.downStack('test'),
  };
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

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerS = 100; // USER_HZ on Linux
    return (Number(f[11]) + Number(f[12])) / ticksPerS;
  } catch {
    return undefined;
  }
}
