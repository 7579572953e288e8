/**
 * Both compose files, checked offline with the Compose ecosystem's own validators:
 * the Compose specification JSON schema (from the compose-go module, validated with ajv), the
 * compose-go loader that `docker compose config` uses (interpolation, normalisation, consistency),
 * and `docker compose config` itself where a Docker CLI with the compose plugin is installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureDeploymentTools, type DeploymentTools } from '../../scripts/tools/install.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const composeDir = join(root, 'compose');
const DEV = join(composeDir, 'docker-compose.yml');
const PROD = join(composeDir, 'docker-compose.production.yml');

/** The production secrets: each must be required (`${VAR:?message}`) wherever it is used. */
const SECRETS = [
  'POSTGRES_PASSWORD',
  'PYNOMALY_API_KEYS',
  'ALERTMANAGER_WEBHOOK_TOKEN',
  'PYNOMALY_SCRAPE_TOKEN',
  'GRAFANA_ADMIN_PASSWORD',
] as const;
const SECRET_VALUES: Record<string, string> = {
  POSTGRES_PASSWORD: 'test-only-pg-password',
  PYNOMALY_API_KEYS: JSON.stringify([
    { name: 'ops', scopes: ['admin'], keys: ['test-only-admin-key'] },
    { name: 'alertmanager', scopes: ['alerts:write'], keys: ['test-only-webhook-key'] },
  ]),
  ALERTMANAGER_WEBHOOK_TOKEN: 'test-only-webhook-key',
  PYNOMALY_SCRAPE_TOKEN: 'test-only-scrape-token',
  GRAFANA_ADMIN_PASSWORD: 'test-only-grafana-password',
};

interface KeyEntry {
  name: string;
  scopes: string[];
  keys: string[];
}

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: { published?: string; target: number; host_ip?: string }[];
  environment?: Record<string, string | null>;
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  command?: string[] | null;
  restart?: string;
  deploy?: { resources?: { limits?: { cpus?: number | string; memory?: number | string } } };
  networks?: Record<string, { aliases?: string[] } | null>;
}
interface ComposeProject {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** An environment without any of the secrets, so the host's own variables cannot mask a failure. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...SECRETS, 'PYNOMALY_IMAGE', 'PYNOMALY_PUBLISH_ADDRESS', 'GRAFANA_ADMIN_USER']) delete env[name];
  return { ...env, ...extra };
}

async function render(tools: DeploymentTools, file: string, env: NodeJS.ProcessEnv): Promise<ComposeProject> {
  const { stdout } = await run(tools.composeConfig, [file], { cwd: composeDir, env, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as ComposeProject;
}

async function renderFails(tools: DeploymentTools, file: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    await run(tools.composeConfig, [file], { cwd: composeDir, env });
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error(`${file} rendered although it should have been refused`);
}

async function dockerComposeAvailable(): Promise<boolean> {
  try {
    await run('docker', ['compose', 'version']);
    return true;
  } catch {
    return false;
  }
}

let tools: DeploymentTools;
let dev: ComposeProject;
let prod: ComposeProject;

beforeAll(async () => {
  tools = await ensureDeploymentTools();
  dev = await render(tools, DEV, cleanEnv());
  prod = await render(tools, PROD, cleanEnv(SECRET_VALUES));
});

describe('Compose specification schema', () => {
  it.each([DEV, PROD])('%s validates against compose-spec.json', (file) => {
    const schema = JSON.parse(readFileSync(tools.composeSchema, 'utf8')) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as unknown;
    const ok = validate(doc);
    expect(validate.errors ?? [], `schema errors in ${file}`).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema rejects what it should (a misspelt service key)', () => {
    const schema = JSON.parse(readFileSync(tools.composeSchema, 'utf8')) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate({ services: { api: { image: 'x', helthcheck: {} } } })).toBe(false);
  });
});

describe('development compose file', () => {
  it('runs every part of the stack', () => {
    expect(Object.keys(dev.services).sort()).toEqual(
      [
        'alertmanager',
        'api',
        'drift-worker',
        'grafana',
        'init-permissions',
        'jaeger',
        'kafka',
        'mailpit',
        'node-exporter',
        'otel-collector',
        'postgres',
        'postgres-exporter',
        'prometheus',
        'training-worker',
        'victoria-logs',
        'zipkin',
      ].sort(),
    );
  });

  it('publishes ports on 127.0.0.1 only', () => {
    for (const [name, svc] of Object.entries(dev.services)) {
      for (const p of svc.ports ?? []) expect(p.host_ip, `${name}:${p.target}`).toBe('127.0.0.1');
    }
  });

  it('waits on health where a healthcheck exists, and every long-running part has one or says why not', () => {
    // The Collector and Jaeger images ship no shell or HTTP client to probe themselves with.
    const noProbe = new Set(['init-permissions', 'otel-collector', 'jaeger', 'training-worker', 'drift-worker']);
    for (const [name, svc] of Object.entries(dev.services)) {
      if (!noProbe.has(name)) expect(svc.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
        const target = dev.services[dep];
        expect(target, `${name} depends on unknown ${dep}`).toBeDefined();
        if (condition === 'service_healthy')
          expect(target?.healthcheck?.test, `${dep} must have a healthcheck`).toBeDefined();
      }
    }
    expect(dev.services.api?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(dev.services.api?.depends_on?.kafka?.condition).toBe('service_healthy');
  });

  it('builds one image for the three services, the entry picked by PYNOMALY_SERVICE', () => {
    for (const project of [dev, prod]) {
      const image = project.services.api?.image;
      for (const svc of ['api', 'training-worker', 'drift-worker']) {
        expect(project.services[svc]?.image, svc).toBe(image);
        expect(project.services[svc]?.build, svc).toEqual(project.services.api?.build);
        expect(project.services[svc]?.environment?.PYNOMALY_SERVICE).toBe(svc);
      }
    }
  });

  it('mounts the one real config of each part (no copies) and keeps data in named volumes', () => {
    const mounts = (svc: string) =>
      (dev.services[svc]?.volumes ?? []).map((v) => ({ ...v, source: v.source?.replace(root + '/', '') }));
    const bind = (svc: string, target: string) => mounts(svc).find((v) => v.target === target);
    expect(bind('otel-collector', '/etc/otelcol/config.yaml')?.source).toBe('collector/config.yaml');
    expect(bind('prometheus', '/etc/prometheus/prometheus.yml')?.source).toBe('prometheus/prometheus.yml');
    expect(bind('prometheus', '/etc/prometheus/rules')?.source).toBe('prometheus/rules');
    expect(bind('prometheus', '/etc/prometheus/targets/active')?.source).toBe('prometheus/targets/compose');
    expect(bind('alertmanager', '/etc/alertmanager/alertmanager.yml')?.source).toBe('alertmanager/alertmanager.yml');
    expect(bind('alertmanager', '/etc/alertmanager/templates')?.source).toBe('alertmanager/templates');
    expect(bind('grafana', '/etc/grafana/provisioning')?.source).toBe('grafana/provisioning');
    expect(bind('grafana', '/var/lib/grafana/dashboards')?.source).toBe('grafana/dashboards');
    for (const m of [...mounts('otel-collector'), ...mounts('prometheus'), ...mounts('alertmanager')]) {
      if (m.type === 'bind' && !m.target.startsWith('/var/log')) expect(m.read_only, m.target).toBe(true);
    }
    for (const svc of ['postgres', 'kafka', 'prometheus', 'alertmanager', 'grafana']) {
      expect(
        mounts(svc).some((v) => v.type === 'volume'),
        `${svc} keeps its data in a named volume`,
      ).toBe(true);
    }
  });

  it("mounts Grafana's dashboards where the provisioned dashboard provider reads them", () => {
    const provider = parse(readFileSync(join(root, 'grafana/provisioning/dashboards/pynomaly.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    for (const project of [dev, prod]) {
      const mount = project.services.grafana?.volumes?.find((v) => v.target === provider.providers[0]?.options.path);
      expect(mount?.source).toBe(join(root, 'grafana', 'dashboards'));
    }
  });

  it('bind-mounts logs under logs/<component>/', () => {
    for (const svc of ['api', 'training-worker', 'drift-worker', 'postgres', 'kafka', 'otel-collector', 'grafana']) {
      const sources = (dev.services[svc]?.volumes ?? []).map((v) => v.source ?? '');
      expect(sources, svc).toContain(join(root, 'logs', svc));
    }
  });

  it('points the mounted configs at files that exist', () => {
    for (const rel of [
      'collector/config.yaml',
      'prometheus/prometheus.yml',
      'prometheus/rules',
      'prometheus/targets/compose',
    ]) {
      expect(existsSync(join(root, rel)), rel).toBe(true);
    }
  });

  it('gives Alertmanager the webhook credential where alertmanager.yml reads it, and it is an alerts:write-only key', () => {
    const am = parse(readFileSync(join(root, 'alertmanager', 'alertmanager.yml'), 'utf8'), { merge: true }) as {
      receivers: { webhook_configs?: { http_config?: { authorization?: { credentials_file?: string } } }[] }[];
    };
    const files = new Set(
      am.receivers.flatMap((r) => (r.webhook_configs ?? []).map((w) => w.http_config?.authorization?.credentials_file)),
    );
    expect([...files]).toEqual(['secrets/api-webhook-token']);
    for (const project of [dev, prod]) {
      const svc = project.services.alertmanager as ComposeService & { secrets?: { source: string; target: string }[] };
      expect(svc.secrets?.map((x) => x.target)).toContain('/etc/alertmanager/secrets/api-webhook-token');
    }
    const token = readFileSync(join(composeDir, 'dev-secrets', 'api-webhook-token'), 'utf8').trim();
    const keys = JSON.parse(dev.services.api?.environment?.PYNOMALY_API_KEYS ?? '[]') as KeyEntry[];
    expect(keys.find((k) => k.keys.includes(token))?.scopes).toEqual(['alerts:write']);
  });

  it('gives Prometheus the scrape token where prometheus.yml reads it, the same the services require', () => {
    const prom = parse(readFileSync(join(root, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; authorization?: { credentials_file?: string } }[];
    };
    const withToken = prom.scrape_configs.filter((j) => j.authorization).map((j) => j.job_name);
    expect(withToken.sort()).toEqual(['api', 'api-views', 'drift-worker', 'training-worker']);
    const files = new Set(prom.scrape_configs.map((j) => j.authorization?.credentials_file).filter(Boolean));
    expect([...files]).toEqual(['secrets/scrape-token']);
    for (const project of [dev, prod]) {
      const svc = project.services.prometheus as ComposeService & { secrets?: { source: string; target: string }[] };
      expect(svc.secrets?.map((x) => x.target)).toContain('/etc/prometheus/secrets/scrape-token');
    }
    const token = readFileSync(join(composeDir, 'dev-secrets', 'scrape-token'), 'utf8').trim();
    for (const svc of ['api', 'training-worker', 'drift-worker'])
      expect(dev.services[svc]?.environment?.PYNOMALY_SCRAPE_TOKEN, svc).toBe(token);
  });

  it('runs Prometheus with 30 d retention and Jaeger as trace-backend', () => {
    expect(dev.services.prometheus?.command).toContain('--storage.tsdb.retention.time=30d');
    expect(dev.services.prometheus?.image).toMatch(/^prom\/prometheus:v3\./);
    expect(dev.services.jaeger?.networks?.default?.aliases).toContain('trace-backend');
    expect(dev.services['otel-collector']?.environment?.TRACE_BACKEND_ENDPOINT).toBe('trace-backend:4317');
  });

  it('gives compose file_sd targets only for services that exist, on their canonical ports', () => {
    const dir = join(root, 'prometheus', 'targets', 'compose');
    const ports: Record<string, number> = {
      api: 8000,
      'training-worker': 9102,
      'drift-worker': 9103,
      'otel-collector': 8888,
      prometheus: 9090,
      alertmanager: 9093,
      'postgres-exporter': 9187,
      'node-exporter': 9100,
    };
    for (const file of readdirSync(dir)) {
      const groups = parse(readFileSync(join(dir, file), 'utf8')) as { targets: string[] }[];
      for (const target of groups.flatMap((g) => g.targets)) {
        const [host, port] = target.split(':');
        expect(dev.services[host ?? ''], `${file}: ${target}`).toBeDefined();
        if (host && host in ports && host !== 'otel-collector') expect(Number(port), target).toBe(ports[host]);
      }
    }
  });
});

describe('production compose file', () => {
  it('refuses to render without its secrets, naming each missing one', async () => {
    const stderr = await renderFails(tools, PROD, cleanEnv());
    for (const name of SECRETS) expect(stderr).toContain(`required variable ${name} is missing a value`);
  });

  it.each(SECRETS)('refuses to render when only %s is missing', async (missing) => {
    const env = cleanEnv(Object.fromEntries(Object.entries(SECRET_VALUES).filter(([k]) => k !== missing)));
    const stderr = await renderFails(tools, PROD, env);
    expect(stderr).toContain(`required variable ${missing} is missing a value`);
  });

  it('uses every secret only as ${VAR:?message}, never with a default or a literal value', () => {
    const text = readFileSync(PROD, 'utf8');
    for (const name of SECRETS) {
      const uses = [...text.matchAll(new RegExp(`\\$\\{${name}([^}]*)\\}`, 'g'))].map((m) => m[1] ?? '');
      expect(uses.length, `${name} is used`).toBeGreaterThan(0);
      for (const suffix of uses) expect(suffix, name).toMatch(/^:\?\S/);
    }
    for (const value of Object.values(SECRET_VALUES)) expect(text).not.toContain(value);
    expect(text).not.toContain('pynomaly-dev-key');
    expect(text).not.toMatch(/PASSWORD:\s*['"]?(pynomaly|admin|password|changeme)['"]?\s*$/m);
  });

  it('passes the secrets through where they are needed', () => {
    expect(prod.services.postgres?.environment?.POSTGRES_PASSWORD).toBe(SECRET_VALUES.POSTGRES_PASSWORD);
    expect(prod.services.api?.environment?.PYNOMALY_API_KEYS).toBe(SECRET_VALUES.PYNOMALY_API_KEYS);
    expect(prod.services.api?.environment?.DATABASE_URL).toContain(
      `:${SECRET_VALUES.POSTGRES_PASSWORD}@postgres:5432/`,
    );
    expect(prod.services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe(SECRET_VALUES.GRAFANA_ADMIN_PASSWORD);
  });

  it('requires the scrape token on every service and runs Prometheus without its lifecycle or admin API', () => {
    for (const svc of ['api', 'training-worker', 'drift-worker'])
      expect(prod.services[svc]?.environment?.PYNOMALY_SCRAPE_TOKEN, svc).toBe(SECRET_VALUES.PYNOMALY_SCRAPE_TOKEN);
    const flags = prod.services.prometheus?.command ?? [];
    expect(flags.filter((f) => /enable-(lifecycle|admin-api)/.test(f))).toEqual([]);
  });

  it('sets PYNOMALY_ENVIRONMENT=production for every service', () => {
    for (const svc of ['api', 'training-worker', 'drift-worker']) {
      expect(prod.services[svc]?.environment?.PYNOMALY_ENVIRONMENT, svc).toBe('production');
    }
  });

  it('publishes only the API (8000) and Prometheus (9090), on 127.0.0.1 unless told otherwise', () => {
    const published = Object.entries(prod.services).flatMap(([name, svc]) =>
      (svc.ports ?? []).map((p) => `${name}:${p.host_ip}:${p.published}:${p.target}`),
    );
    expect(published.sort()).toEqual(['api:127.0.0.1:8000:8000', 'prometheus:127.0.0.1:9090:9090']);
  });

  it('restarts and limits every long-running service', () => {
    for (const [name, svc] of Object.entries(prod.services)) {
      if (name === 'init-permissions') continue;
      expect(svc.restart, name).toBe('unless-stopped');
      expect(svc.deploy?.resources?.limits?.memory, `${name} memory limit`).toBeDefined();
      expect(svc.deploy?.resources?.limits?.cpus, `${name} cpu limit`).toBeDefined();
    }
  });

  it('keeps the same parts and config mounts as development', () => {
    expect(Object.keys(prod.services).sort()).toEqual(Object.keys(dev.services).sort());
    for (const svc of ['otel-collector', 'prometheus', 'alertmanager', 'grafana']) {
      const binds = (p: ComposeProject) =>
        (p.services[svc]?.volumes ?? []).filter((v) => v.type === 'bind').map((v) => `${v.source}->${v.target}`);
      expect(binds(prod), svc).toEqual(binds(dev));
    }
  });
});

describe('docker compose config (where the Docker CLI with the compose plugin exists)', () => {
  it('agrees: development renders, production needs its secrets', async () => {
    if (!(await dockerComposeAvailable())) {
      // No Docker here: the compose-go loader above is the library `docker compose config` runs.
      expect(existsSync(tools.composeConfig)).toBe(true);
      return;
    }
    await run('docker', ['compose', '-f', DEV, 'config', '--quiet'], { env: cleanEnv() });
    await expect(run('docker', ['compose', '-f', PROD, 'config', '--quiet'], { env: cleanEnv() })).rejects.toThrow(
      /POSTGRES_PASSWORD|PYNOMALY_API_KEYS|GRAFANA_ADMIN_PASSWORD/,
    );
    await run('docker', ['compose', '-f', PROD, 'config', '--quiet'], { env: cleanEnv(SECRET_VALUES) });
  });
});
