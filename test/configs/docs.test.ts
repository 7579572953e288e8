// The docs as a user follows them: every shell command in a code block of README.md and docs/
// either runs here (the ones that need no running stack, container engine or cluster) or is
// listed below with the test that already covers what it does (Compose- or Kubernetes-only, or
// needing the running stack); a new command in the docs fails this test until it is one or the
// other. Every relative link resolves to a file, and a link to a heading to an existing heading.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { alertmanagerHome, prometheusHome } from '../../compose/local/tools.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function markdownFiles(): string[] {
  const docs = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? docs(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    );
  return ['README.md', ...docs('docs')];
}

interface Command {
  file: string;
  command: string;
}

const SHELL_BLOCK = /^```(bash|sh|shell|console)\n([\s\S]*?)^```/gm;

/** The commands of one file's shell blocks: continuations joined, comments and prompts dropped. */
export function shellCommands(file: string, text: string): Command[] {
  const out: Command[] = [];
  for (const block of text.matchAll(SHELL_BLOCK)) {
    for (const raw of block[2]!.replace(/\\\n\s*/g, ' ').split('\n')) {
      const command = raw
        .replace(/^\s*\$\s+/, '')
        .replace(/\s+#\s.*$/, '')
        .replace(/\s+/g, ' ')
        .trim();
      if (command && !command.startsWith('#')) out.push({ file, command });
    }
  }
  return out;
}

type Handling = { run: true } | { run: false; why: string; coveredBy: string };

/** Every command the docs show, by pattern: run here, or why not and which test covers it. */
const COMMANDS: [RegExp, Handling][] = [
  // Offline checks: they run here, as a reader would run them.
  [/^promtool check rules prometheus\/rules\/\*\.yml$/, { run: true }],
  [/^promtool test rules prometheus\/tests\/\*\.yml$/, { run: true }],
  // The test suite itself and the tools it is made of.
  [
    /^npm (test|run test:unit|run test:e2e|run check:configs|run lint && npm run typecheck)$/,
    { run: false, why: 'the test suite itself (long-running)', coveredBy: 'npm test runs each of them' },
  ],
  [
    /^npm run bench$/,
    { run: false, why: 'long-running benchmarks that write reports', coveredBy: 'bench/run.ts (npm run bench)' },
  ],
  // The local stack: starting and stopping it is what every e2e run does.
  [
    /^npm (start|stop|run stack -- (up|status|logs|down|soak)\b.*)$/,
    {
      run: false,
      why: 'starts, inspects or stops a local stack (long-running, binds ports)',
      coveredBy:
        'test/e2e/global-setup.ts (upStack/downStack), test/e2e/stack-smoke.test.ts, test/e2e/lifecycle.test.ts',
    },
  ],
  [
    /^npm run ops -- /,
    {
      run: false,
      why: 'needs a running API with data',
      coveredBy: 'test/e2e/operator.test.ts (the routes the CLI calls); services/api/test/operator.test.ts',
    },
  ],
  [
    /^curl /,
    {
      run: false,
      why: 'needs the running stack',
      coveredBy: 'test/e2e/stack-smoke.test.ts (Collector, Prometheus, Alertmanager endpoints)',
    },
  ],
  [
    /^promtool check config prometheus\/prometheus\.yml$/,
    {
      run: false,
      why: 'reads file_sd paths the runners fill in (targets/active/)',
      coveredBy: 'test/configs/prometheus.test.ts (promtool check config on the rendered config)',
    },
  ],
  // Compose-only: no container engine here.
  [
    /^(export POSTGRES_PASSWORD=|POSTGRES_PASSWORD=\.\.\.|PYNOMALY_IMAGE=\S+ )?.*\bdocker compose -f compose\/docker-compose(\.production)?\.yml\b/,
    {
      run: false,
      why: 'Compose only',
      coveredBy: 'test/configs/compose.test.ts (both files rendered by compose-go, secrets required)',
    },
  ],
  [
    /^export POSTGRES_PASSWORD=\.\.\. /,
    { run: false, why: 'Compose only (production secrets)', coveredBy: 'test/configs/compose.test.ts' },
  ],
  [
    /^docker (build|push) /,
    {
      run: false,
      why: 'needs a container engine and a registry',
      coveredBy: 'test/configs/dockerfile.test.ts (the Dockerfile)',
    },
  ],
  // Kubernetes-only: no cluster here.
  [
    /^(kubectl |kustomize build |cd k8s\/overlays\/production && kustomize edit set image )/,
    {
      run: false,
      why: 'Kubernetes only',
      coveredBy: 'test/configs/k8s.test.ts and k8s-policy.test.ts (kustomize build, schemas, policies)',
    },
  ],
];

const all = markdownFiles().flatMap((f) => shellCommands(f, readFileSync(join(root, f), 'utf8')));
const handling = (c: Command) => COMMANDS.find(([re]) => re.test(c.command));

describe('commands in the docs', () => {
  it('finds the commands (the extraction works)', () => {
    expect(all.length).toBeGreaterThan(20);
    expect(shellCommands('x.md', '```bash\nnpm run a \\\n  --b   # why\n# note\n$ npm c\n```\n')).toEqual([
      { file: 'x.md', command: 'npm run a --b' },
      { file: 'x.md', command: 'npm c' },
    ]);
  });

  it.each(all.map((c) => [`${c.file}: ${c.command}`, c] as const))('%s is run here or covered', (_n, c) => {
    const h = handling(c);
    expect(h, `add "${c.command}" (${c.file}) to COMMANDS in test/configs/docs.test.ts`).toBeDefined();
  });

  const runnable = [...new Set(all.filter((c) => handling(c)?.[1].run).map((c) => c.command))];
  it('runs some of them here', () => expect(runnable.length).toBeGreaterThan(0));

  it.each(runnable)('runs: %s', async (command) => {
    // promtool and amtool as the install puts them, on PATH the way a reader has them.
    const PATH = [prometheusHome(), alertmanagerHome(), process.env.PATH].join(':');
    const { stdout, stderr } = await run('bash', ['-c', command], {
      cwd: root,
      env: { ...process.env, PATH },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`${command} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(`${stdout}${stderr}`).not.toMatch(/FAILED|error/i);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutCode = text.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  file: string;
  target: string;
}

function relativeLinks(file: string, text: string): Link[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
    .map((target) => ({ file, target }));
}

const links = markdownFiles().flatMap((f) => relativeLinks(f, readFileSync(join(root, f), 'utf8')));

describe('relative links in the docs', () => {
  it('finds them (the extraction works)', () => {
    expect(links.length).toBeGreaterThan(10);
    expect(headingAnchors('# Jobs and dead letters\n## FAQ\n## FAQ\n### `npm run ops` (CLI)\n')).toEqual(
      new Set(['jobs-and-dead-letters', 'faq', 'faq-1', 'npm-run-ops-cli']),
    );
  });

  it.each(links.map((l) => [`${l.file} → ${l.target}`, l] as const))('%s resolves', (_n, l) => {
    const [path, anchor] = l.target.split('#') as [string, string | undefined];
    const target = path === '' ? join(root, l.file) : resolve(join(root, dirname(l.file)), decodeURI(path));
    expect(existsSync(target), `${l.file}: ${l.target} (no file ${relative(root, target)})`).toBe(true);
    if (anchor && target.endsWith('.md'))
      expect([...headingAnchors(readFileSync(target, 'utf8'))], `${l.file}: ${l.target}`).toContain(anchor);
  });
});
