/**
 * Prometheus config, rules and rule unit tests, checked with the promtool of the Prometheus release
 * versions.yaml pins (the one every environment runs), plus the conventions that
 * promtool cannot know: every alert is labelled, documented, has a runbook and is unit-tested
 * both firing and silent; recording rules follow level:metric:operations.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusTools } from '../../compose/local/tools.js';
import { dashboardNames } from '../../grafana/src/dashboards.js';
import * as slo from '../../services/shared/src/metrics/slo.js';
import { dashboardUid } from '../../grafana/src/lib.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const promDir = join(root, 'prometheus');
const promtool = prometheusTools.promtool();

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface ScrapeConfig {
  job_name: string;
  honor_labels?: boolean;
  metrics_path?: string;
  file_sd_configs?: { files: string[] }[];
  metric_relabel_configs?: { action?: string; regex?: string; source_labels?: string[] }[];
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: unknown[];
}

const load = <T>(path: string): T => parse(readFileSync(path, 'utf8')) as T;
const alertRules = load<RuleFile>(join(promDir, 'rules', 'alerts.yml')).groups.flatMap((g) => g.rules);
const recordingRules = load<RuleFile>(join(promDir, 'rules', 'recording.yml')).groups.flatMap((g) => g.rules);
const config = load<{
  global: Record<string, string>;
  scrape_configs: ScrapeConfig[];
  rule_files: string[];
  alerting: unknown;
}>(join(promDir, 'prometheus.yml'));

const workDirs: string[] = [];
afterAll(() => workDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** prometheus.yml laid out the way the runners do it: targets/<env>/ becomes targets/active/. */
function layout(env: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pynomaly-prom-${env}-`));
  workDirs.push(dir);
  cpSync(join(promDir, 'prometheus.yml'), join(dir, 'prometheus.yml'));
  cpSync(join(promDir, 'rules'), join(dir, 'rules'), { recursive: true });
  cpSync(join(promDir, 'targets', env), join(dir, 'targets', 'active'), { recursive: true });
  // The scrape token the services' jobs send (a mounted Secret in compose/k8s).
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'scrape-token'), 'check-only-token');
  return dir;
}

describe('prometheus.yml', () => {
  it.each(['local', 'compose'])(
    'passes promtool check config with the %s targets, every file_sd file present',
    async (env) => {
      const dir = layout(env);
      const { stdout, stderr } = await run(promtool, ['check', 'config', join(dir, 'prometheus.yml')]);
      const out = stdout + stderr;
      expect(out).toContain('SUCCESS');
      expect(out).not.toMatch(/WARNING|FAILED/);
    },
  );

  it('fails promtool check config when a rule file is broken (the check is not a no-op)', async () => {
    const dir = layout('local');
    cpSync(join(root, 'prometheus', 'targets', 'local', 'api.yml'), join(dir, 'rules', 'alerts.yml'));
    await expect(run(promtool, ['check', 'config', join(dir, 'prometheus.yml')])).rejects.toThrow();
  });

  it('scrapes and evaluates every 15 s and sends alerts to alertmanager:9093', () => {
    expect(config.global.scrape_interval).toBe('15s');
    expect(config.global.evaluation_interval).toBe('15s');
    expect(JSON.stringify(config.alerting)).toContain('alertmanager:9093');
  });

  it('has the jobs of the design, each with file_sd targets for local and compose', () => {
    const jobs = config.scrape_configs.map((s) => s.job_name).sort();
    expect(jobs).toEqual(
      [
        'alertmanager',
        'api',
        'api-views',
        'drift-worker',
        'node-exporter',
        'otel-collector',
        'otel-collector-exporter',
        'postgres-exporter',
        'prometheus',
        'training-worker',
      ].sort(),
    );
    for (const job of config.scrape_configs) {
      const files = job.file_sd_configs?.flatMap((c) => c.files) ?? [];
      expect(files, job.job_name).toEqual([`targets/active/${job.job_name}.yml`]);
      for (const env of ['local', 'compose']) {
        const groups = load<{ targets: string[]; labels: Record<string, string> }[]>(
          join(promDir, 'targets', env, `${job.job_name}.yml`),
        );
        expect(groups.length, `${env}/${job.job_name}`).toBeGreaterThan(0);
        for (const g of groups) expect(g.labels.environment, `${env}/${job.job_name}`).toBe(env);
      }
    }
  });

  it('keeps the Collector exporter labels (honor_labels) and nowhere else', () => {
    const honoring = config.scrape_configs.filter((s) => s.honor_labels).map((s) => s.job_name);
    expect(honoring).toEqual(['otel-collector-exporter']);
  });

  it('stores the API metrics once: /api/metrics is scraped, the three views are probed with every sample dropped', () => {
    const api = config.scrape_configs.find((s) => s.job_name === 'api');
    expect(api?.metrics_path).toBe('/api/metrics');
    const views = config.scrape_configs.find((s) => s.job_name === 'api-views');
    expect(views?.metric_relabel_configs).toEqual([{ source_labels: ['__name__'], regex: '.+', action: 'drop' }]);
    const paths = load<{ labels: Record<string, string> }[]>(join(promDir, 'targets', 'local', 'api-views.yml')).map(
      (g) => g.labels.__metrics_path__,
    );
    expect(paths.sort()).toEqual(['/api/metrics/business', '/api/metrics/drift', '/api/metrics/models']);
  });
});

describe('rules', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await run(promtool, [
      'check',
      'rules',
      join(promDir, 'rules', 'recording.yml'),
      join(promDir, 'rules', 'alerts.yml'),
    ]);
    expect(stdout.match(/SUCCESS/g)?.length).toBe(2);
  });

  it('name recordings level:metric:operations', () => {
    expect(recordingRules.length).toBeGreaterThan(0);
    for (const r of recordingRules) expect(r.record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });

  it('include the alerts the design asks for', () => {
    const names = alertRules.map((r) => r.alert);
    for (const name of [
      'ApiErrorBudgetBurnFast',
      'ApiErrorBudgetBurnSlow',
      'ApiLatencySLOBreach',
      'DataDriftDetected',
      'NoRecentTraining',
      'TrainingFailures',
      'WorkerDown',
      'KafkaConsumerLagHigh',
      'DeadLetterQueueGrowing',
      'OutboxNotDelivering',
      'RetentionFallingBehind',
      'CollectorRefusingData',
      'CollectorExportFailing',
      'CollectorQueueNearFull',
      'TargetDown',
      'PrometheusRuleFailures',
      'PrometheusConfigReloadFailed',
      'AlertmanagerDown',
      'AlertmanagerNotificationsFailing',
      'Watchdog',
    ]) {
      expect(names).toContain(name);
    }
  });

  it.each(alertRules.map((r) => [r.alert, r] as const))(
    '%s has severity, service, summary, description and an existing runbook that links a dashboard',
    (name, rule) => {
      expect(['critical', 'warning', 'none']).toContain(rule.labels?.severity);
      expect(rule.labels?.service).toBeTruthy();
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      expect(rule.annotations?.runbook_url).toBe(`docs/runbooks/${name}.md`);
      const runbook = join(root, 'docs', 'runbooks', `${name}.md`);
      expect(existsSync(runbook)).toBe(true);
      const text = readFileSync(runbook, 'utf8');
      for (const section of ['## What it means', '## Impact', '## Diagnosis', '## Mitigation', '## Dashboards'])
        expect(text).toContain(section);
      const linked = [...text.matchAll(/\/d\/([a-z0-9-]+)/g)].map((m) => m[1]);
      expect(linked.length).toBeGreaterThan(0);
      for (const uid of linked) expect(dashboardNames().map(dashboardUid)).toContain(uid);
    },
  );
});

describe('rules and the SLO constants (services/shared/src/metrics/slo.ts) say the same', () => {
  const alert = (name: string) => alertRules.find((r) => r.alert === name);
  const record = (name: string) => recordingRules.find((r) => r.record === name);

  it.each(Object.values(slo.BURN_RATE_ALERTS).map((a) => [a.alert, a] as const))(
    '%s compares the constants’ ratio, windows, factor and budget',
    (name, a) => {
      const rule = alert(name);
      expect(rule, name).toBeDefined();
      expect(rule!.expr.trim()).toBe(slo.burnRateExpr(a));
      expect(rule!.annotations?.description).toContain(`${slo.percent(a.budget)})`);
    },
  );

  it('records the error ratio over every window the alerts and dashboards read', () => {
    const windows = new Set([
      ...slo.ERROR_RATIO_WINDOWS,
      ...Object.values(slo.BURN_RATE_ALERTS)
        .filter((a) => a.ratio === slo.ERROR_RATIO)
        .flatMap((a) => [a.longWindow, a.shortWindow]),
    ]);
    for (const w of windows) expect(record(`${slo.ERROR_RATIO}:ratio_rate${w}`)?.expr, w).toContain(`[${w}]`);
  });

  it('records the slow ratio over every window, with the latency objective as the bucket bound', () => {
    for (const w of slo.SLOW_RATIO_WINDOWS) {
      const expr = record(`${slo.SLOW_RATIO}:ratio_rate${w}`)?.expr;
      expect(expr, w).toContain(`le="${slo.LATENCY_SLO.thresholdSeconds}"`);
      expect(expr, w).toContain(`[${w}]`);
    }
  });

  it('select the workers the way the dashboards do', () => {
    expect(alert('WorkerDown')?.expr).toContain(slo.WORKER_JOB_SELECTOR);
  });
});

describe('promtool test rules', () => {
  const testsDir = join(promDir, 'tests');
  const testFiles = readdirSync(testsDir).filter((f) => f.endsWith('.yml'));

  it('pass for every test file', async () => {
    const { stdout } = await run(promtool, ['test', 'rules', ...testFiles], { cwd: testsDir });
    expect(stdout.match(/SUCCESS/g)?.length).toBe(testFiles.length);
  });

  it.each(alertRules.map((r) => [r.alert] as const))('cover %s firing and (unless always on) silent', (name) => {
    const cases = testFiles
      .map((f) => load<{ tests: { alert_rule_test?: AlertTest[] }[] }>(join(testsDir, f)))
      .flatMap((doc) => doc.tests.flatMap((t) => t.alert_rule_test ?? []))
      .filter((t) => t.alertname === name);
    expect(
      cases.some((c) => c.exp_alerts.length > 0),
      'a firing case',
    ).toBe(true);
    if (name !== 'Watchdog')
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        'a silent case',
      ).toBe(true);
  });

  it('fail when an expectation is wrong (the tests can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pynomaly-promtest-'));
    workDirs.push(dir);
    cpSync(join(promDir, 'rules'), join(dir, 'rules'), { recursive: true });
    const original = readFileSync(join(testsDir, 'WorkerDown.yml'), 'utf8');
    const broken = original.replace('severity: critical', 'severity: warning');
    expect(broken).not.toBe(original);
    writeFileSync(join(dir, 'tests-WorkerDown.yml'), broken.replaceAll('../rules/', 'rules/'));
    await expect(run(promtool, ['test', 'rules', 'tests-WorkerDown.yml'], { cwd: dir })).rejects.toThrow();
  });
});
