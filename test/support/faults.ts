// Fault injection on the local test stack, shared by the fault and job e2e tests.
import { join } from 'node:path';
import { context } from '../../compose/local/components.js';
import { isOurs, readPid } from '../../compose/local/processes.js';
import { killComponent } from '../../compose/local/stack.js';
import { eventually } from '../../testkit/wait.js';

const pidFile = (name: string) => join(context('test').varDir, 'pids', `${name}.pid`);

/** The pid of a running local stack component, or undefined (no pid file, or its process is gone). */
export function runningPid(name: string): number | undefined {
  const record = readPid(pidFile(name));
  return record && isOurs(record) ? record.pid : undefined;
}

/** The pid of a running local stack component; throws when it has none (the test needs the local stack). */
export function livePid(name: string): number {
  const pid = runningPid(name);
  if (pid === undefined) throw new Error(`${name} is not running (no live pid file): the test needs the local stack`);
  return pid;
}

/**
 * Runs `fn` with a stack component stopped (SIGSTOP) and lets it go on afterwards (SIGCONT),
 * whatever `fn` does: a way to order what the component sees after something else has happened.
 * Keep `fn` short, well inside the component's Kafka session timeout.
 */
export async function whileStopped<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const pid = livePid(name);
  process.kill(pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/**
 * SIGKILL a stack component and wait until its process is really gone: starting it again while
 * the old pid still exists would find it "already running" and start nothing.
 */
export async function killAndWait(name: string): Promise<void> {
  const record = readPid(pidFile(name)); // none when the stack runs in containers
  if (!(await killComponent('test', name))) throw new Error(`${name} is not running`);
  if (record)
    await eventually(
      `${name} (pid ${record.pid}) to exit`,
      async () => (isOurs(record) ? undefined : true),
      15_000,
      100,
    );
}
