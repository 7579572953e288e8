// Real readiness checks: each asks the component the question its clients will ask.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { UserFacingError } from './progress.js';

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export async function kafkaAnswersMetadata(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'pynomaly-stack-health',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1500,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * pg_isready's question without its binary: does the server accept connections? An
 * authentication error is an answer from a running server; "the database system is starting up"
 * (57P03) and refused connections are not.
 */
export async function postgresReady(port: number): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'pynomaly_readiness_probe',
    password: 'none',
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && code !== '57P03';
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  opts: { logFile?: string; alive?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    const died = opts.alive && !opts.alive();
    if (died || Date.now() > deadline) {
      let tail = '';
      if (opts.logFile) {
        try {
          tail = `\n--- last lines of ${opts.logFile} ---\n${readFileSync(opts.logFile, 'utf8').split('\n').slice(-30).join('\n')}`;
        } catch {
          tail = `\n(no log at ${opts.logFile})`;
        }
      }
      throw new UserFacingError(
        `${what} ${died ? 'exited before it became ready' : `was not ready after ${Math.round(timeoutMs / 1000)}s`}${tail}`,
      );
    }
    await sleep(250);
  }
}

/** Who holds a port, for the error message (best effort: `ss` may be missing). */
async function portHolder(port: number): Promise<string> {
  try {
    const { stdout } = await execFileAsync('ss', ['-ltnpH', `sport = :${port}`]);
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    if (m) return `${m[1]} (pid ${m[2]})`;
  } catch {
    // fall through
  }
  return 'another process';
}

export async function assertPortFree(port: number, owner: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  if (!free) {
    throw new UserFacingError(
      `port ${port} (needed by ${owner}) is already in use by ${await portHolder(port)}. ` +
        'Stop that process, or run on other ports with PYNOMALY_PORT_OFFSET=<n>.',
    );
  }
}
