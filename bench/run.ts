// `npm run bench [-- --quick] [--only algorithms,api,pipeline,alert,collector]`: measures every
// figure of issue 8 side by side in one run and writes bench/results/latest.{json,md}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDriftStatistics, benchGrowth, benchIsolationForest, type BenchContext, type Part } from './algorithms.js';
import { ensureVenv } from './lib/python.js';
import { machine, writeReport, type Report } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
const want = (part: string) => !only || only.has(part);
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

async function main(): Promise<void> {
  const t0 = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'pynomaly-bench-'));
  const report: Report = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    durationS: 0,
    machine: machine(),
    versions: {},
    figures: [],
    sections: [],
    profiles: [],
  };
  const add = (p: Part) => {
    report.figures.push(...p.figures);
    report.sections.push(...p.sections);
    Object.assign(report.versions, p.versions ?? {});
  };
  try {
    if (want('algorithms')) {
      const python = ensureVenv(log);
      const ctx: BenchContext = { quick, tmp, python, log };
      add(benchIsolationForest(ctx));
      add(benchDriftStatistics(ctx));
      add(benchGrowth(ctx));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  report.durationS = (Date.now() - t0) / 1000;
  writeReport(join(here, 'results'), report);
  log(`wrote bench/results/latest.{json,md} in ${report.durationS.toFixed(0)} s`);
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
