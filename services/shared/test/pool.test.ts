import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { guardPool, withTransaction } from '../src/db/pool.js';

describe('guardPool', () => {
  it("keeps an 'error' listener on every client for its whole life, checked out or idle", () => {
    const pool = new EventEmitter();
    const seen: string[] = [];
    guardPool(pool as unknown as pg.Pool, (err) => seen.push(err.message));
    const client = new EventEmitter();
    pool.emit('connect', client);
    // pg-pool removes its own listener while a client is checked out: ours must still be there.
    expect(() => client.emit('error', new Error('read ECONNRESET'))).not.toThrow();
    expect(() => pool.emit('error', new Error('terminating connection due to administrator command'))).not.toThrow();
    expect(seen).toEqual(['read ECONNRESET', 'terminating connection due to administrator command']);
  });
});

describe('withTransaction', () => {
  function fakePool(failOn: (sql: string) => boolean) {
    const released: unknown[] = [];
    const client = {
      query: async (sql: string) => {
        if (failOn(sql)) throw new Error(`${sql} failed: Connection terminated`);
        return { rows: [], rowCount: 0 };
      },
      release: (err?: unknown) => released.push(err),
      on: () => undefined,
      off: () => undefined,
    };
    return { pool: { connect: async () => client } as unknown as pg.Pool, released };
  }

  it('returns a client whose rollback worked to the pool', async () => {
    const { pool, released } = fakePool(() => false);
    await expect(
      withTransaction(pool, async () => {
        throw new Error('constraint');
      }),
    ).rejects.toThrow('constraint');
    expect(released).toEqual([undefined]);
  });

  it('destroys a client whose connection broke (ROLLBACK failed) instead of reusing it', async () => {
    const { pool, released } = fakePool((sql) => sql !== 'BEGIN');
    await expect(withTransaction(pool, async (c) => c.query('SELECT 1'))).rejects.toThrow('SELECT 1 failed');
    expect(released).toHaveLength(1);
    expect(released[0]).toBeInstanceOf(Error);
  });
});
