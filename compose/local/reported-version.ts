// Each component's version as the running process reports it (its build info endpoint, a
// build_info metric, its startup log or its own executable's --version), never as a pin says.
import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

async function getText(url: string, headers: Record<string, string> = {}): Promise<string | undefined> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(3000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Prometheus: GET /api/v1/status/buildinfo. */
export async function prometheusBuildInfo(baseUrl: string): Promise<string | undefined> {
  const body = await getText(`${baseUrl}/api/v1/status/buildinfo`);
  return body ? (JSON.parse(body) as { data?: { version?: string } }).data?.version : undefined;
}

/** Alertmanager: GET /api/v2/status, versionInfo.version. */
export async function alertmanagerVersion(baseUrl: string): Promise<string | undefined> {
  const body = await getText(`${baseUrl}/api/v2/status`);
  return body ? (JSON.parse(body) as { versionInfo?: { version?: string } }).versionInfo?.version : undefined;
}

/** The `version` label of a build_info metric on a /metrics page (exporters, our services). */
export async function buildInfoMetric(
  metricsUrl: string,
  metric: string,
  bearerToken?: string,
): Promise<string | undefined> {
  const body = await getText(metricsUrl, bearerToken ? { authorization: `Bearer ${bearerToken}` } : {});
  const line = body?.split('\n').find((l) => l.startsWith(`${metric}{`));
  return line ? /[{,]version="([^"]*)"/.exec(line)?.[1] : undefined;
}

/** The last `pattern` match in a log the process writes (e.g. Kafka's "Kafka version: 4.1.1"). */
export function versionFromLog(logFile: string, pattern: RegExp): string | undefined {
  try {
    const matches = [...readFileSync(logFile, 'utf8').matchAll(new RegExp(pattern.source, 'g'))];
    return matches.at(-1)?.[1];
  } catch {
    return undefined;
  }
}

/** Runs the executable the process is running (/proc/<pid>/exe) with `args` and applies `pattern`. */
export async function executableVersion(pid: number, args: string[], pattern: RegExp): Promise<string | undefined> {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    const { stdout, stderr } = await execFileAsync(exe, args, { timeout: 10_000 });
    return pattern.exec(stdout + stderr)?.[1];
  } catch {
    return undefined;
  }
}
