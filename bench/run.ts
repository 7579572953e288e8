// `npm run bench [-- --quick] [--only=algorithms,drift,stack|pipeline|api|collector]`: measures every figure of issue 8 side
// by side in one run and writes bench/results/latest.{json,md}. Brings up its own test-profile
// stack on a dedicated port offset (40000 unless PYNOMALY_PORT_OFFSET is set) and tears it down.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDriftStatistics, benchGrowth, benchIsolationForest, type BenchContext, type Part } from './algorithms.js';
import { benchDriftCalibration } from './drift-calibration.js';
import { withCapacityModel } from './lib/capacity.js';
import { captureProfile, topFrames, topModules } from './lib/profile.js';
import { ensureVenv } from './lib/python.js';
import { machine, writeReport, type Report } from './lib/report.js';
import { upBenchStack, type BenchStack } from './lib/stack.js';
import {
  benchAlertLatency,
  benchCollector,
  benchPipeline,
  benchPipelineScale,
  benchSeriesPerDetector,
  benchTelemetryOverhead,
  type PipelineLedger,
  trainDetectors,
  type StackContext,
} from './services.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
const want = (part: string) => !only || only.has(part);
/** The stack's figures: `stack` selects them all, or `pipeline`, `api` and `collector` alone. */
const STACK_PARTS = ['pipeline', 'api', 'collector'] as const;
const wantStack = (part: (typeof STACK_PARTS)[number]) => want('stack') || want(part);
const log = (s: string) => process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${s}\n`);
const profilesDir = join(here, 'results', 'profiles');

const ALGORITHM_HOT_PATHS: Record<string, string> = {
  'iforest.fit.vs_sklearn': 'iforest.fit',
  'iforest.score.vs_sklearn': 'iforest.score',
  'drift.ks.vs_scipy': 'drift.ks',
  'drift.wasserstein.vs_scipy': 'drift.wasserstein',
  'drift.psi.vs_numpy': 'drift.psi',
};

function runNode(nodeArgs: string[], script: string, scriptArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...scriptArgs], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited ${code}`))));
  });
}

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
  const profile = async (
    figure: string,
    run: (nodeArgs: string[]) => Promise<void>,
    sub: string,
    tailS?: number,
  ): Promise<string | undefined> => {
    try {
      log(`goal missed for ${figure}: capturing a CPU profile`);
      const file = await captureProfile(join(profilesDir, sub), run);
      if (file)
        report.profiles.push({
          figure,
          file: relative(root, file),
          topFrames: topFrames(file, 12, tailS),
          byModule: topModules(file, 8, tailS),
          ...(tailS === undefined ? {} : { tailS }),
        });
      return file;
    } catch (err) {
      log(`profile of ${figure} failed: ${(err as Error).message}`);
      return undefined;
    }
  };
  let stack: BenchStack | undefined;
  const teardown = async () => {
    if (!stack) return;
    const s = stack;
    stack = undefined;
    log('stopping the bench stack');
    await s.down();
  };
  const onSignal = () => {
    void teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (want('algorithms')) {
      const python = ensureVenv(log);
      const ctx: BenchContext = { quick, tmp, python, log };
      add(benchIsolationForest(ctx));
      add(benchDriftStatistics(ctx));
      add(benchGrowth(ctx));
      for (const f of report.figures) {
        const target = ALGORITHM_HOT_PATHS[f.name];
        if (target && f.met === false) {
          await profile(f.name, (nodeArgs) => runNode(nodeArgs, join(here, 'profile-target.ts'), [target]), target, 7);
        }
      }
    }
    if (want('drift')) {
      const python = ensureVenv(log);
      add(await benchDriftCalibration({ quick, tmp, python, log }, join(here, 'results')));
    }
    if (STACK_PARTS.some(wantStack)) {
      try {
        await stackPart();
      } catch (err) {
        // Keep what was measured: the report still gets written, with the failure in it.
        const msg = err instanceof Error ? err.message : String(err);
        log(`stack part failed: ${err instanceof Error ? (err.stack ?? msg) : msg}`);
        report.sections.push({
          title: 'Errors',
          header: ['part', 'error'],
          rows: [['stack', msg.replace(/\|/g, '\\|').slice(0, 500)]],
        });
      }
    }
  } finally {
    await teardown();
    rmSync(tmp, { recursive: true, force: true });
  }
  async function stackPart(): Promise<void> {
    {
      stack = await upBenchStack(log);
      const sc: StackContext = { quick, log, s: stack, profile };
      // Six pipeline detectors: their keys spread over the topic's partitions (and two workers).
      const pipelineDetectors = 6;
      const detectors = await trainDetectors(sc, pipelineDetectors + (quick ? 1 : 2));
      log(`trained ${detectors.length} detectors`);
      const ledger: PipelineLedger = new Map();
      if (wantStack('pipeline')) {
        const pipeline = await benchPipeline(sc, detectors.slice(0, pipelineDetectors), ledger);
        add(pipeline);
        const one = pipeline.figures[0]!.value;
        if (one) add(await benchPipelineScale(sc, detectors.slice(0, pipelineDetectors), ledger, one));
      }
      if (wantStack('api')) add(await benchTelemetryOverhead(sc, detectors[pipelineDetectors]!));
      if (wantStack('collector')) add(await benchCollector(sc));
      if (wantStack('api')) add(await benchSeriesPerDetector(sc, detectors[pipelineDetectors]!.detectorId));
      if (!quick && want('stack')) add(await benchAlertLatency(sc, detectors[pipelineDetectors + 1]!, root));
      else if (want('stack'))
        report.figures.push({
          name: 'alert.latency_vs_floor',
          value: null,
          unit: 's',
          baseline: null,
          baselineLabel: '',
          ratio: null,
          goal: 'report',
          met: null,
          note: 'measured in full mode only (`npm run bench`; last full stack run in bench/results/full-stack-run.md): the configured floor alone (for 1m + group_wait 30s, plus up to a scrape and two evaluation intervals) is 90–135 s, too long for the 10-minute quick run',
        });
    }
  }
  report.durationS = (Date.now() - t0) / 1000;
  writeReport(join(here, 'results'), report);
  log(`wrote bench/results/latest.{json,md} in ${report.durationS.toFixed(0)} s`);
  // The capacity model quotes this run's figures (only a run that measured them all rewrites it).
  const scaling = join(root, 'docs', 'scaling.md');
  const doc = readFileSync(scaling, 'utf8');
  const next = withCapacityModel(doc, report);
  if (next !== doc) {
    writeFileSync(scaling, next);
    log('updated the capacity model in docs/scaling.md');
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
