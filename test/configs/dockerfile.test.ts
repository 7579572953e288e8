/**
 * The Dockerfile, linted and checked offline: dockerfile-utils' validator (the linter of the
 * Docker language server) must report nothing; the instructions are read with dockerfile-ast for
 * the image policy (pinned bases, multi-stage, non-root, healthcheck, lockfile install, every
 * workspace manifest copied, sources not excluded by .dockerignore); and the HEALTHCHECK and
 * ENTRYPOINT commands are run for real against a local server and a stand-in service.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions();
const SERVICES = ['api', 'training-worker', 'drift-worker'];

/** Instructions grouped by build stage (each FROM opens one). */
function stages(): { from: Instruction; name?: string; body: Instruction[] }[] {
  const out: { from: Instruction; name?: string; body: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.getKeyword() === 'FROM') {
      const args = ins.getArguments().map((a) => a.getValue());
      const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
      out.push({ from: ins, name: asIndex >= 0 ? args[asIndex + 1] : undefined, body: [] });
    } else out.at(-1)?.body.push(ins);
  }
  return out;
}

/** The JSON array of an exec-form instruction (HEALTHCHECK CMD [...], ENTRYPOINT [...]). */
function execForm(ins: Instruction): string[] {
  const raw = ins.getArgumentsContent() ?? '';
  return JSON.parse(raw.slice(raw.indexOf('['))) as string[];
}

function globalArgDefault(name: string): string | undefined {
  for (const arg of dockerfile.getInitialARGs()) {
    if (arg.getProperty()?.getName() === name) return arg.getProperty()?.getValue() ?? undefined;
  }
  return undefined;
}

describe('lint', () => {
  it('dockerfile-utils reports no problem at all', () => {
    expect(validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('the linter does catch problems (a deprecated instruction, two HEALTHCHECKs)', () => {
    const bad = 'FROM node:20.19.5-bookworm-slim\nMAINTAINER someone\nHEALTHCHECK CMD true\nHEALTHCHECK CMD false\n';
    expect(validate(bad).length).toBeGreaterThanOrEqual(2);
  });
});

describe('image policy', () => {
  const all = stages();
  const runtime = all.at(-1);

  it('is multi-stage and ends in the runtime stage', () => {
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(runtime?.name).toBe('runtime');
  });

  it('pins every external base image to an exact Node 20 tag', () => {
    const stageNames = new Set(all.map((s) => s.name));
    for (const s of all) {
      let image = s.from.getArguments()[0]?.getValue() ?? '';
      if (stageNames.has(image)) continue;
      const variable = /^\$\{?(\w+)\}?$/.exec(image)?.[1];
      if (variable) image = globalArgDefault(variable) ?? '';
      expect(image).toMatch(/^node:20\.\d+\.\d+-[a-z]+-slim$/);
    }
  });

  it('installs from the lockfile with npm ci and never runs install scripts', () => {
    const runs = instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => /npm ci\b/.test(r))).toBe(true);
    for (const r of runs.filter((r) => /npm (ci|install)\b/.test(r))) expect(r).toContain('--ignore-scripts');
    // The only package installed by name is tsx, at the version package.json pins.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    expect(pkg.devDependencies.tsx).toMatch(/^\d+\.\d+\.\d+$/);
    expect(runs.join('\n')).toContain(`require('./package.json').devDependencies.tsx`);
  });

  it('copies the manifest of every workspace before installing', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const s of all.filter((st) => st.name === 'deps' || st.name === 'prod-deps')) {
      const copied = s.body
        .filter((i) => i.getKeyword() === 'COPY')
        .flatMap((i) => i.getArguments().map((a) => a.getValue()));
      for (const ws of pkg.workspaces) expect(copied, `${s.name}: ${ws}`).toContain(`${ws}/package.json`);
    }
  });

  it('copies only sources that exist and that .dockerignore keeps', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const ins of instructions.filter((i): i is Copy => i instanceof Copy)) {
      if (ins.getFlags().some((f) => f.getName() === 'from')) continue;
      const args = ins.getArguments().map((a) => a.getValue());
      for (const src of args.filter((a) => !a.startsWith('--')).slice(0, -1)) {
        expect(existsSync(join(root, src)), src).toBe(true);
        const top = src.replace(/\/$/, '').split('/')[0];
        expect(ignored, src).not.toContain(top);
      }
    }
  });

  it('runs as an unprivileged user in the runtime stage, with a healthcheck', () => {
    const body = runtime?.body ?? [];
    const user =
      body
        .filter((i) => i.getKeyword() === 'USER')
        .at(-1)
        ?.getArgumentsContent() ?? '';
    expect(user).not.toBe('');
    expect(user.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(body.some((i) => i.getKeyword() === 'HEALTHCHECK')).toBe(true);
  });

  it('starts each service from its entry point, services/<name>/src/main.ts', () => {
    const entry = execForm(instructions.find((i) => i.getKeyword() === 'ENTRYPOINT') as Instruction);
    expect(entry.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(entry[2]).toContain('exec node --import tsx "services/${PYNOMALY_SERVICE}/src/main.ts"');
    for (const svc of SERVICES) expect(existsSync(join(root, 'services', svc, 'src', 'main.ts')), svc).toBe(true);
  });
});

describe('the image commands, run for real', () => {
  const servers: Server[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'pynomaly-dockerfile-'));
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function serve(handler: (path: string, auth: string | undefined) => number): Promise<number> {
    const server = createServer((req, res) => {
      res.statusCode = handler(req.url ?? '', req.headers.authorization);
      res.end();
    });
    servers.push(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return (server.address() as AddressInfo).port;
  }

  async function healthcheck(env: Record<string, string>): Promise<number> {
    const cmd = execForm(instructions.find((i) => i.getKeyword() === 'HEALTHCHECK') as Instruction);
    const i = cmd.indexOf('CMD');
    const [bin, ...args] = cmd.slice(i >= 0 ? i + 1 : 0);
    try {
      await run(bin ?? 'node', args, { env: { PATH: process.env.PATH, ...env } });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  }

  it('HEALTHCHECK passes on a healthy API and fails on an unhealthy or absent one', async () => {
    let status = 200;
    const port = await serve((path) => (path === '/health/live' ? status : 404));
    const env = { PYNOMALY_SERVICE: 'api', API_PORT: String(port) };
    expect(await healthcheck(env)).toBe(0);
    status = 503;
    expect(await healthcheck(env)).toBe(1);
    const closed = await serve(() => 200);
    servers.pop()?.close();
    expect(await healthcheck({ PYNOMALY_SERVICE: 'api', API_PORT: String(closed) })).toBe(1);
  });

  it("HEALTHCHECK reads a worker's /metrics, with the scrape token when one is set", async () => {
    const port = await serve((path, auth) => (path === '/metrics' && auth === 'Bearer s3cret' ? 200 : 401));
    const env = { PYNOMALY_SERVICE: 'drift-worker', METRICS_PORT: String(port) };
    expect(await healthcheck(env)).toBe(1);
    expect(await healthcheck({ ...env, PYNOMALY_SCRAPE_TOKEN: 's3cret' })).toBe(0);
  });

  it('ENTRYPOINT runs services/$PYNOMALY_SERVICE/src/main.ts under tsx as the shell-less main process', async () => {
    const entry = execForm(instructions.find((i) => i.getKeyword() === 'ENTRYPOINT') as Instruction);
    mkdirSync(join(tmp, 'services', 'stand-in', 'src'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }');
    writeFileSync(
      join(tmp, 'services', 'stand-in', 'src', 'main.ts'),
      'const n: number = process.argv.length;\nconsole.log(JSON.stringify({ args: process.argv.slice(2), n, title: process.title }));\n',
    );
    const [sh, ...shArgs] = entry;
    const { stdout } = await run(sh ?? '/bin/sh', [...shArgs, '--flag', 'value'], {
      cwd: tmp,
      env: { PATH: process.env.PATH, PYNOMALY_SERVICE: 'stand-in' },
    });
    const out = JSON.parse(stdout) as { args: string[]; title: string };
    expect(out.args).toEqual(['--flag', 'value']);
    expect(out.title).toBe('node');
  });
});
