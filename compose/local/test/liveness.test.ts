// Start-up under load and failed starts, with small stand-in components (a tiny HTTP server):
// the runner must not mistake a slow exec for a death, and a failed start must leave no process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Component, Context } from '../components.js';
import { httpOk } from '../health.js';
import { portsFor } from '../ports.js';
import { isOurs, type Spawned } from '../processes.js';
import { startComponent, startInOrder } from '../stack.js';

const dir = mkdtempSync(join(tmpdir(), 'pynomaly-liveness-'));
const server = join(dir, 'server.mjs');
writeFileSync(
  server,
  "import { createServer } from 'node:http';\n" +
    "createServer((_q, r) => r.end('ok')).listen(Number(process.argv[2]), '127.0.0.1');\n",
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ctx: Context = {
  profile: 'test',
  ports: portsFor('test'),
  varDir: join(dir, 'var'),
  logDir: (c) => join(dir, 'logs', c),
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A stand-in whose exec happens only after `delayS` seconds: until then /proc/<pid>/cmdline shows
 * bash's command line, not the executable's name, which is what a slow exec on a busy machine
 * looks like.
 */
function standIn(
  name: string,
  opts: { port: number; delayS?: number; healthy?: boolean; timeoutMs?: number },
): Component {
  const executable = `pynomaly-standin-${name}`;
  const exec = `exec -a ${executable} ${process.execPath} ${server} ${opts.port}`;
  return {
    name: name as Component['name'],
    group: 'infra',
    listens: () => [opts.port],
    url: () => `http://127.0.0.1:${opts.port}`,
    launch: () => ({ command: 'bash', args: ['-c', opts.delayS ? `sleep ${opts.delayS}; ${exec}` : exec], executable }),
    healthy: async () => (opts.healthy ?? true) && httpOk(`http://127.0.0.1:${opts.port}/`),
    version: async () => undefined,
    startTimeoutMs: opts.timeoutMs ?? 60_000,
  };
}

describe('starting a component', () => {
  let busy: ChildProcess[] = [];
  beforeAll(() => {
    // Every core busy (bounded: each loop ends by itself after 90 s, and afterAll stops it).
    busy = cpus().map(() =>
      spawn(process.execPath, ['-e', 'const end = Date.now() + 90_000; while (Date.now() < end);'], {
        stdio: 'ignore',
      }),
    );
  });
  afterAll(() => busy.forEach((b) => b.kill('SIGKILL')));

  const spawned: Spawned[] = [];
  afterEach(() => {
    for (const s of spawned.splice(0)) {
      try {
        process.kill(-s.record.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('waits through a slow exec under CPU load and reports a clean start', async () => {
    const c = standIn('slow-exec', { port: await freePort(), delayS: 2 });
    const result = await startComponent(ctx, c, (s) => spawned.push(s));
    expect(result).toBe('started');
    const [s] = spawned;
    expect(s!.exit()).toBeUndefined();
    // The stand-in did exec: the pid now carries the executable's name.
    expect(isOurs(s!.record)).toBe(true);
  }, 120_000);

  it('reports a component that exits before it is ready, and leaves no process', async () => {
    const c: Component = {
      ...standIn('exits', { port: await freePort() }),
      launch: () => ({ command: 'bash', args: ['-c', 'exit 3'] }),
    };
    await expect(startComponent(ctx, c, (s) => spawned.push(s))).rejects.toThrow(/exited before it became ready/);
    expect(alive(spawned[0]!.record.pid)).toBe(false);
  }, 120_000);

  it('stops a component that never becomes ready, even one still before its exec', async () => {
    const c = standIn('never-ready', { port: await freePort(), delayS: 30, timeoutMs: 3000 });
    await expect(startComponent(ctx, c, (s) => spawned.push(s))).rejects.toThrow(/was not ready after 3s/);
    const [s] = spawned;
    expect(s!.exit()).toBeDefined();
    expect(alive(s!.record.pid)).toBe(false);
    expect(existsSync(s!.pidFile)).toBe(false);
  }, 120_000);

  it('a failed start stops every process the run started, the failed one included', async () => {
    const first = standIn('first', { port: await freePort() });
    const second = standIn('second', { port: await freePort(), healthy: false, timeoutMs: 3000 });
    await expect(startInOrder(ctx, [first, second], (s) => spawned.push(s))).rejects.toThrow(
      /second \(pid \d+\) was not ready/,
    );
    expect(spawned).toHaveLength(2);
    for (const s of spawned) {
      expect(alive(s.record.pid), `pid ${s.record.pid}`).toBe(false);
      expect(existsSync(s.pidFile), s.pidFile).toBe(false);
    }
  }, 120_000);
});
