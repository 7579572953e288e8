// The containers test stack (compose/docker-compose.test.yml over the development file) must load
// with the Compose loader and publish exactly the test profile's ports, so the e2e suite's
// endpoints are the same on containers as on local processes.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeService } from '../../compose/local/containers.js';
import { projectRoot } from '../../compose/local/paths.js';
import { portsFor } from '../../compose/local/ports.js';
import { ensureDeploymentTools, type DeploymentTools } from '../../scripts/tools/install.js';

const run = promisify(execFile);
const composeDir = join(projectRoot, 'compose');

interface Project {
  name: string;
  services: Record<
    string,
    { ports?: { target: number; published: string; host_ip?: string }[]; environment?: Record<string, string | null> }
  >;
}

let tools: DeploymentTools;
let project: Project;

// The overlay pins the default test ports; an offset set for the whole run must not leak in.
const inheritedOffset = process.env.PYNOMALY_PORT_OFFSET;
afterAll(() => {
  if (inheritedOffset !== undefined) process.env.PYNOMALY_PORT_OFFSET = inheritedOffset;
});

beforeAll(async () => {
  delete process.env.PYNOMALY_PORT_OFFSET;
  tools = await ensureDeploymentTools();
  const { stdout } = await run(tools.composeConfig, ['docker-compose.yml', 'docker-compose.test.yml'], {
    cwd: composeDir,
    maxBuffer: 16 * 1024 * 1024,
  });
  project = JSON.parse(stdout) as Project;
}, 600_000);

describe('compose/docker-compose.test.yml (PYNOMALY_TEST_STACK=containers)', () => {
  it('loads over the development file as its own project', () => {
    expect(project.name).toBe('pynomaly-test');
  });

  it('publishes every port the e2e suite uses on the test profile, on loopback only', () => {
    const test = portsFor('test');
    const wanted: [string, number, number][] = [
      ['api', 8000, test.api.http],
      ['training-worker', 9102, test['training-worker'].metrics],
      ['drift-worker', 9103, test['drift-worker'].metrics],
      ['postgres', 5432, test.postgres.sql],
      ['kafka', test.kafka.broker, test.kafka.broker],
      ['otel-collector', 4317, test['otel-collector'].grpc],
      ['otel-collector', 8888, test['otel-collector'].telemetry],
      ['otel-collector', 8889, test['otel-collector'].prometheus],
      ['otel-collector', 13133, test['otel-collector'].health],
      ['trace-backend', 16686, test['trace-backend'].query],
      ['zipkin', 9411, test.zipkin.http],
      ['log-store', 9428, test['log-store'].http],
      ['prometheus', 9090, test.prometheus.http],
      ['alertmanager', 9093, test.alertmanager.http],
      ['postgres-exporter', 9187, test['postgres-exporter'].http],
      ['node-exporter', 9100, test['node-exporter'].http],
      ['mailpit', 8025, test.mailpit.http],
    ];
    for (const [component, target, published] of wanted) {
      const ports = project.services[composeService(component)]?.ports ?? [];
      expect(ports, `${component} ${target}`).toContainEqual(
        expect.objectContaining({ target, published: String(published), host_ip: '127.0.0.1' }),
      );
    }
    // `!override` replaced the development ports instead of adding to them: no clash with a dev stack.
    expect(project.services.api?.ports?.map((p) => p.published)).toEqual([String(test.api.http)]);
  });

  it('uses the test API key in the API and in the webhook credential', () => {
    const keys = JSON.parse(project.services.api?.environment?.PYNOMALY_API_KEYS ?? '[]') as { keys: string[] }[];
    expect(keys.flatMap((k) => k.keys)).toContain('pynomaly-test-key');
  });
});
