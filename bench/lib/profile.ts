// CPU profiles of hot paths whose goal was missed: run with node --cpu-prof, then summarise
// the frames with the most self time.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time grouped by where the code lives: a package, one of our workspaces, or Node itself. */
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  endTime?: number;
}

/**
 * Hits per node, counting only the last `tailS` seconds when given: the profile covers the
 * process from its start, and module loading would otherwise crowd out the steady state.
 */
function hits(prof: CpuProfile, tailS?: number): Map<number, number> {
  const out = new Map<number, number>();
  if (tailS === undefined || !prof.samples || !prof.timeDeltas || prof.endTime === undefined) {
    for (const n of prof.nodes) out.set(n.id, n.hitCount ?? 0);
    return out;
  }
  const from = prof.endTime - tailS * 1e6;
  let t = prof.endTime - prof.timeDeltas.reduce((a, b) => a + b, 0);
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i]!;
    if (t >= from) out.set(prof.samples[i]!, (out.get(prof.samples[i]!) ?? 0) + 1);
  }
  return out;
}

export function topModules(file: string, n = 8, tailS?: number): { frame: string; selfPct: number }[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const h = hits(prof, tailS);
  const by = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const n = h.get(node.id) ?? 0;
    if (node.callFrame.functionName === '(idle)' || n === 0) continue;
    const url = node.callFrame.url;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url)?.[1];
    const ours = /\/(services\/[^/]+|bench|compose)\//.exec(url)?.[1];
    const key = pkg
      ? pkg.startsWith('@opentelemetry/')
        ? 'packages @opentelemetry/* (telemetry)'
        : `package ${pkg}`
      : ours
        ? ours
        : url.startsWith('node:')
          ? 'node internals'
          : url
            ? 'other'
            : `native ${node.callFrame.functionName}`;
    by.set(key, (by.get(key) ?? 0) + n);
    total += n;
  }
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, k]) => ({ frame, selfPct: (100 * k) / total }));
}

export function topFrames(file: string, n = 12, tailS?: number): { frame: string; selfPct: number }[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const h = hits(prof, tailS);
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const n = h.get(node.id) ?? 0;
    if (node.callFrame.functionName === '(idle)' || n === 0) continue;
    const url = node.callFrame.url.replace(/^file:\/\//, '');
    const where = url ? ` ${relative(process.cwd(), url)}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${node.callFrame.functionName || '(anonymous)'}${where}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + n);
    total += n;
  }
  return [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, k]) => ({ frame, selfPct: (100 * k) / total }));
}

/** Runs `run` with --cpu-prof args pointing at a fresh dir and returns the newest profile written. */
export async function captureProfile(
  dir: string,
  run: (nodeArgs: string[]) => Promise<void>,
): Promise<string | undefined> {
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  await run(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= started - 1000)
    // tsx's loader runs in a worker thread with its own profile; the main thread is thread 0
    // (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile).
    .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}
