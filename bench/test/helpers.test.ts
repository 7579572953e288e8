import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anomalyData, driftPair } from '../lib/data.js';
import { costDifference, topFrames, topModules } from '../lib/profile.js';
import { toMarkdown, type Report } from '../lib/report.js';
import { geomean, linearFit, logLogSlope, median, percentile, rocAuc } from '../lib/stats.js';
import { alertFloor } from '../services.js';

const tmp = mkdtempSync(join(tmpdir(), 'bench-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('rocAuc', () => {
  it('is 1 for perfect separation, 0 reversed, 0.5 when all tie', () => {
    const labels = Uint8Array.from([0, 0, 1, 1]);
    expect(rocAuc(Float64Array.from([0.1, 0.2, 0.8, 0.9]), labels)).toBe(1);
    expect(rocAuc(Float64Array.from([0.9, 0.8, 0.2, 0.1]), labels)).toBe(0);
    expect(rocAuc(Float64Array.from([0.5, 0.5, 0.5, 0.5]), labels)).toBe(0.5);
  });

  it('counts pairs with ties as half (3 of 4 pairs ordered, one tied)', () => {
    // positives 0.4, 0.7; negatives 0.4, 0.1 → pairs: (0.4,0.4) tie, (0.4,0.1) ok, (0.7,*) ok ×2
    const auc = rocAuc(Float64Array.from([0.4, 0.1, 0.4, 0.7]), Uint8Array.from([0, 0, 1, 1]));
    expect(auc).toBeCloseTo(3.5 / 4, 12);
  });
});

describe('fits', () => {
  it('recovers the exponent of exact power laws', () => {
    const n = [1e3, 2e3, 4e3, 8e3, 16e3];
    expect(
      logLogSlope(
        n,
        n.map((x) => 3e-6 * x),
      ).exponent,
    ).toBeCloseTo(1, 10);
    expect(
      logLogSlope(
        n,
        n.map((x) => 1e-9 * x * x),
      ).exponent,
    ).toBeCloseTo(2, 10);
    expect(
      logLogSlope(
        n,
        n.map((x) => 1e-6 * x * Math.log(x)),
      ).exponent,
    ).toBeGreaterThan(1.05);
  });

  it('least squares gives slope, intercept and R² of a line', () => {
    const f = linearFit([1, 2, 3, 4], [3, 5, 7, 9]);
    expect(f.slope).toBeCloseTo(2, 12);
    expect(f.intercept).toBeCloseTo(1, 12);
    expect(f.r2).toBeCloseTo(1, 12);
    expect(linearFit([1, 2, 3, 4], [1, 3, 2, 4]).r2).toBeLessThan(1);
  });

  it('geomean and nearest-rank percentile', () => {
    expect(geomean([1, 4, 16])).toBeCloseTo(4, 12);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });

  it('median of an odd and an even count, whatever the order', () => {
    expect(median([0.9, 0.7, 0.8])).toBe(0.8);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('data files', () => {
  it('writes exactly the matrix and labels the TypeScript side uses', () => {
    const ds = anomalyData(tmp, 300, 4, 1);
    const raw = readFileSync(ds.xFile);
    const back = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
    expect(back).toEqual(ds.x.data);
    expect(Uint8Array.from(readFileSync(ds.labelsFile))).toEqual(ds.labels);
    expect(ds.labels.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('is deterministic per seed and differs across seeds', () => {
    expect(driftPair(tmp, 50, 3).a).toEqual(driftPair(tmp, 50, 3).a);
    expect(driftPair(tmp, 50, 3).a).not.toEqual(driftPair(tmp, 50, 4).a);
  });
});

describe('profile summary', () => {
  const PG = { functionName: 'parseRow', url: 'file:///x/node_modules/pg/lib/result.js', lineNumber: 62 };
  const OURS = { functionName: 'score', url: 'file:///x/services/algorithms/src/a.ts', lineNumber: 0 };
  /** A .cpuprofile of the given frames (node ids 1…), samples and gaps (µs), ending at their sum. */
  const writeProfile = (
    name: string,
    frames: { functionName: string; url: string; lineNumber: number }[],
    samples: number[],
    timeDeltas: number[],
  ) => {
    const path = join(tmp, name);
    const nodes = frames.map((callFrame, i) => ({
      id: i + 1,
      callFrame,
      hitCount: samples.filter((s) => s === i + 1).length,
    }));
    const endTime = timeDeltas.reduce((a, b) => a + b, 0);
    writeFileSync(path, JSON.stringify({ nodes, startTime: 0, endTime, samples, timeDeltas }));
    return path;
  };
  // root → a (pkg pg) → b (ours); samples: 3 early in a, then 1 in a and 2 in b in the last second
  const file = writeProfile(
    'x.cpuprofile',
    [{ functionName: '(root)', url: '', lineNumber: -1 }, PG, OURS],
    [2, 2, 2, 2, 3, 3],
    [1_000_000, 1_000_000, 1_000_000, 6_500_000, 200_000, 300_000],
  );

  it('ranks frames by self time over the whole profile', () => {
    const top = topFrames(file);
    expect(top[0]!.frame).toMatch(/^parseRow .*pg\/lib\/result\.js:63$/);
    expect(top[0]!.selfPct).toBeCloseTo((100 * 4) / 6, 9);
  });

  it('counts only the tail when asked, and groups by package', () => {
    const tail = topModules(file, 8, 1);
    expect(tail).toEqual([
      { frame: 'services/algorithms', selfPct: (100 * 2) / 3 },
      { frame: 'package pg', selfPct: 100 / 3 },
    ]);
  });

  it('puts two processes side by side in µs per request, largest extra cost first', () => {
    // The second process: the same pg work, no algorithms time, and an idle sample (not counted).
    const other = writeProfile(
      'y.cpuprofile',
      [{ functionName: '(idle)', url: '', lineNumber: -1 }, PG],
      [2, 2, 2, 1],
      [1_000_000, 1_000_000, 1_000_000, 1_000_000],
    );
    // First process: 600 µs/request, 4/6 of it in pg and 2/6 in ours; second: 300, all in pg.
    const rows = costDifference({ file, cpuUsPerRequest: 600 }, { file: other, cpuUsPerRequest: 300 }, 'module', 5);
    expect(rows.map((r) => r.where)).toEqual(['services/algorithms', 'package pg']);
    expect(rows[0]!.a).toBeCloseTo(200, 9);
    expect(rows[0]!.b).toBe(0);
    expect(rows[1]!.a).toBeCloseTo(400, 9);
    expect(rows[1]!.b).toBeCloseTo(300, 9);
    const frames = costDifference({ file, cpuUsPerRequest: 600 }, { file: other, cpuUsPerRequest: 300 }, 'frame', 1);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.where).toMatch(/^score /);
  });
});

describe('report', () => {
  it('renders every figure with its goal and marks misses', () => {
    const r: Report = {
      date: '2026-01-01T00:00:00Z',
      mode: 'quick',
      durationS: 1,
      machine: { cores: 2, cpuModel: 'x', memoryGiB: 1, node: 'v20', platform: 'linux x64' },
      versions: { scipy: '1.14.1' },
      figures: [
        { name: 'a.b', value: 2, unit: 'ms', baseline: 4, baselineLabel: 'ms ref', ratio: 2, goal: '≥ 1.0', met: true },
        {
          name: 'c.d',
          value: 4,
          unit: 'ms',
          baseline: 2,
          baselineLabel: 'ms ref',
          ratio: 0.5,
          goal: '≥ 1.0',
          met: false,
        },
      ],
      sections: [],
      profiles: [],
    };
    const md = toMarkdown(r);
    expect(md).toContain('| `a.b` | 2 | ms | 4 ms ref | 2 | ≥ 1.0 | yes |');
    expect(md).toContain('| `c.d` | 4 | ms | 2 ms ref | 0.5 | ≥ 1.0 | **no** |');
    expect(md).toContain('2 cores');
    expect(md).toContain('scipy 1.14.1');
  });
});

describe('alert floor', () => {
  it('is the rule `for` plus the group_wait the drift alert is routed with', () => {
    const f = alertFloor(join(import.meta.dirname, '..', '..'));
    expect(f.forS).toBeGreaterThan(0);
    expect(f.floorS).toBe(f.forS + f.groupWaitS);
    expect(f.worstS).toBe(f.scrapeS + 2 * f.evaluationS + f.forS + f.groupWaitS);
  });
});
