// Fault injection on the local test stack, shared by the fault and job e2e tests.
import { join } from 'node:path';
import { context } from '../../compose/local/components.js';
import { isOurs, readPid } from '../../compose/local/processes.js';
import { killComponent } from '../../compose/local/stack.js';
import { eventually } from '../../testkit/wait.js';

/**
 * SIGKILL a stack component and wait until its process is really gone: starting it again while
 * the old pid still exists would find it "already running" and start nothing.
 */
export async function killAndWait(name: string): Promise<void> {
  const pidFile = join(context('test').varDir, 'pids', `${name}.pid`);
  const record = readPid(pidFile); // none when the stack runs in containers
  if (!(await killComponent('test', name))) throw new Error(`${name} is not running`);
  if (record)
    await eventually(
      `${name} (pid ${record.pid}) to exit`,
      async () => (isOurs(record) ? undefined : true),
      15_000,
      100,
    );
}
