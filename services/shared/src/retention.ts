/**
 * The retention job: deletes finished data by age, table by table, in bounded batches, so the
 * database stays the size of the recent past. It runs in the API on a timer; several replicas may
 * run it, and a Postgres advisory lock lets one of them work at a time (the others skip the round).
 * A run that catches every table up is recorded in maintenance_runs; the alert
 * RetentionFallingBehind fires when that record gets old (a failing, blocked or too slow job).
 *
 * What is kept and why (settings in config.ts, documented in docs/operations.md):
 * - processed-event ids make a redelivered Kafka event a no-op, so an id may only go once Kafka can
 *   no longer deliver its event again: RETENTION_PROCESSED_EVENTS must exceed KAFKA_RETENTION
 *   (checked at start-up). Tombstones of deleted detectors and models share that horizon;
 * - drift window rows are deleted when their detector's window has moved to a newer model, never by
 *   age: rows of the current model wait for their window to fill, so every report that is due is
 *   still produced;
 * - each detector's latest drift report is kept whatever its age (the drift gauges read it).
 */
import type { RetentionSettings } from './config.js';
import type { Pool, PoolClient } from './db/pool.js';
import {
  deleteAlerts,
  deleteDeadOutbox,
  deleteDriftReports,
  deleteProcessedEvents,
  deleteSentOutbox,
  deleteSupersededWindowRows,
  deleteTombstones,
  recordMaintenanceRun,
} from './db/repository.js';
import { deleteResolvedDeadLetters } from './db/repository/dead-letters.js';
import type { Logger } from './logging.js';
import { instruments } from './metrics/instruments.js';

/** pg_try_advisory_lock key of the retention job ("pynomaly retention", arbitrary but fixed). */
export const RETENTION_LOCK_KEY = 7_411_000_001;

export interface RetentionTask {
  /** The `table` label of pynomaly_retention_rows_deleted_total. */
  table: string;
  /** Deletes at most `limit` rows; returns how many it deleted. */
  deleteBatch: (q: PoolClient, now: Date, limit: number) => Promise<number>;
}

const ago = (now: Date, ms: number) => new Date(now.getTime() - ms);

export function retentionTasks(s: RetentionSettings): RetentionTask[] {
  return [
    { table: 'outbox', deleteBatch: (q, now, n) => deleteSentOutbox(q, ago(now, s.outboxSentMs), n) },
    { table: 'outbox', deleteBatch: (q, now, n) => deleteDeadOutbox(q, ago(now, s.outboxDeadMs), n) },
    {
      table: 'processed_events',
      deleteBatch: (q, now, n) => deleteProcessedEvents(q, ago(now, s.processedEventsMs), n),
    },
    { table: 'deleted_resources', deleteBatch: (q, now, n) => deleteTombstones(q, ago(now, s.processedEventsMs), n) },
    { table: 'drift_window_rows', deleteBatch: (q, _now, n) => deleteSupersededWindowRows(q, n) },
    { table: 'drift_reports', deleteBatch: (q, now, n) => deleteDriftReports(q, ago(now, s.driftReportsMs), n) },
    { table: 'alerts', deleteBatch: (q, now, n) => deleteAlerts(q, ago(now, s.alertsMs), n) },
    // Replayed or discarded dead letters are kept for inspection as long as refused outbox rows.
    {
      table: 'dead_letters',
      deleteBatch: (q, now, n) => deleteResolvedDeadLetters(q, ago(now, s.outboxDeadMs), n),
    },
  ];
}

export type RetentionRun =
  | { outcome: 'complete'; deleted: Record<string, number>; ms: number }
  /** The time budget ran out before every table caught up; the next run continues. */
  | { outcome: 'incomplete'; deleted: Record<string, number>; ms: number }
  /** Another replica holds the lock. */
  | { outcome: 'skipped' };

export interface RetentionJobOptions {
  pool: Pool;
  logger: Logger;
  settings: RetentionSettings;
  tasks?: RetentionTask[];
  now?: () => Date;
}

export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private stopped = false;
  private readonly tasks: RetentionTask[];

  constructor(private readonly o: RetentionJobOptions) {
    this.tasks = o.tasks ?? retentionTasks(o.settings);
  }

  /** One round: every table in turn, batch after batch, until each is caught up or time is up. */
  async runOnce(): Promise<RetentionRun> {
    const started = Date.now();
    const { batchSize, maxRunMs } = this.o.settings;
    const client = await this.o.pool.connect();
    let broken: Error | undefined;
    let locked = false;
    try {
      const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK_KEY]);
      locked = lock.rows[0]?.ok === true;
      if (!locked) return { outcome: 'skipped' };
      const now = this.o.now?.() ?? new Date();
      const deleted: Record<string, number> = {};
      let complete = true;
      for (const task of this.tasks) {
        deleted[task.table] ??= 0;
        for (;;) {
          if (this.stopped || Date.now() - started > maxRunMs) {
            complete = false;
            break;
          }
          const n = await task.deleteBatch(client, now, batchSize);
          deleted[task.table] = (deleted[task.table] ?? 0) + n;
          if (n > 0) instruments().retentionRowsDeleted.add(n, { table: task.table });
          if (n < batchSize) break;
        }
      }
      const ms = Date.now() - started;
      if (!complete) return { outcome: 'incomplete', deleted, ms };
      await recordMaintenanceRun(client, 'retention', deleted);
      return { outcome: 'complete', deleted, ms };
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      // A session lock outlives the statement: release it, or the connection keeps it. A client
      // that failed is destroyed instead, which releases the lock with its session.
      if (locked && !broken) {
        await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]).catch((err: unknown) => {
          broken = err as Error;
        });
      }
      client.release(broken);
    }
  }

  /** Runs a round soon and then every interval; a failed round is logged and retried next time. */
  start(): void {
    if (this.timer || this.stopped) return;
    // One series per table from the start (at 0), so rate() reads 0 rather than no data.
    for (const task of this.tasks) instruments().retentionRowsDeleted.add(0, { table: task.table });
    let running = false;
    const tick = () => {
      // A round that outlasts the interval is not doubled: the next tick finds it running.
      if (running || this.stopped) return;
      running = true;
      this.current = this.runOnce()
        .then(
          (run) => {
            if (run.outcome === 'skipped') this.o.logger.debug('retention: another replica is running it');
            else if (run.outcome === 'incomplete')
              this.o.logger.warn(run, 'retention: time budget used up before every table caught up');
            else this.o.logger.info(run, 'retention run complete');
          },
          (err: unknown) => this.o.logger.warn({ err }, 'retention run failed; retrying at the next interval'),
        )
        .finally(() => {
          running = false;
        });
    };
    this.timer = setInterval(tick, this.o.settings.intervalMs);
    this.timer.unref();
    // The first round soon after start, not at once: start-up work goes first.
    this.first = setTimeout(tick, Math.min(10_000, this.o.settings.intervalMs));
    this.first.unref();
  }

  /** Stops the timer and waits for a round in progress (which stops between batches). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.first) clearTimeout(this.first);
    this.timer = undefined;
    await this.current;
  }
}
