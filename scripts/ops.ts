/**
 * `npm run ops -- <command>`: the operator's tools at a terminal, over the same HTTP API
 * (GET/POST /api/v1/jobs…, /api/v1/dead-letters…; the key needs the admin scope).
 *
 *   jobs [--state S] [--detector ID] [--from TIME] [--to TIME] [--limit N] [--cursor C]
 *   job <id>                       one job
 *   retry <job-id>                 a failed or cancelled job back to the queue
 *   dead-letters [--state S] [--topic T] [--group G] [--reason R] [--limit N] [--cursor C]
 *   dead-letter <id>               one dead letter: reason, headers, original bytes
 *   replay <dead-letter-id>        back to its topic through the outbox, once
 *   discard <dead-letter-id>       marked discarded, never replayed
 *
 * Settings (environment): PYNOMALY_API_URL (http://127.0.0.1:8000), PYNOMALY_API_KEY
 * (pynomaly-dev-key, the local stack's admin key). --json prints the API's answer as it is.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { ApiClient } from '../testkit/api-client.js';

const USAGE = `usage: npm run ops -- <command> [options]

  jobs [--state queued|running|succeeded|failed|cancelled] [--detector ID] [--from TIME] [--to TIME] [--limit N] [--cursor C]
  job <job-id>
  retry <job-id>
  dead-letters [--state pending|replayed|discarded] [--topic T] [--group G] [--reason R] [--limit N] [--cursor C]
  dead-letter <dead-letter-id>
  replay <dead-letter-id>
  discard <dead-letter-id>

  --json prints the API's answer as JSON.
  PYNOMALY_API_URL (default http://127.0.0.1:8000) and PYNOMALY_API_KEY (an admin key) say where and who.`;

interface Job {
  id: string;
  detectorId: string;
  state: string;
  attempts: number;
  reason: string | null;
  modelId: string | null;
  createdAt: string;
  finishedAt: string | null;
}
interface DeadLetter {
  id: string;
  state: string;
  originTopic: string;
  originPartition: number;
  originOffset: number;
  consumerGroup: string;
  key: string | null;
  eventType: string | null;
  reason: string;
  error: string;
  attempts: number;
  bytes: number;
  deadLetteredAt: string;
  resolvedAt: string | null;
  headers?: Record<string, string>;
  value?: string | null;
  valueBase64?: string;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

class UsageError extends Error {}

/** The body of a 2xx answer; otherwise an error saying the status and the API's own message. */
async function ok<T>(api: ApiClient, method: string, path: string, body?: unknown): Promise<T> {
  const res = await api.call<T | { code?: string; message?: string }>(method, path, body);
  if (res.status >= 200 && res.status < 300) return res.body as T;
  const err = res.body as { code?: string; message?: string } | string | undefined;
  const said = typeof err === 'object' && err?.message ? `${err.code ?? 'error'}: ${err.message}` : String(err ?? '');
  throw new Error(`${method} ${path} answered ${res.status}: ${said}`);
}

const clip = (s: string | null | undefined, n: number) => (!s ? '' : s.length > n ? `${s.slice(0, n - 1)}…` : s);
const time = (s: string | null) => (s ? s.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  t.push(...rows);
  return t.toString();
}

function keyValues(rows: [string, string | number | null | undefined][]): string {
  const t = new Table({ style: { head: [], border: [] }, wordWrap: true, colWidths: [18, 100] });
  for (const [k, v] of rows) t.push({ [k]: String(v ?? '') });
  return t.toString();
}

const jobRows = (jobs: Job[]) =>
  table(
    ['job', 'detector', 'state', 'attempts', 'created', 'finished', 'reason'],
    jobs.map((j) => [
      j.id,
      j.detectorId,
      j.state,
      j.attempts,
      time(j.createdAt),
      time(j.finishedAt),
      clip(j.reason, 60),
    ]),
  );

const letterRows = (letters: DeadLetter[]) =>
  table(
    ['dead letter', 'state', 'topic', 'partition/offset', 'event', 'reason', 'error', 'dead-lettered'],
    letters.map((d) => [
      d.id,
      d.state,
      d.originTopic,
      `${d.originPartition}/${d.originOffset}`,
      d.eventType ?? '',
      d.reason,
      clip(d.error, 50),
      time(d.deadLetteredAt),
    ]),
  );

const more = (page: Page<unknown>) =>
  page.nextCursor ? `\nmore: add --cursor ${page.nextCursor}` : `\n${page.items.length} shown; no more pages`;

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function run(argv: string[], print: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      detector: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      topic: { type: 'string' },
      group: { type: 'string' },
      reason: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, id, ...extra] = positionals;
  if (values.help || !command) return print(USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const api = new ApiClient(
    process.env.PYNOMALY_API_URL ?? 'http://127.0.0.1:8000',
    process.env.PYNOMALY_API_KEY ?? 'pynomaly-dev-key',
  );
  const needId = (what: string) => {
    if (!id) throw new UsageError(`${command} needs the ${what} id`);
    return encodeURIComponent(id);
  };
  const out = <T>(body: T, render: (b: T) => string) =>
    print(values.json ? JSON.stringify(body, null, 2) : render(body));

  switch (command) {
    case 'jobs': {
      const path = `/api/v1/jobs${query({
        state: values.state,
        detectorId: values.detector,
        createdFrom: values.from,
        createdTo: values.to,
        limit: values.limit,
        cursor: values.cursor,
      })}`;
      return out(await ok<Page<Job>>(api, 'GET', path), (p) => jobRows(p.items) + more(p));
    }
    case 'job':
      return out(await ok<Job>(api, 'GET', `/api/v1/jobs/${needId('job')}`), (j) => jobRows([j]));
    case 'retry':
      return out(
        await ok<Job>(api, 'POST', `/api/v1/jobs/${needId('job')}/retry`, {}),
        (j) => `${jobRows([j])}\njob ${j.id} queued again; follow it with: npm run ops -- job ${j.id}`,
      );
    case 'dead-letters': {
      const path = `/api/v1/dead-letters${query({
        state: values.state,
        topic: values.topic,
        consumerGroup: values.group,
        reason: values.reason,
        limit: values.limit,
        cursor: values.cursor,
      })}`;
      return out(await ok<Page<DeadLetter>>(api, 'GET', path), (p) => letterRows(p.items) + more(p));
    }
    case 'dead-letter':
      return out(await ok<DeadLetter>(api, 'GET', `/api/v1/dead-letters/${needId('dead letter')}`), (d) =>
        keyValues([
          ['id', d.id],
          ['state', d.state],
          ['consumer group', d.consumerGroup],
          ['origin', `${d.originTopic} partition ${d.originPartition} offset ${d.originOffset}`],
          ['key', d.key],
          ['event type', d.eventType],
          ['reason', d.reason],
          ['error', d.error],
          ['attempts', d.attempts],
          ['dead-lettered', time(d.deadLetteredAt)],
          ['resolved', time(d.resolvedAt)],
          [
            'headers',
            Object.entries(d.headers ?? {})
              .map(([k, v]) => `${k}: ${v}`)
              .join('\n'),
          ],
          [`value (${d.bytes} B)`, d.value ?? `(not UTF-8) base64 ${d.valueBase64}`],
        ]),
      );
    case 'replay':
      return out(
        await ok<DeadLetter>(api, 'POST', `/api/v1/dead-letters/${needId('dead letter')}/replay`, {}),
        (d) => `${letterRows([d])}\nreplayed to ${d.originTopic} through the outbox`,
      );
    case 'discard':
      return out(
        await ok<DeadLetter>(api, 'POST', `/api/v1/dead-letters/${needId('dead letter')}/discard`, {}),
        (d) => `${letterRows([d])}\ndiscarded`,
      );
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

try {
  await run(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`));
} catch (err) {
  if (err instanceof UsageError) process.stderr.write(`${err.message}\n\n${USAGE}\n`);
  else process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = err instanceof UsageError ? 64 : 1;
}
