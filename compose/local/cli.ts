// `npm start` / `npm run stack -- <command>`: install, up, down, status, logs, start.
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installAll } from './install/index.js';
import { logsRoot, type Profile } from './paths.js';
import { info, UserFacingError } from './progress.js';
import { soak } from './soak.js';
import { downStack, endpoints, stackStatus, upStack, type Selection } from './stack.js';

const usage = `usage: tsx compose/local/cli.ts <install|up|down|status|logs [component]|start|soak> [--profile dev|test] [--only infra|all] [--fresh] [--runs N] [--busy-seconds S]`;

function printUrls(profile: Profile): void {
  const e = endpoints(profile);
  const lines = [
    ['API', `${e.apiUrl}  (OpenAPI: ${e.apiUrl}/docs, key: X-API-Key: ${e.apiKey})`],
    ['API metrics', `${e.apiUrl}/api/metrics  (Authorization: Bearer ${e.scrapeToken})`],
    ['Prometheus', e.prometheusUrl],
    ['Alertmanager', e.alertmanagerUrl],
    ['Collector OTLP', `${e.collector.otlpGrpc} (gRPC), ${e.collector.otlpHttp} (HTTP)`],
    [
      'Collector metrics',
      `${e.collector.prometheus}/metrics (pipeline), ${e.collector.telemetry}/metrics (self), ${e.collector.health} (health)`,
    ],
    ['Traces (UI)', `${e.zipkin}/zipkin/ (Zipkin: search traces, open one by id)`],
    [
      'Traces (API)',
      `${e.traceBackend.query}/api/v3/traces/<trace id> (Jaeger's query API; its web UI is not part of the local build)`,
    ],
    ['Logs (UI)', `${e.logStore}/select/vmui/ (VictoriaLogs: LogsQL, e.g. trace_id:"<trace id>")`],
    ['Workers', `${e.trainingWorkerMetrics}, ${e.driftWorkerMetrics}`],
    ['Kafka', e.kafkaBrokers.join(',')],
    ['Postgres', e.databaseUrl.replace(/:[^:@/]+@/, ':***@')],
    ['Exporters', `${e.postgresExporter}, ${e.nodeExporter}`],
    ['Log files', `${logsRoot(profile)}/<component>/`],
    ['Grafana', 'not run locally: dashboards are in grafana/dashboards (docker compose runs Grafana on :3000)'],
  ];
  process.stdout.write(
    `\nPynomaly is up (${profile} profile):\n${lines.map(([k, v]) => `  ${k!.padEnd(18)} ${v}`).join('\n')}\n\n`,
  );
}

async function printStatus(profile: Profile): Promise<boolean> {
  const rows = await stackStatus(profile);
  const header = ['COMPONENT', 'VERSION', 'PORTS', 'PID', 'HEALTH', 'URL'];
  const table = [header, ...rows.map((r) => [r.component, r.version, r.ports, r.pid, r.health, r.url])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  process.stdout.write(`${table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n')}\n`);
  return rows.every((r) => r.health === 'healthy');
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      profile: { type: 'string', default: 'dev' },
      only: { type: 'string', default: 'all' },
      fresh: { type: 'boolean', default: false },
      runs: { type: 'string', default: '20' },
      'busy-seconds': { type: 'string', default: '300' },
    },
  });
  const [command, arg] = positionals;
  const profile = values.profile as Profile;
  if (profile !== 'dev' && profile !== 'test') throw new UserFacingError(`--profile must be dev or test\n${usage}`);
  const only = values.only as Selection;
  if (only !== 'all' && only !== 'infra') throw new UserFacingError(`--only must be infra or all\n${usage}`);
  switch (command) {
    case 'install':
      await installAll();
      return 0;
    case 'up':
      await upStack({ profile, only, fresh: values.fresh });
      printUrls(profile);
      return 0;
    case 'down':
      await downStack(profile);
      return 0;
    case 'soak': {
      const runs = Number(values.runs);
      const busySeconds = Number(values['busy-seconds']);
      if (!Number.isInteger(runs) || runs < 1 || runs > 100)
        throw new UserFacingError(`--runs must be 1..100\n${usage}`);
      if (!Number.isInteger(busySeconds) || busySeconds < 1 || busySeconds > 3600)
        throw new UserFacingError(`--busy-seconds must be 1..3600\n${usage}`);
      return (await soak({ profile, runs, busySeconds })) ? 0 : 1;
    }
    case 'status':
      return (await printStatus(profile)) ? 0 : 1;
    case 'logs': {
      const root = logsRoot(profile);
      const dirs = arg ? [arg] : existsSync(root) ? readdirSync(root) : [];
      for (const d of dirs) {
        const file = join(root, d, `${d}.log`);
        if (!existsSync(file)) continue;
        process.stdout.write(`==> ${file} <==\n`);
        await new Promise<void>((resolve) =>
          createReadStream(file).on('end', resolve).pipe(process.stdout, { end: false }),
        );
      }
      return 0;
    }
    case 'start': {
      await installAll();
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        info(`${signal}: stopping the stack`);
        await downStack(profile);
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      await upStack({ profile, only, fresh: values.fresh });
      printUrls(profile);
      info('running; press Ctrl-C to stop everything');
      // Keeps the process alive (a pending promise alone would not) and says so when a
      // component dies, instead of leaving a silently broken stack.
      const reported = new Set<string>();
      setInterval(() => {
        void stackStatus(profile).then((rows) => {
          for (const r of rows) {
            if (
              r.health === 'stopped' &&
              !reported.has(r.component) &&
              (only === 'all' || !['api', 'training-worker', 'drift-worker'].includes(r.component))
            ) {
              reported.add(r.component);
              info(`${r.component} is no longer running; see ${logsRoot(profile)}/${r.component}/`);
            }
          }
        });
      }, 10_000);
      await new Promise(() => undefined);
      return 0;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UserFacingError) process.stderr.write(`\nerror: ${err.message}\n`);
    else process.stderr.write(`\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
