// Long-running children: detached into their own process group, output appended to the
// component's log, a pid file recording exactly what we started so `down` stops only that.
import { spawn } from 'node:child_process';
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

export function startDetached(spec: StartSpec): PidRecord {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    const record: PidRecord = {
      pid: child.pid,
      executable: spec.executable ?? basename(spec.command),
      startedAt: new Date().toISOString(),
    };
    writeFileSync(spec.pidFile, JSON.stringify(record));
    return record;
  } finally {
    closeSync(fd);
  }
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
