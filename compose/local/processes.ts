// Long-running children: detached into their own process group, output appended to the
// component's log, a pid file recording exactly what we started so `down` stops only that.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface PidRecord {
  pid: number;
  /** The executable's basename, checked against /proc before we signal (pid reuse). */
  executable: string;
  startedAt: string;
}

export interface StartSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  pidFile: string;
  /** Basename expected in /proc/<pid>/cmdline; defaults to the command's. */
  executable?: string;
}

/**
 * A child this process spawned. Until it exits, its pid cannot be reused, so liveness comes from
 * the child's own exit event: /proc/<pid>/cmdline shows the parent's command line until the exec
 * has happened, which on a busy machine can take long enough to look like a death.
 */
export interface Spawned {
  record: PidRecord;
  pidFile: string;
  /** Undefined while running; how it ended once it has. */
  exit: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Resolves true when the child has exited, false after `ms`. */
  waitExit: (ms: number) => Promise<boolean>;
}

export function startDetached(spec: StartSpec): Spawned {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      resolve();
    });
    // A spawn error (e.g. ENOENT) comes instead of an exit event.
    child.once('error', () => {
      ended ??= { code: null, signal: null };
      resolve();
    });
  });
  child.unref();
  const record: PidRecord = {
    pid: child.pid,
    executable: spec.executable ?? basename(spec.command),
    startedAt: new Date().toISOString(),
  };
  writeFileSync(spec.pidFile, JSON.stringify(record));
  return {
    record,
    pidFile: spec.pidFile,
    exit: () => ended,
    waitExit: (ms) =>
      Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]),
  };
}

/**
 * Stops a child this process spawned, whatever its command line says: its whole process group,
 * SIGKILL after the grace period, and waits for its exit.
 */
export async function stopSpawned(s: Spawned, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
  signalGroup(s.record.pid, signal);
  if (!(await s.waitExit(graceMs))) {
    signalGroup(s.record.pid, 'SIGKILL');
    await s.waitExit(graceMs);
  }
  // Anything it left in its group goes too (signalGroup falls back to the pid, gone by now).
  try {
    process.kill(-s.record.pid, 'SIGKILL');
  } catch {
    // group empty
  }
  rmSync(s.pidFile, { force: true });
}

export function readPid(pidFile: string): PidRecord | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    return JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** True when the pid is alive and is still the program we started (not a recycled pid). */
export function isOurs(record: PidRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  try {
    const status = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z /.test(status)) return false; // zombie: exited, not yet reaped
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((part) => basename(part) === record.executable);
  } catch {
    return false;
  }
}

export function runningPid(pidFile: string): number | undefined {
  const record = readPid(pidFile);
  return record && isOurs(record) ? record.pid : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Stops what the pid file names (its whole process group); SIGKILL after the grace period. */
export async function stopByPidFile(
  pidFile: string,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 20_000,
): Promise<'stopped' | 'not-running'> {
  const record = readPid(pidFile);
  if (!record || !isOurs(record)) {
    rmSync(pidFile, { force: true });
    return 'not-running';
  }
  signalGroup(record.pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isOurs(record)) await sleep(100);
  if (isOurs(record)) {
    signalGroup(record.pid, 'SIGKILL');
    while (isOurs(record)) await sleep(100);
  }
  rmSync(pidFile, { force: true });
  return 'stopped';
}

export function killByPidFile(pidFile: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  const record = readPid(pidFile);
  if (!record || !isOurs(record)) return false;
  signalGroup(record.pid, signal);
  return true;
}
