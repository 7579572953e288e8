import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { Logger } from '../src/logging.js';
import { isPermanentKafkaError, OutboxRelay } from '../src/outbox/relay.js';

function kafkaError(name: string, retriable: boolean, cause?: unknown) {
  return Object.assign(new Error(name), { name, retriable, cause });
}

describe('isPermanentKafkaError', () => {
  it('sets aside what the broker refuses for good, even when the retrier wrapped it', () => {
    const tooLarge = Object.assign(kafkaError('KafkaJSProtocolError', false), { type: 'MESSAGE_TOO_LARGE' });
    expect(isPermanentKafkaError(tooLarge)).toBe(true);
    expect(isPermanentKafkaError(kafkaError('KafkaJSNonRetriableError', false, tooLarge))).toBe(true);
  });

  it('keeps retrying while the broker is unreachable', () => {
    const conn = kafkaError('KafkaJSConnectionError', true);
    expect(isPermanentKafkaError(kafkaError('KafkaJSNumberOfRetriesExceeded', false, conn))).toBe(false);
    expect(isPermanentKafkaError(kafkaError('KafkaJSProtocolError', true))).toBe(false);
    expect(isPermanentKafkaError(new Error('ECONNREFUSED'))).toBe(false);
  });
});

/** A pool of one fake client that records statements and answers the claim with `rows`. */
function fakePool(rows: { id: number; topic: string }[]) {
  const statements: { sql: string; params: unknown[] }[] = [];
  const client = {
    on() {},
    off() {},
    release() {},
    async query(sql: string, params: unknown[] = []) {
      statements.push({ sql: sql.replace(/\s+/g, ' ').trim(), params });
      if (sql.includes('FOR UPDATE SKIP LOCKED'))
        return {
          rows: rows.map((r) => ({ ...r, eventId: `e${r.id}`, key: 'k', value: '{}', headers: {}, attempts: 0 })),
        };
      return { rows: [] };
    },
  };
  return { pool: { connect: async () => client } as unknown as pg.Pool, statements };
}

const silent = { info() {}, warn() {}, error() {} } as unknown as Logger;

describe('OutboxRelay.relayOnce', () => {
  const rows = [1, 2, 3, 4].map((id) => ({ id, topic: 't' }));
  const updates = (statements: { sql: string; params: unknown[] }[]) =>
    statements.filter((s) => s.sql.startsWith('UPDATE')).map((s) => [s.sql.split(' SET ')[1]!.split(' ')[0], s.params]);

  it('marks every row Kafka took in one statement, in the transaction that claimed them', async () => {
    const { pool, statements } = fakePool(rows);
    const sent: string[] = [];
    const relay = new OutboxRelay({ pool, logger: silent, sender: { send: async (m) => void sent.push(m[0]!.key) } });
    expect(await relay.relayOnce()).toBe(4);
    expect(sent).toHaveLength(4);
    expect(updates(statements)).toEqual([['sent_at', [[1, 2, 3, 4]]]]);
    expect(statements.map((s) => s.sql)[0]).toBe('BEGIN');
    expect(statements.at(-1)!.sql).toBe('COMMIT');
  });

  it('on a transient failure keeps what was sent, records the failure on its row and stops the batch', async () => {
    const { pool, statements } = fakePool(rows);
    let calls = 0;
    const sender = {
      send: async () => {
        if (++calls === 3) throw Object.assign(new Error('broker gone'), { name: 'KafkaJSConnectionError' });
      },
    };
    const relay = new OutboxRelay({ pool, logger: silent, sender });
    await expect(relay.relayOnce()).rejects.toThrow('broker gone');
    expect(calls).toBe(3);
    expect(updates(statements)).toEqual([
      ['sent_at', [[1, 2]]],
      ['attempts', [[3], 'broker gone']],
    ]);
    expect(statements.at(-1)!.sql).toBe('COMMIT');
  });

  it('sets aside a row Kafka refuses for good and goes on with the rest', async () => {
    const { pool, statements } = fakePool(rows);
    let calls = 0;
    const sender = {
      send: async () => {
        if (++calls === 2) throw kafkaError('KafkaJSProtocolError', false);
      },
    };
    const relay = new OutboxRelay({ pool, logger: silent, sender });
    expect(await relay.relayOnce()).toBe(3);
    const u = updates(statements);
    expect(u[0]![0]).toBe('dead_at');
    expect(u[0]![1]).toEqual([[2], 'KafkaJSProtocolError']);
    expect(u[1]).toEqual(['sent_at', [[1, 3, 4]]]);
  });
});
