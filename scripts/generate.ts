/**
 * `npm run generate`: writes every generated file from its one source, in an order where each
 * generator sees what the ones before it wrote (the Kubernetes manifest is built last, from
 * ConfigMaps of the dashboards and target files).
 *
 *   npm run generate              # write
 *   npm run generate -- --check   # write nothing; list stale files and exit 1 if there are any
 *
 * test/configs/generated.test.ts runs the check, so a change to a source without regenerating fails.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from '../grafana/src/generate.js';
import { KUSTOMIZATION, renderDashboardList } from './generators/k8s-dashboards.js';
import { renderMonitoringDeployment } from './generators/k8s-manifest.js';
import { METRICS_DOC, renderMetricsDoc } from './generators/metrics-doc.js';
import { TARGET_ENVIRONMENTS, renderPrometheusTargets } from './generators/prometheus-targets.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Generator {
  readonly name: string;
  /** Source of truth (for messages). */
  readonly from: string;
  /** The files it generates, keyed by their path from the repository root. */
  readonly render: () => Promise<Record<string, string>>;
  /** Folders whose every file with this ending it owns: a file there it did not render is stale. */
  readonly owns: readonly { dir: string; ext: string }[];
}

export const GENERATORS: readonly Generator[] = [
  {
    name: 'dashboards',
    from: 'grafana/src/dashboards/*.ts',
    render: async () =>
      Object.fromEntries(
        Object.entries(await renderDashboards()).map(([file, text]) => [`grafana/dashboards/${file}`, text]),
      ),
    owns: [{ dir: 'grafana/dashboards', ext: '.json' }],
  },
  {
    name: 'metrics catalog page',
    from: 'services/shared/src/metrics/catalog.ts',
    render: async () => ({ [METRICS_DOC]: renderMetricsDoc() }),
    owns: [],
  },
  {
    name: 'Prometheus targets',
    from: 'scripts/generators/prometheus-targets.ts',
    render: async () => renderPrometheusTargets(),
    owns: TARGET_ENVIRONMENTS.map((e) => ({ dir: e.dir, ext: '.yml' })),
  },
  {
    name: 'Kubernetes dashboard list',
    from: 'grafana/src/dashboards/*.ts',
    render: async () => ({ [KUSTOMIZATION]: renderDashboardList(REPO_ROOT) }),
    owns: [],
  },
  {
    name: 'Kubernetes manifest',
    from: 'k8s/overlays/production (kustomize)',
    render: async () => ({ 'k8s/monitoring-deployment.yaml': await renderMonitoringDeployment() }),
    owns: [],
  },
];

export interface Staleness {
  generator: string;
  from: string;
  file: string;
  problem: 'differs' | 'missing' | 'not generated';
}

function ownedFiles(g: Generator, root: string): string[] {
  return g.owns.flatMap(({ dir, ext }) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((f) => f.endsWith(ext))
          .map((f) => `${dir}/${f}`)
      : [],
  );
}

export interface GenerateOptions {
  /** Compare only: write and delete nothing. */
  check: boolean;
  /** The tree to compare with or write to (default: this repository). */
  root?: string;
  generators?: readonly Generator[];
}

/** Runs every generator; writes its files unless `check`. Returns what was (or would be) changed. */
export async function generate({
  check,
  root = REPO_ROOT,
  generators = GENERATORS,
}: GenerateOptions): Promise<Staleness[]> {
  const changes: Staleness[] = [];
  for (const g of generators) {
    const files = await g.render();
    const note = (file: string, problem: Staleness['problem']) =>
      changes.push({ generator: g.name, from: g.from, file, problem });
    for (const [file, text] of Object.entries(files)) {
      const path = join(root, file);
      if (!existsSync(path)) note(file, 'missing');
      else if (readFileSync(path, 'utf8') !== text) note(file, 'differs');
      else continue;
      if (!check) writeFileSync(path, text);
    }
    for (const file of ownedFiles(g, root).filter((f) => !(f in files))) {
      note(file, 'not generated');
      if (!check) rmSync(join(root, file));
    }
  }
  return changes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  try {
    const changes = await generate({ check });
    for (const c of changes)
      console.log(`${check ? 'stale' : 'wrote'} ${c.file} (${c.problem}; ${c.generator} from ${c.from})`);
    if (check && changes.length) {
      console.error(`${changes.length} generated file(s) not current: run npm run generate`);
      process.exit(1);
    }
    if (!changes.length) console.log('every generated file is current');
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
