import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { topicNames, type Job, type Pool } from '@pynomaly/shared';
import { reapOnce, staleReason } from '../src/reaper.js';

/**
 * A fake Postgres that keeps the jobs table in memory and answers the reaper's statements the way
 * Postgres would: rows locked by another transaction are skipped (SKIP LOCKED), and the UPDATE only
 * applies while the job is still running (the state guard). Outbox inserts are recorded.
 */
class FakeDb {
  jobs = new Map<string, Job & { lockedBy?: string }>();
  outbox: { topic: string; value: string }[] = [];
  now = Date.now();

  add(id: string, state: Job['state'], secondsSinceProgress: number, attempts = 1, lockedBy?: string) {
    const at = new Date(this.now - secondsSinceProgress * 1000);
    this.jobs.set(id, {
      id,
      type: 'training',
      detectorId: '00000000-0000-4000-8000-000000000001',
      state,
      reason: null,
      modelId: null,
      attempts,
      createdAt: at,
      startedAt: at,
      finishedAt: null,
      updatedAt: at,
      ...(lockedBy ? { lockedBy } : {}),
    });
  }

  /** A concurrent transaction finishes this job between the reaper's SELECT and its UPDATE. */
  raceOn?: { id: string; to: Job['state'] };

  async query(sql: string, params: unknown[]) {
    if (/^\s*(BEGIN|COMMIT|ROLLBACK)/.test(sql)) return { rows: [], rowCount: 0 };
    if (/FROM jobs\s+WHERE state = 'running' AND updated_at < now\(\) - make_interval/.test(sql)) {
      expect(sql).toMatch(/FOR UPDATE SKIP LOCKED/);
      const [stale, limit] = params as [number, number];
      const rows = [...this.jobs.values()]
        .filter((j) => j.state === 'running' && !j.lockedBy && j.updatedAt.getTime() < this.now - stale * 1000)
        .slice(0, limit);
      if (this.raceOn) this.jobs.get(this.raceOn.id)!.state = this.raceOn.to;
      return { rows, rowCount: rows.length };
    }
    if (/^\s*UPDATE jobs SET state = 'failed'/.test(sql)) {
      expect(sql).toMatch(/WHERE id = \$1 AND state = 'running'/);
      const [id, reason] = params as [string, string];
      const j = this.jobs.get(id);
      if (!j || j.state !== 'running') return { rows: [], rowCount: 0 };
      Object.assign(j, { state: 'failed', reason, finishedAt: new Date(this.now) });
      return { rows: [{ ...j }], rowCount: 1 };
    }
    if (/INSERT INTO outbox/.test(sql)) {
      this.outbox.push({ topic: params[1] as string, value: params[3] as string });
      return { rows: [], rowCount: 1 };
    }
    throw new Error(`unexpected SQL: ${sql}`);
  }

  pool(): Pool {
    const client = {
      query: (sql: string, p: unknown[] = []) => this.query(sql, p),
      release: () => {},
      on: () => {},
      off: () => {},
    };
    return { connect: async () => client, query: client.query } as unknown as Pool;
  }
}

const topics = topicNames('pynomaly');
/** Job ids are UUIDs (the training.failed schema checks them). */
const id = (n: number) => `00000000-0000-4000-8000-00000000001${n}`;
const logger = pino({ level: 'silent' });

describe('job reaper', () => {
  it('fails running jobs without progress for the configured time, and only those', async () => {
    const db = new FakeDb();
    db.add(id(1), 'running', 400, 2);
    db.add(id(2), 'running', 10);
    db.add(id(3), 'queued', 4000);
    db.add(id(4), 'succeeded', 4000);
    let notified = 0;
    const reaped = await reapOnce({
      pool: db.pool(),
      topics,
      logger,
      onEnqueued: () => notified++,
      staleAfterSeconds: 300,
    });
    expect(reaped.map((j) => j.id)).toEqual([id(1)]);
    expect(db.jobs.get(id(1))!.state).toBe('failed');
    expect(db.jobs.get(id(1))!.reason).toBe(staleReason(300, { attempts: 2, reason: null }));
    expect(db.jobs.get(id(2))!.state).toBe('running');
    expect(db.jobs.get(id(3))!.state).toBe('queued');
    // One training.failed per reaped job, in the same transaction, and the relay is woken.
    expect(db.outbox).toHaveLength(1);
    expect(db.outbox[0]!.topic).toBe(topics['training.failed']);
    expect(JSON.parse(db.outbox[0]!.value).payload).toMatchObject({ jobId: id(1) });
    expect(notified).toBe(1);
  });

  it('skips a row another worker holds and a job that finished under its feet', async () => {
    const db = new FakeDb();
    db.add(id(5), 'running', 900, 1, 'other-reaper');
    db.add(id(6), 'running', 900);
    db.raceOn = { id: id(6), to: 'succeeded' };
    const reaped = await reapOnce({ pool: db.pool(), topics, logger, onEnqueued: () => {}, staleAfterSeconds: 60 });
    expect(reaped).toEqual([]);
    expect(db.jobs.get(id(5))!.state).toBe('running');
    expect(db.jobs.get(id(6))!.state).toBe('succeeded');
    expect(db.outbox).toEqual([]);
  });

  it('keeps the last recorded error in the reason', () => {
    expect(staleReason(300, { attempts: 1, reason: 'attempt 1 of 3 failed: x' })).toMatch(
      /; last error: attempt 1 of 3/,
    );
  });
});
