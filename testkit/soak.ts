/**
 * The retention soak: detect traffic for a while on a stack whose retention is shortened to
 * minutes, table sizes measured at a fixed period, and two verdicts:
 * - flat: after the warm-up (the longest retention plus a quarter of it), no table that retention
 *   bounds grows beyond the largest size it had during the warm-up (with a 30 % and 100-row slack);
 *   without retention they would grow linearly with the traffic;
 * - complete: every window that was due was evaluated. Old reports are deleted by retention, so the
 *   count is the window's `windows_completed` (which retention never touches) plus the rows still
 *   waiting: windows × size + waiting must equal the rows the API accepted, for every detector.
 * A third detector is retrained during the soak, so window rows of superseded models also appear
 * and must be cleaned up (they are not counted as due: the drift worker drops them by design).
 */
import type pg from 'pg';
import { restartComponent } from '../compose/local/stack.js';
import type { ApiClient } from './api-client.js';
import { eventually, sleep } from './wait.js';
import { streamRows, trainDetector, waitForJob, type TrafficCounts } from './traffic.js';

/** Retention in seconds and minutes; KAFKA_RETENTION is declared as short for the same reason. */
export function soakRetentionEnv(horizonSeconds: number): Record<string, string> {
  const s = (n: number) => `${Math.max(1, Math.round(n))}s`;
  return {
    KAFKA_RETENTION: s(horizonSeconds / 2),
    RETENTION_PROCESSED_EVENTS: s(horizonSeconds),
    RETENTION_OUTBOX_SENT: s(horizonSeconds / 2),
    RETENTION_OUTBOX_DEAD: s(horizonSeconds),
    RETENTION_DRIFT_REPORTS: s(horizonSeconds),
    RETENTION_ALERTS: s(horizonSeconds),
    RETENTION_INTERVAL: s(Math.min(30, horizonSeconds / 4)),
  };
}

export const SOAK_TABLES = [
  'outbox',
  'processed_events',
  'drift_window_rows',
  'drift_reports',
  'alerts',
  'deleted_resources',
] as const;
/** The tables retention bounds under detect traffic (alerts and tombstones barely move here). */
const BOUNDED: readonly (typeof SOAK_TABLES)[number][] = [
  'outbox',
  'processed_events',
  'drift_window_rows',
  'drift_reports',
];

export interface SoakOptions {
  api: ApiClient;
  db: pg.Pool;
  seconds: number;
  sampleEverySeconds: number;
  /** The longest retention configured (see soakRetentionEnv). */
  horizonSeconds: number;
  windowSize: number;
  /** Rows per second per counted detector. */
  rate?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  samples: { atSeconds: number; sizes: Record<string, number> }[];
  warmupSample: number;
  growth: { table: string; atWarmup: number; max: number; allowed: number }[];
  flat: boolean;
  detectors: { detectorId: string; accepted: number; windowsCompleted: number; waiting: number; reportsKept: number }[];
  complete: boolean;
  traffic: TrafficCounts[];
  /** A retention run completed while the soak ran. */
  retentionRan: boolean;
}

async function tableSizes(db: pg.Pool): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const t of SOAK_TABLES) sizes[t] = Number((await db.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  return sizes;
}

export function formatSoakTable(samples: SoakResult['samples']): string {
  const head = ['t (s)', ...SOAK_TABLES];
  const rows = samples.map((s) => [String(s.atSeconds), ...SOAK_TABLES.map((t) => String(s.sizes[t]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** Restarts the API with `env` added to (or, with undefined values, removed from) the environment. */
export async function restartApiWith(env: Record<string, string | undefined>): Promise<void> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await restartComponent('test', 'api');
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const rate = o.rate ?? 40;
  const counted = await Promise.all(
    [0, 1].map((i) => trainDetector(o.api, { name: `soak-${i}-${Date.now()}`, seed: 500 + i, trainingRows: 500 })),
  );
  const retrained = await trainDetector(o.api, { name: `soak-retrained-${Date.now()}`, seed: 510, trainingRows: 500 });
  const started = Date.now();
  const stop = new AbortController();
  const traffic = Promise.all(
    [...counted, retrained].map((d, i) =>
      streamRows(o.api, d.detectorId, {
        rate,
        seconds: o.seconds,
        batchSize: 20,
        seed: 600 + i,
        concurrency: 4,
        signal: stop.signal,
      }),
    ),
  );
  const retraining = (async () => {
    while (!stop.signal.aborted && Date.now() - started < o.seconds * 1000) {
      await sleep(Math.max(20_000, (o.seconds * 1000) / 4));
      if (stop.signal.aborted) break;
      const job = await o.api.call<{ id: string }>('POST', `/api/v1/detectors/${retrained.detectorId}/train`, {});
      if (job.status === 202) await waitForJob(o.api, job.body.id, 120_000).catch(() => undefined);
    }
  })();

  const samples: SoakResult['samples'] = [];
  for (let at = 0; at <= o.seconds; at += o.sampleEverySeconds) {
    const due = started + at * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const sizes = await tableSizes(o.db);
    samples.push({ atSeconds: at, sizes });
    log(`soak t=${at}s ${SOAK_TABLES.map((t) => `${t}=${sizes[t]}`).join(' ')}`);
  }
  stop.abort();
  const counts = await traffic;
  await retraining;

  // Warm-up: the first sample at which the oldest rows have been eligible for one full interval.
  const warmupSample = samples.findIndex((s) => s.atSeconds >= o.horizonSeconds + o.horizonSeconds / 4);
  // Sizes saw-tooth between retention runs (and windows between evaluations), so the reference is
  // the largest size seen up to the end of the warm-up; open windows may hold up to one window per
  // detector whatever the warm-up saw.
  const growth = BOUNDED.map((table) => {
    const atWarmup = Math.max(...samples.slice(0, warmupSample + 1).map((s) => s.sizes[table] ?? 0));
    const max = Math.max(...samples.slice(warmupSample).map((s) => s.sizes[table] ?? 0));
    const floor = table === 'drift_window_rows' ? 3 * o.windowSize : 0;
    return { table, atWarmup, max, allowed: Math.max(Math.ceil(atWarmup * 1.3) + 100, floor) };
  });
  const flat = warmupSample >= 0 && growth.every((g) => g.max <= g.allowed);

  // Let the pipeline drain, then account for every accepted row of the counted detectors.
  const account = async () =>
    Promise.all(
      counted.map(async (d, i) => {
        const { rows } = await o.db.query<{ completed: number; waiting: string; kept: string }>(
          `SELECT w.windows_completed AS completed,
             (SELECT count(*) FROM drift_window_rows r WHERE r.detector_id = w.detector_id AND r.model_id = w.model_id) AS waiting,
             (SELECT count(*) FROM drift_reports p WHERE p.detector_id = w.detector_id) AS kept
           FROM drift_windows w WHERE w.detector_id = $1`,
          [d.detectorId],
        );
        const r = rows[0];
        return {
          detectorId: d.detectorId,
          accepted: counts[i]!.rowsAccepted,
          windowsCompleted: r?.completed ?? 0,
          waiting: Number(r?.waiting ?? 0),
          reportsKept: Number(r?.kept ?? 0),
        };
      }),
    );
  const balanced = (ds: SoakResult['detectors']) =>
    ds.every((d) => d.windowsCompleted * o.windowSize + d.waiting === d.accepted);
  const detectors = await eventually(
    'every accepted row of the counted detectors in a window or an evaluated window',
    async () => {
      const ds = await account();
      return balanced(ds) ? ds : undefined;
    },
    120_000,
    2000,
  ).catch(account);
  const { rows: runs } = await o.db.query<{ t: Date }>(
    `SELECT last_success_at AS t FROM maintenance_runs WHERE job = 'retention'`,
  );
  return {
    samples,
    warmupSample,
    growth,
    flat,
    detectors,
    complete: balanced(detectors),
    traffic: counts,
    retentionRan: runs.length > 0 && new Date(runs[0]!.t).getTime() > started,
  };
}
