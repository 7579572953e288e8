// After a run, none of the stack's processes may remain: checked from the pid records, which
// name exactly what the runner started.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { varDir, type Profile } from '../../compose/local/paths.js';
import { isOurs, readPid } from '../../compose/local/processes.js';

export function leftoverProcesses(profile: Profile): string[] {
  const dir = join(varDir(profile), 'pids');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => ({ name: f.replace(/\.pid$/, ''), record: readPid(join(dir, f)) }))
    .filter(({ record }) => record !== undefined && isOurs(record))
    .map(({ name, record }) => `${name} (pid ${record!.pid})`);
}

export function assertNothingLeft(profile: Profile): void {
  const left = leftoverProcesses(profile);
  if (left.length) throw new Error(`stack processes still running after teardown: ${left.join(', ')}`);
}
