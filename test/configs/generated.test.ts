/**
 * Every generated file (dashboards JSON, docs/metrics.md, the Prometheus target files, the
 * dashboard list of k8s/base/kustomization.yaml, k8s/monitoring-deployment.yaml) is what its source generates now: `npm run generate -- --check`
 * reports nothing stale. The check itself is shown to fail on a copy of the tree.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GENERATORS, REPO_ROOT, generate } from '../../scripts/generate.js';

const copy = mkdtempSync(join(tmpdir(), 'pynomaly-generated-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('generated files (npm run generate)', () => {
  it('are current: regenerating changes nothing', async () => {
    expect(GENERATORS.map((g) => g.name)).toEqual([
      'dashboards',
      'metrics catalog page',
      'Prometheus targets',
      'Kubernetes dashboard list',
      'Kubernetes manifest',
    ]);
    expect(await generate({ check: true })).toEqual([]);
  });

  it('are reported when edited, missing or left over, and the check writes nothing', async () => {
    for (const dir of ['prometheus/targets', 'k8s/base/prometheus-targets'])
      cpSync(join(REPO_ROOT, dir), join(copy, dir), { recursive: true });
    const edited = join(copy, 'prometheus/targets/compose/api.yml');
    writeFileSync(edited, readFileSync(edited, 'utf8').replace('environment: compose', 'environment: edited'));
    rmSync(join(copy, 'prometheus/targets/local/api.yml'));
    writeFileSync(join(copy, 'k8s/base/prometheus-targets/gone.yml'), '[]\n');
    const generators = GENERATORS.filter((g) => g.name === 'Prometheus targets');

    const stale = await generate({ check: true, root: copy, generators });
    expect(stale.map((s) => [s.file, s.problem]).sort()).toEqual([
      ['k8s/base/prometheus-targets/gone.yml', 'not generated'],
      ['prometheus/targets/compose/api.yml', 'differs'],
      ['prometheus/targets/local/api.yml', 'missing'],
    ]);
    expect(readFileSync(edited, 'utf8')).toContain('environment: edited');

    await generate({ check: false, root: copy, generators });
    expect(await generate({ check: true, root: copy, generators })).toEqual([]);
  });
});
