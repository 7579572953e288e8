// Running install-time commands: output goes to a log file (shown on failure), never lost.
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserFacingError } from './progress.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** What to tell the user when the command fails. */
  hint?: string;
}

export async function run(command: string, args: string[], opts: RunOptions): Promise<void> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  log.write(`\n$ ${command} ${args.join(' ')}\n`);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', (err) =>
      reject(new UserFacingError(`cannot run ${command}: ${err.message}${opts.hint ? `\n${opts.hint}` : ''}`)),
    );
    child.on('close', (c) => resolve(c ?? 1));
  });
  await new Promise<void>((r) => log.end(r));
  if (code !== 0) {
    const tail = readFileSync(opts.logFile, 'utf8').split('\n').slice(-25).join('\n');
    throw new UserFacingError(
      `${command} ${args.join(' ')} failed with exit code ${code}.\n--- last lines of ${opts.logFile} ---\n${tail}${opts.hint ? `\n${opts.hint}` : ''}`,
    );
  }
}

export function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = `${dir}/${binary}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
