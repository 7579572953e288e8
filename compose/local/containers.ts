// The containers test stack (PYNOMALY_TEST_STACK=containers): the compose development stack with
// the test overlay, brought up by testcontainers where a Docker engine exists. It publishes the
// test profile's ports, so `endpoints('test')` and every e2e test work unchanged; process faults
// become `docker compose kill/stop/start` of the same service. Not exercised in this
// repository's CI, which has no Docker engine: the local-process stack is the tested path.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from './paths.js';

const run = promisify(execFile);

export const CONTAINERS_PROJECT = 'pynomaly-test';
const composeDir = join(projectRoot, 'compose');
const composeFiles = ['docker-compose.yml', 'docker-compose.test.yml'];

export function containersMode(): boolean {
  return process.env.PYNOMALY_TEST_STACK === 'containers';
}

/** Compose service for a runner component (the trace backend is `jaeger`, the log store `victoria-logs`). */
export function composeService(component: string): string {
  if (component === 'trace-backend') return 'jaeger';
  if (component === 'log-store') return 'victoria-logs';
  return component;
}

export interface ContainersStack {
  down(): Promise<void>;
}

export async function upContainers(): Promise<ContainersStack> {
  // Loaded only here so the local path never needs Docker's client libraries.
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  const environment = await new DockerComposeEnvironment(composeDir, composeFiles)
    .withProjectName(CONTAINERS_PROJECT)
    .withBuild()
    .withWaitStrategy('api-1', Wait.forHealthCheck())
    .withWaitStrategy('prometheus-1', Wait.forHealthCheck())
    .withStartupTimeout(600_000)
    .up();
  return { down: async () => void (await environment.down({ removeVolumes: true, timeout: 30_000 })) };
}

async function compose(args: string[]): Promise<void> {
  await run(
    'docker',
    ['compose', '-p', CONTAINERS_PROJECT, ...composeFiles.flatMap((f) => ['-f', join(composeDir, f)]), ...args],
    { cwd: composeDir },
  );
}

export const containerControl = {
  kill: (component: string) => compose(['kill', '-s', 'SIGKILL', composeService(component)]),
  stop: (component: string) => compose(['stop', composeService(component)]),
  restart: (component: string) => compose(['restart', composeService(component)]),
  start: (component: string) => compose(['up', '-d', '--wait', composeService(component)]),
};
