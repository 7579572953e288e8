import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import type { Pool, PoolClient } from '../src/db/pool.js';
import { RETENTION_LOCK_KEY, RetentionJob, retentionTasks, type RetentionTask } from '../src/retention.js';

const settings = loadConfig('api', {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
  KAFKA_BROKERS: '127.0.0.1:9092',
  PYNOMALY_AUTH_DISABLED: 'true',
}).retention;
const logger = createLogger({ service: 'api', level: 'silent', version: 'test', environment: 'test' });

/** A pool of one fake client that records statements and answers the advisory lock. */
function fakePool(lockFree: boolean) {
  const statements: string[] = [];
  const released: unknown[] = [];
  const client = {
    query: async (sql: string, params: unknown[] = []) => {
      statements.push(sql);
      if (sql.includes('pg_try_advisory_lock')) {
        expect(params).toEqual([RETENTION_LOCK_KEY]);
        return { rows: [{ ok: lockFree }], rowCount: 1 };
      }
      return { rows: [], rowCount: 1 };
    },
    release: (err?: unknown) => released.push(err),
  } as unknown as PoolClient;
  const pool = { connect: async () => client } as unknown as Pool;
  return { pool, statements, released };
}

/** A task with `backlog` rows that deletes up to the limit per batch. */
function task(table: string, backlog: number, batches: number[] = []): RetentionTask {
  let left = backlog;
  return {
    table,
    deleteBatch: async (_q, _now, limit) => {
      const n = Math.min(left, limit);
      left -= n;
      batches.push(n);
      return n;
    },
  };
}

describe('RetentionJob', () => {
  it('deletes each table in bounded batches until a batch comes back short, then records the run', async () => {
    const { pool, statements, released } = fakePool(true);
    const batches: number[] = [];
    const job = new RetentionJob({
      pool,
      logger,
      settings: { ...settings, batchSize: 100 },
      tasks: [task('outbox', 250, batches), task('alerts', 0), task('outbox', 100)],
    });
    const run = await job.runOnce();
    expect(run).toMatchObject({ outcome: 'complete', deleted: { outbox: 350, alerts: 0 } });
    expect(batches).toEqual([100, 100, 50]);
    expect(statements.some((s) => s.includes('INSERT INTO maintenance_runs'))).toBe(true);
    expect(statements.at(-1)).toContain('pg_advisory_unlock');
    expect(released).toEqual([undefined]);
  });

  it('skips the round when another replica holds the lock', async () => {
    const { pool, statements, released } = fakePool(false);
    const batches: number[] = [];
    const job = new RetentionJob({ pool, logger, settings, tasks: [task('outbox', 10, batches)] });
    expect(await job.runOnce()).toEqual({ outcome: 'skipped' });
    expect(batches).toEqual([]);
    expect(statements.some((s) => s.includes('maintenance_runs') || s.includes('unlock'))).toBe(false);
    expect(released).toEqual([undefined]);
  });

  it('stops at the time budget without recording a complete run (the alert then sees it fall behind)', async () => {
    const { pool, statements } = fakePool(true);
    const slow: RetentionTask = {
      table: 'processed_events',
      deleteBatch: async (_q, _now, limit) => {
        await new Promise((r) => setTimeout(r, 20));
        return limit; // an endless backlog
      },
    };
    const job = new RetentionJob({
      pool,
      logger,
      settings: { ...settings, batchSize: 10, maxRunMs: 100 },
      tasks: [slow],
    });
    const run = await job.runOnce();
    expect(run.outcome).toBe('incomplete');
    expect(statements.some((s) => s.includes('maintenance_runs'))).toBe(false);
    expect(statements.at(-1)).toContain('pg_advisory_unlock');
  });

  it('destroys the client when a batch fails (its session lock goes with it)', async () => {
    const { pool, released } = fakePool(true);
    const failing: RetentionTask = {
      table: 'alerts',
      deleteBatch: async () => {
        throw new Error('Connection terminated unexpectedly');
      },
    };
    const job = new RetentionJob({ pool, logger, settings, tasks: [failing] });
    await expect(job.runOnce()).rejects.toThrow('Connection terminated');
    expect(released).toHaveLength(1);
    expect(released[0]).toBeInstanceOf(Error);
  });

  it('covers every table with data that grows: outbox, processed ids, tombstones, windows, reports, alerts, resolved dead letters', () => {
    expect(new Set(retentionTasks(settings).map((t) => t.table))).toEqual(
      new Set([
        'outbox',
        'processed_events',
        'deleted_resources',
        'drift_window_rows',
        'drift_reports',
        'alerts',
        'dead_letters',
      ]),
    );
  });
});
