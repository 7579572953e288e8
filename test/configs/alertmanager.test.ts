/**
 * Alertmanager config: amtool check-config, the routing table of alertmanager/tests/routes.yml
 * through `amtool config routes test` (every route of the tree must be reached by some row), and
 * the inhibition cases on a real Alertmanager (the release versions.yaml pins): both alerts are posted, and the
 * target's status must say whether it is inhibited.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusTools } from '../../compose/local/tools.js';
import { freePort } from '../../testkit/net.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const amDir = join(root, 'alertmanager');
const configFile = join(amDir, 'alertmanager.yml');
const amtool = prometheusTools.amtool();

interface Route {
  receiver?: string;
  matchers?: string[];
  routes?: Route[];
}
interface Table {
  routes: { name: string; labels: Record<string, string>; receivers: string[] }[];
  inhibitions: { name: string; source: Record<string, string>; target: Record<string, string>; inhibited: boolean }[];
}

const table = parse(readFileSync(join(amDir, 'tests', 'routes.yml'), 'utf8')) as Table;
const config = parse(readFileSync(configFile, 'utf8')) as { route: Route; receivers: { name: string }[] };

const labelArgs = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`);

async function routesTest(labels: Record<string, string>, receivers: string[]): Promise<string> {
  const { stdout } = await run(amtool, [
    'config',
    'routes',
    'test',
    `--config.file=${configFile}`,
    `--verify.receivers=${receivers.join(',')}`,
    ...labelArgs(labels),
  ]);
  return stdout.trim();
}

describe('alertmanager.yml', () => {
  it('passes amtool check-config (templates included)', async () => {
    const { stdout } = await run(amtool, ['check-config', configFile]);
    expect(stdout).toContain('SUCCESS');
    expect(stdout).toMatch(/1 templates/);
  });

  it.each(table.routes.map((r) => [r.name, r] as const))('routes: %s', async (_name, row) => {
    expect(await routesTest(row.labels, row.receivers)).toBe(row.receivers.join(','));
  });

  it('amtool reports a wrong expectation (the table can fail)', async () => {
    const row = table.routes[1]!;
    await expect(routesTest(row.labels, ['api-webhook'])).rejects.toThrow();
  });

  it('the table reaches every receiver a route names', () => {
    const routed = new Set<string>();
    const walk = (r: Route) => {
      if (r.receiver) routed.add(r.receiver);
      r.routes?.forEach(walk);
    };
    walk(config.route);
    const expected = new Set(table.routes.flatMap((r) => r.receivers));
    for (const receiver of routed) expect(expected, receiver).toContain(receiver);
  });

  it('renders the notification templates (amtool template render)', async () => {
    const { stdout } = await run(amtool, [
      'template',
      'render',
      `--template.glob=${join(amDir, 'templates', '*.tmpl')}`,
      '--template.text={{ template "pynomaly.title" . }}|{{ template "pynomaly.text" . }}|{{ template "pynomaly.email.html" . }}',
    ]);
    const [title, text, html] = stdout.split('|');
    expect(title).toMatch(/^\[[A-Z]+/);
    expect(text).toContain('Runbook:');
    expect(html).toContain('<ul>');
  });

  it('every receiver posts to the API webhook with a bearer credential file; those with people behind them also mail and post to the Slack-format sink', () => {
    type Receiver = {
      name: string;
      webhook_configs?: { url: string; http_config?: { authorization?: { credentials_file?: string } } }[];
      email_configs?: { smarthost: string; send_resolved: boolean }[];
      slack_configs?: {
        api_url: string;
        send_resolved: boolean;
        http_config?: { authorization?: { credentials_file?: string } };
      }[];
    };
    const quiet = ['api-webhook', 'watchdog-heartbeat'];
    for (const r of config.receivers as Receiver[]) {
      expect(r.webhook_configs?.[0]?.url, r.name).toBe('http://api:8000/api/v1/alerts/webhook');
      expect(r.webhook_configs?.[0]?.http_config?.authorization?.credentials_file, r.name).toBe(
        'secrets/api-webhook-token',
      );
      if (quiet.includes(r.name)) {
        expect(r.email_configs ?? [], r.name).toEqual([]);
        expect(r.slack_configs ?? [], r.name).toEqual([]);
        continue;
      }
      expect(r.email_configs?.[0], r.name).toMatchObject({ smarthost: 'mailpit:1025', send_resolved: true });
      expect(r.slack_configs?.[0], r.name).toMatchObject({
        api_url: 'http://api:8000/api/v1/alerts/slack',
        send_resolved: true,
      });
      expect(r.slack_configs?.[0]?.http_config?.authorization?.credentials_file, r.name).toBe(
        'secrets/api-webhook-token',
      );
    }
  });

  it('renders summary, severity, runbook and dashboard links for an alert (amtool template render)', async () => {
    const data = {
      receiver: 'ml-models',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'DataDriftDetected', severity: 'warning', service: 'drift-worker', detector_id: 'd-1' },
          annotations: {
            summary: 'Data drift on detector d-1',
            description: 'drift persisted',
            runbook_url: 'docs/runbooks/DataDriftDetected.md',
          },
          startsAt: '2026-01-01T00:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint: 'f',
        },
      ],
      groupLabels: { alertname: 'DataDriftDetected' },
      commonLabels: {
        alertname: 'DataDriftDetected',
        severity: 'warning',
        service: 'drift-worker',
        detector_id: 'd-1',
      },
      commonAnnotations: {},
      externalURL: 'http://alertmanager',
    };
    const dataFile = join(mkdtempSync(join(tmpdir(), 'pynomaly-tmpl-')), 'data.json');
    writeFileSync(dataFile, JSON.stringify(data));
    const { stdout } = await run(amtool, [
      'template',
      'render',
      `--template.glob=${join(amDir, 'templates', '*.tmpl')}`,
      `--template.data=${dataFile}`,
      '--template.text={{ template "pynomaly.email.subject" . }}|{{ template "pynomaly.text" . }}|{{ template "pynomaly.email.html" . }}',
    ]);
    const [subject, text, html] = stdout.split('|');
    expect(subject).toBe('[FIRING:1] DataDriftDetected drift-worker');
    expect(text).toContain('FIRING · warning · Data drift on detector d-1');
    expect(text).toContain('Runbook: https://pynomaly.example/docs/runbooks/DataDriftDetected.md');
    expect(text).toContain('Dashboard: http://localhost:3000/d/pynomaly-drift?var-detector=d-1');
    expect(html).toContain('href="http://localhost:3000/d/pynomaly-drift?var-detector=d-1"');
  });
});

describe('inhibition on a real Alertmanager', () => {
  let proc: ChildProcess | undefined;
  let base = '';
  let dir = '';
  let log = '';
  let webhook: Server | undefined;
  const delivered: {
    headers: IncomingHttpHeaders;
    body: { receiver: string; alerts: { labels: Record<string, string> }[] };
  }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pynomaly-am-'));
    cpSync(amDir, join(dir, 'config'), { recursive: true });
    // The API's webhook replaced by a local recorder, the way the local runner rewrites addresses.
    webhook = createHttpServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        delivered.push({ headers: req.headers, body: JSON.parse(data) as (typeof delivered)[number]['body'] });
        res.writeHead(200).end();
      });
    });
    const hookPort = await new Promise<number>((ok) =>
      webhook!.listen(0, '127.0.0.1', () => ok((webhook!.address() as { port: number }).port)),
    );
    const amConfig = join(dir, 'config', 'alertmanager.yml');
    writeFileSync(
      amConfig,
      readFileSync(amConfig, 'utf8').replaceAll('http://api:8000', `http://127.0.0.1:${hookPort}`),
    );
    mkdirSync(join(dir, 'config', 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'config', 'secrets', 'api-webhook-token'), 'test-only-token\n');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = spawn(
      prometheusTools.alertmanager(),
      [
        `--config.file=${join(dir, 'config', 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    for (let i = 0; i < 100; i++) {
      const ready = await fetch(`${base}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`alertmanager did not become ready:\n${log}`);
  });

  afterAll(() => {
    proc?.kill('SIGTERM');
    webhook?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(table.inhibitions.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    // A case id keeps the cases apart: each pair differs from the others' alerts in one label
    // that is not part of the inhibition's `equal` list.
    const caseLabel = { case: `case-${i}` };
    const source = { ...c.source, ...caseLabel };
    const target: Record<string, string> = { ...c.target, ...caseLabel };
    const endsAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const post = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        [source, target].map((labels) => ({ labels, annotations: { summary: 'config test' }, endsAt })),
      ),
    });
    expect(post.ok).toBe(true);
    const filter = Object.entries(target)
      .map(([k, v]) => `filter=${encodeURIComponent(`${k}="${v}"`)}`)
      .join('&');
    let state = '';
    let inhibitedBy: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const alerts = (await (await fetch(`${base}/api/v2/alerts?${filter}`)).json()) as {
        labels: Record<string, string>;
        status: { state: string; inhibitedBy: string[] };
      }[];
      const found = alerts.find((a) => a.labels.alertname === target.alertname);
      state = found?.status.state ?? '';
      inhibitedBy = found?.status.inhibitedBy ?? [];
      if (state !== '' && state !== 'unprocessed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(state).toBe(c.inhibited ? 'suppressed' : 'active');
    expect(inhibitedBy.length > 0).toBe(c.inhibited);
  });

  it('delivers the Watchdog heartbeat to the webhook with the bearer credential from secrets/', async () => {
    const post = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: { alertname: 'Watchdog', severity: 'none', service: 'monitoring' },
          annotations: { summary: 'heartbeat' },
        },
      ]),
    });
    expect(post.ok).toBe(true);
    for (let i = 0; i < 100 && !delivered.some((d) => d.body.receiver === 'watchdog-heartbeat'); i++)
      await new Promise((r) => setTimeout(r, 200));
    const hit = delivered.find((d) => d.body.receiver === 'watchdog-heartbeat');
    expect(hit?.headers.authorization).toBe('Bearer test-only-token');
    expect(hit?.body.alerts.map((a) => a.labels.alertname)).toEqual(['Watchdog']);
  });
});
