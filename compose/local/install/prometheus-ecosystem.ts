// Prometheus, Alertmanager, node_exporter, Jaeger and VictoriaLogs at the versions pinned in versions.yaml, each
// built from its Go module into ~/.cache/pynomaly/<part>/<version>/.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from '../exec.js';
import { step } from '../progress.js';
import {
  alertmanagerHome,
  goEnv,
  jaegerHome,
  mailpitHome,
  nodeExporterHome,
  prometheusHome,
  victoriaLogsHome,
} from '../tools.js';
import { localField, pin } from '../versions.js';
import { prometheusBuildInfo, type GoProgram } from './go-build.js';

/**
 * Prometheus' module carries the web UI's sources but not its build: build the UI from the
 * module's own web/ui (npm ci, then the UI's build) in a writable copy of the module, and compile
 * it in (the `builtinassets` tag, after the module's scripts/compress_assets.sh).
 */
async function prometheusWithUi(work: string, logFile: string): Promise<string> {
  const module = localField('prometheus', 'go');
  const moduleVersion = localField('prometheus', 'moduleVersion');
  const hint = `The Go module proxy must serve ${module}@${moduleVersion}; the UI build needs npm and its registry.`;
  const dir = await step(`Prometheus ${pin('prometheus').version}: fetching the module's source`, async () => {
    await run('go', ['mod', 'download', `${module}@${moduleVersion}`], { cwd: work, env: goEnv(), logFile, hint });
    const out = execFileSync('go', ['mod', 'download', '-json', `${module}@${moduleVersion}`], {
      cwd: work,
      env: goEnv(),
    }).toString();
    return (JSON.parse(out) as { Dir: string }).Dir;
  });
  const src = join(work, 'prometheus-src');
  cpSync(dir, src, { recursive: true });
  execFileSync('chmod', ['-R', 'u+w', src]);
  const ui = join(src, 'web', 'ui');
  const npm = (args: string[]) =>
    which('nice')
      ? run('nice', ['-n', '10', 'npm', ...args], { cwd: ui, logFile, hint })
      : run('npm', args, { cwd: ui, logFile, hint });
  await step(
    `Prometheus ${pin('prometheus').version}: building the web UI (npm ci and vite, about a minute)`,
    async () => {
      await npm(['ci', '--no-audit', '--no-fund', '--loglevel=error']);
      await npm(['run', 'build:module']);
      await npm(['run', 'build', '-w', '@prometheus-io/mantine-ui']);
    },
  );
  rmSync(join(ui, 'static', 'mantine-ui'), { recursive: true, force: true });
  cpSync(join(ui, 'mantine-ui', 'dist'), join(ui, 'static', 'mantine-ui'), { recursive: true });
  await run('bash', ['scripts/compress_assets.sh'], { cwd: src, logFile, hint });
  // node_modules are not part of the Go build; dropping them keeps the copy small.
  rmSync(join(ui, 'node_modules'), { recursive: true, force: true });
  return './prometheus-src';
}

export function prometheusProgram(): GoProgram {
  const { version } = pin('prometheus');
  const moduleVersion = localField('prometheus', 'moduleVersion');
  return {
    label: `Prometheus ${version}`,
    home: prometheusHome(),
    module: localField('prometheus', 'go'),
    moduleVersion,
    commands: [
      { pkg: 'cmd/prometheus', binary: 'prometheus' },
      { pkg: 'cmd/promtool', binary: 'promtool' },
    ],
    ldflags: prometheusBuildInfo(version, moduleVersion),
    tags: ['builtinassets'],
    prepareSource: prometheusWithUi,
    versionCheck: { args: ['--version'], expect: `version ${version} ` },
    logName: 'prometheus',
  };
}

export function alertmanagerProgram(): GoProgram {
  const { version } = pin('alertmanager');
  const moduleVersion = localField('alertmanager', 'moduleVersion');
  return {
    label: `Alertmanager ${version}`,
    home: alertmanagerHome(),
    module: localField('alertmanager', 'go'),
    moduleVersion,
    commands: [
      { pkg: 'cmd/alertmanager', binary: 'alertmanager' },
      { pkg: 'cmd/amtool', binary: 'amtool' },
    ],
    ldflags: prometheusBuildInfo(version, moduleVersion),
    versionCheck: { args: ['--version'], expect: `version ${version} ` },
    logName: 'alertmanager',
  };
}

export function nodeExporterProgram(): GoProgram {
  const { version } = pin('node-exporter');
  const moduleVersion = localField('node-exporter', 'moduleVersion');
  return {
    label: `node_exporter ${version}`,
    home: nodeExporterHome(),
    module: localField('node-exporter', 'go'),
    moduleVersion,
    commands: [{ pkg: '', binary: 'node_exporter' }],
    ldflags: prometheusBuildInfo(version, moduleVersion),
    versionCheck: { args: ['--version'], expect: `version ${version} ` },
    logName: 'node-exporter',
  };
}

export function jaegerProgram(): GoProgram {
  const { version } = pin('jaeger');
  const module = localField('jaeger', 'go');
  const moduleVersion = localField('jaeger', 'moduleVersion');
  const v = `${module}/internal/version`;
  return {
    label: `Jaeger ${version}`,
    home: jaegerHome(),
    module,
    moduleVersion,
    commands: [{ pkg: 'cmd/jaeger', binary: 'jaeger' }],
    ldflags: [`-X ${v}.latestVersion=v${version}`, `-X ${v}.commitSHA=${moduleVersion}`],
    versionCheck: { args: ['version'], expect: `"gitVersion":"v${version}"` },
    logName: 'jaeger',
  };
}

/**
 * Mailpit, the SMTP server the email notifications go to. Its module carries the server and the
 * HTTP API; the web UI's compiled assets are not in the module, so a locally built Mailpit serves
 * the API (what the tests and `curl` read) and the Compose image serves the UI too.
 */
export function mailpitProgram(): GoProgram {
  const { version } = pin('mailpit');
  const module = localField('mailpit', 'go');
  const moduleVersion = localField('mailpit', 'moduleVersion');
  return {
    label: `Mailpit ${version}`,
    home: mailpitHome(),
    module,
    moduleVersion,
    commands: [{ pkg: '', binary: 'mailpit' }],
    ldflags: [`-X ${module}/config.Version=v${version}`],
    versionCheck: { args: ['version', '--no-release-check'], expect: ` v${version} compiled with` },
    logName: 'mailpit',
  };
}

/** VictoriaLogs: the module carries its web UI's build (app/vlselect/vmui), so `go build` embeds it. */
export function victoriaLogsProgram(): GoProgram {
  const { version } = pin('victoria-logs');
  const moduleVersion = localField('victoria-logs', 'moduleVersion');
  return {
    label: `VictoriaLogs ${version}`,
    home: victoriaLogsHome(),
    module: localField('victoria-logs', 'go'),
    moduleVersion,
    commands: [{ pkg: 'app/victoria-logs', binary: 'victoria-logs' }],
    // The same version string its release builds print (`victoria-logs-<date>-tags-v1.52.1-...`).
    ldflags: [
      `-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-tags-${moduleVersion}`,
    ],
    versionCheck: { args: ['--version'], expect: `-tags-${moduleVersion}` },
    logName: 'victoria-logs',
  };
}
