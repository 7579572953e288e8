/**
 * The layering of docs/CONVENTIONS.md as the linter enforces it (eslint.config.js, package zones;
 * only tests import tests): probe files at three depths of each zone import another zone's file;
 * every forbidden import must fail lint, every allowed one must pass, and the tree must be clean.
 */
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });

type Zone =
  | 'algorithms'
  | 'shared'
  | 'api'
  | 'training-worker'
  | 'drift-worker'
  | 'local-runner'
  | 'testkit'
  | 'scripts'
  | 'bench'
  | 'tests';

/** Where probes stand in each zone: its top folder, one folder deeper and two deeper. */
const PROBE_DIRS: Record<Zone, string[]> = {
  algorithms: ['services/algorithms/src', 'services/algorithms/src/probe', 'services/algorithms/test/probe/deep'],
  shared: ['services/shared/src', 'services/shared/src/db', 'services/shared/src/db/repository'],
  api: ['services/api/src', 'services/api/src/routes', 'services/api/src/routes/probe'],
  'training-worker': [
    'services/training-worker/src',
    'services/training-worker/src/probe',
    'services/training-worker/test/probe/deep',
  ],
  'drift-worker': [
    'services/drift-worker/src',
    'services/drift-worker/src/probe',
    'services/drift-worker/src/probe/deep',
  ],
  'local-runner': ['compose/local', 'compose/local/install', 'compose/local/install/probe'],
  testkit: ['testkit', 'testkit/probe', 'testkit/probe/deep'],
  scripts: ['scripts', 'scripts/generators', 'scripts/tools/compose-config'],
  bench: ['bench', 'bench/lib', 'bench/lib/probe'],
  tests: ['test/e2e', 'test/configs/tools', 'test/configs/tools/probe'],
};

/** A real file of each zone, and its package name where the zone is a workspace package. */
const TARGETS: Record<Zone, { file: string; pkg?: string }> = {
  algorithms: { file: 'services/algorithms/src/random.ts', pkg: '@pynomaly/algorithms' },
  shared: { file: 'services/shared/src/config.ts', pkg: '@pynomaly/shared' },
  api: { file: 'services/api/src/app.ts', pkg: '@pynomaly/api' },
  'training-worker': { file: 'services/training-worker/src/handler.ts', pkg: '@pynomaly/training-worker' },
  'drift-worker': { file: 'services/drift-worker/src/handler.ts', pkg: '@pynomaly/drift-worker' },
  'local-runner': { file: 'compose/local/ports.ts' },
  testkit: { file: 'testkit/net.ts' },
  scripts: { file: 'scripts/generate.ts' },
  bench: { file: 'bench/lib/stats.ts' },
  tests: { file: 'test/support/stack-clients.ts' },
};

const SERVICES: Zone[] = ['api', 'training-worker', 'drift-worker'];
const FORBIDDEN: [Zone, Zone[]][] = [
  ['algorithms', ['shared', ...SERVICES, 'local-runner']],
  ['shared', SERVICES],
  ...SERVICES.map((s): [Zone, Zone[]] => [s, SERVICES.filter((o) => o !== s)]),
  ['local-runner', ['algorithms', 'shared', ...SERVICES]],
  ...(['testkit', 'scripts', 'bench'] as Zone[]).map((z): [Zone, Zone[]] => [z, ['tests']]),
];
const ALLOWED: [Zone, Zone[]][] = [
  ['shared', ['algorithms']],
  ...SERVICES.map((s): [Zone, Zone[]] => [s, ['shared', 'algorithms']]),
  ['scripts', ['testkit', 'algorithms']],
  ['bench', ['testkit', 'algorithms', 'shared']],
  ['tests', ['testkit', 'algorithms', 'shared', 'local-runner']],
];

interface Probe {
  name: string;
  filePath: string;
  code: string;
}

/** Relative and (where there is one) package imports of `to` from every probe folder of `from`. */
function probes(from: Zone, to: Zone): Probe[] {
  return PROBE_DIRS[from].flatMap((dir) => {
    let spec = relative(join(root, dir), join(root, TARGETS[to].file)).replace(/\.ts$/, '.js');
    if (!spec.startsWith('.')) spec = `./${spec}`;
    const specs = [spec, ...(TARGETS[to].pkg ? [TARGETS[to].pkg] : [])];
    return specs.map((s) => ({
      name: `${dir}/probe.ts → ${s}`,
      filePath: join(root, dir, 'probe.ts'),
      code: `import * as other from '${s}';\nexport const probe = other;\n`,
    }));
  });
}

async function layeringErrors(p: Probe): Promise<string[]> {
  const [result] = await eslint.lintText(p.code, { filePath: p.filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'boundaries/dependencies' || m.ruleId === 'no-restricted-imports')
    .map((m) => `${m.ruleId}: ${m.message}`);
}

const forbidden = FORBIDDEN.flatMap(([from, tos]) => tos.flatMap((to) => probes(from, to)));
const allowed = ALLOWED.flatMap(([from, tos]) => tos.flatMap((to) => probes(from, to)));

describe('layering (eslint.config.js package zones)', () => {
  it('has probes at three depths of every zone', () => {
    for (const dirs of Object.values(PROBE_DIRS)) expect(new Set(dirs.map((d) => d.split('/').length)).size).toBe(3);
  });

  it.each(forbidden.map((p) => [p.name, p] as const))('forbids %s', async (_name, p) => {
    expect(await layeringErrors(p)).not.toEqual([]);
  });

  it.each(allowed.map((p) => [p.name, p] as const))('allows %s', async (_name, p) => {
    expect(await layeringErrors(p)).toEqual([]);
  });

  it('holds on the tree as it is', async () => {
    const results = await eslint.lintFiles(['services', 'compose/local', 'testkit', 'scripts', 'bench', 'test']);
    const errors = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === 'boundaries/dependencies' || m.ruleId === 'no-restricted-imports')
        .map((m) => `${relative(root, r.filePath)}:${m.line} ${m.message}`),
    );
    expect(results.length).toBeGreaterThan(50);
    expect(errors).toEqual([]);
  }, 300_000);
});
