// CPU profiles of hot paths whose goal was missed: run with node --cpu-prof, then summarise
// the frames with the most self time.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export function topFrames(file: string, n = 12): { frame: string; selfPct: number }[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: CpuProfileNode[] };
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    if (node.callFrame.functionName === '(idle)' || hits === 0) continue;
    const url = node.callFrame.url.replace(/^file:\/\//, '');
    const where = url ? ` ${relative(process.cwd(), url)}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${node.callFrame.functionName || '(anonymous)'}${where}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + hits);
    total += hits;
  }
  return [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, hits]) => ({ frame, selfPct: (100 * hits) / total }));
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
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}
