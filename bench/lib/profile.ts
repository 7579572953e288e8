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

type KeyOf = (node: CpuProfileNode) => string;

/** Where the code of a frame lives: a package, one of our workspaces, Node itself, or native. */
const moduleOf: KeyOf = (node) => {
  const url = node.callFrame.url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url)?.[1];
  const ours = /\/(services\/[^/]+|bench|compose)\//.exec(url)?.[1];
  return pkg
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
};

const frameOf: KeyOf = (node) => {
  const url = node.callFrame.url.replace(/^file:\/\//, '');
  const where = url ? ` ${relative(process.cwd(), url)}:${node.callFrame.lineNumber + 1}` : '';
  return `${node.callFrame.functionName || '(anonymous)'}${where}`;
};

/** Self-time samples per key, and their total (idle excluded). */
function selfSamples(file: string, keyOf: KeyOf, tailS?: number): { by: Map<string, number>; total: number } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const h = hits(prof, tailS);
  const by = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const n = h.get(node.id) ?? 0;
    if (node.callFrame.functionName === '(idle)' || n === 0) continue;
    const key = keyOf(node);
    by.set(key, (by.get(key) ?? 0) + n);
    total += n;
  }
  return { by, total };
}

function top({ by, total }: { by: Map<string, number>; total: number }, n: number) {
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, k]) => ({ frame, selfPct: (100 * k) / total }));
}

export function topModules(file: string, n = 8, tailS?: number): { frame: string; selfPct: number }[] {
  return top(selfSamples(file, moduleOf, tailS), n);
}

export function topFrames(file: string, n = 12, tailS?: number): { frame: string; selfPct: number }[] {
  return top(selfSamples(file, frameOf, tailS), n);
}

/** A profile of a process under load and that process's measured CPU per request over it. */
export interface ProfiledRun {
  file: string;
  cpuUsPerRequest: number;
}

export interface CostDifference {
  where: string;
  /** µs of CPU per request spent there by the first process, and by the second. */
  a: number;
  b: number;
}

/**
 * Where one process spends more CPU per request than another doing the same work, by module or
 * by frame: each profile's self-time shares times its process's measured CPU per request, largest
 * difference first. A single profile cannot show this: the work both share dominates its top rows.
 */
export function costDifference(
  a: ProfiledRun,
  b: ProfiledRun,
  by: 'module' | 'frame',
  n: number,
  tailS?: number,
): CostDifference[] {
  const keyOf = by === 'module' ? moduleOf : frameOf;
  const sa = selfSamples(a.file, keyOf, tailS);
  const sb = selfSamples(b.file, keyOf, tailS);
  return [...new Set([...sa.by.keys(), ...sb.by.keys()])]
    .map((where) => ({
      where,
      a: ((sa.by.get(where) ?? 0) / sa.total) * a.cpuUsPerRequest,
      b: ((sb.by.get(where) ?? 0) / sb.total) * b.cpuUsPerRequest,
    }))
    .sort((x, y) => y.a - y.b - (x.a - x.b))
    .slice(0, n);
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
