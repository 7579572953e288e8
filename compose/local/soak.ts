// `npm run stack -- soak --runs N`: what `npm start` does (install, then up), N times in a row
// while every core is kept busy, each run checked healthy and then stopped, and no process of it
// may survive the stop. Bounded: the busy loops end with each run (and by themselves after
// --busy-seconds), a run that does not come up within the components' own timeouts fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { installAll } from './install/index.js';
import type { Profile } from './paths.js';
import { info } from './progress.js';
import { downStack, stackStatus, upStack } from './stack.js';

export interface SoakOptions {
  profile: Profile;
  runs: number;
  /** Upper bound of each busy loop's life (seconds); they are stopped when the run ends anyway. */
  busySeconds: number;
}

function busyLoops(seconds: number): ChildProcess[] {
  const code = `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end);`;
  return cpus().map(() => spawn(process.execPath, ['-e', code], { stdio: 'ignore' }));
}

/** Still running: it exists and is not a zombie (exited, waiting to be reaped by its parent). */
const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

export async function soak(opts: SoakOptions): Promise<boolean> {
  const results: { run: number; ok: boolean; seconds: number; error?: string }[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    const busy = busyLoops(opts.busySeconds);
    const t0 = Date.now();
    let pids: { component: string; pid: number }[] = [];
    try {
      info(`soak run ${run}/${opts.runs}: starting with ${busy.length} cores busy`);
      await installAll();
      await upStack({ profile: opts.profile });
      // Each health probe has a short timeout; on a loaded machine one may miss it, so a component
      // counts as unhealthy only when it fails three probes over about ten seconds.
      let rows = await stackStatus(opts.profile);
      for (let probe = 1; probe < 3 && rows.some((r) => r.health !== 'healthy'); probe++) {
        await new Promise((r) => setTimeout(r, 5000));
        rows = await stackStatus(opts.profile);
      }
      pids = rows.filter((r) => r.pid !== '-').map((r) => ({ component: r.component, pid: Number(r.pid) }));
      const unhealthy = rows.filter((r) => r.health !== 'healthy');
      if (unhealthy.length) throw new Error(`not healthy after start: ${unhealthy.map((r) => r.component).join(', ')}`);
      results.push({ run, ok: true, seconds: (Date.now() - t0) / 1000 });
    } catch (err) {
      results.push({ run, ok: false, seconds: (Date.now() - t0) / 1000, error: (err as Error).message.split('\n')[0] });
    } finally {
      busy.forEach((b) => b.kill('SIGKILL'));
      await downStack(opts.profile, { quiet: true });
    }
    // A process that has just exited can still be listed for a moment (its memory is gone, it is
    // not yet a zombie); give the stopped ones a few seconds before calling them leftovers.
    for (let i = 0; i < 50 && pids.some((p) => running(p.pid)); i++) await new Promise((r) => setTimeout(r, 100));
    const left = pids.filter((p) => running(p.pid));
    if (left.length) {
      const last = results.at(-1)!;
      last.ok = false;
      last.error =
        `${last.error ?? ''} processes left after stop: ${left.map((p) => `${p.component} (pid ${p.pid})`).join(', ')}`.trim();
    }
    const r = results.at(-1)!;
    info(`soak run ${run}/${opts.runs}: ${r.ok ? 'ok' : `FAILED: ${r.error}`} (${r.seconds.toFixed(1)}s to healthy)`);
  }
  const ok = results.filter((r) => r.ok);
  const secs = ok.map((r) => r.seconds).sort((a, b) => a - b);
  process.stdout.write(
    `\nsoak: ${ok.length}/${results.length} starts clean with every core busy` +
      (secs.length
        ? `; time to healthy min ${secs[0]!.toFixed(1)}s, median ${secs[Math.floor(secs.length / 2)]!.toFixed(1)}s, max ${secs.at(-1)!.toFixed(1)}s`
        : '') +
      '\n' +
      results
        .filter((r) => !r.ok)
        .map((r) => `  run ${r.run}: ${r.error}\n`)
        .join(''),
  );
  return ok.length === results.length;
}
