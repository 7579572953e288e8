import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { Logger } from '../src/logging.js';
import type { OutgoingMessage } from '../src/kafka/index.js';
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

/**
 * A pool of one fake client that records statements; a claim hands out (and removes) the rows
 * committed so far: `rows` at first, then whatever a test pushes to `pending`.
 */
function fakePool(rows: { id: number; topic: string }[]) {
  const statements: { sql: string; params: unknown[] }[] = [];
  const pending = [...rows];
  const client = {
    on() {},
    off() {},
    release() {},
    async query(sql: string, params: unknown[] = []) {
      statements.push({ sql: sql.replace(/\s+/g, ' ').trim(), params });
      if (!sql.includes('FOR UPDATE SKIP LOCKED')) return { rows: [] };
      const claimed = pending
        .splice(0)
        .map((r) => ({ ...r, eventId: `e${r.id}`, key: 'k', value: `v${r.id}`, headers: {}, attempts: 0 }));
      return { rows: claimed };
    },
  };
  return { pool: { connect: async () => client } as unknown as pg.Pool, statements, pending };
}

/** A sender that records each call's values and fails a call holding `failOn`'s row with `error`. */
function sender(failOn?: { value: string; error: () => Error }) {
  const calls: string[][] = [];
  return {
    calls,
    send: async (ms: OutgoingMessage[]) => {
      calls.push(ms.map((m) => String(m.value)));
      if (failOn && ms.some((m) => m.value === failOn.value)) throw failOn.error();
    },
  };
}

const silent = { info() {}, warn() {}, error() {} } as unknown as Logger;

describe('OutboxRelay.relayOnce', () => {
  const rows = [1, 2, 3, 4].map((id) => ({ id, topic: 't' }));
  const updates = (statements: { sql: string; params: unknown[] }[]) =>
    statements.filter((s) => s.sql.startsWith('UPDATE')).map((s) => [s.sql.split(' SET ')[1]!.split(' ')[0], s.params]);
  it('sends the batch in one call and marks every row in one statement, in the claiming transaction', async () => {
    const { pool, statements } = fakePool(rows);
    const s = sender();
    const relay = new OutboxRelay({ pool, logger: silent, sender: s });
    expect(await relay.relayOnce()).toBe(4);
    expect(s.calls).toEqual([['v1', 'v2', 'v3', 'v4']]);
    expect(updates(statements)).toEqual([['sent_at', [[1, 2, 3, 4]]]]);
    expect(statements.map((x) => x.sql)[0]).toBe('BEGIN');
    expect(statements.at(-1)!.sql).toBe('COMMIT');
  });

  it('on a transient failure keeps what was sent, records the failure on its row and stops the batch', async () => {
    const { pool, statements } = fakePool(rows);
    const s = sender({
      value: 'v3',
      error: () => Object.assign(new Error('broker gone'), { name: 'KafkaJSConnectionError' }),
    });
    const relay = new OutboxRelay({ pool, logger: silent, sender: s });
    await expect(relay.relayOnce()).rejects.toThrow('broker gone');
    // The batch, then row by row up to the failing row.
    expect(s.calls).toEqual([['v1', 'v2', 'v3', 'v4'], ['v1'], ['v2'], ['v3']]);
    expect(updates(statements)).toEqual([
      ['sent_at', [[1, 2]]],
      ['attempts', [[3], 'broker gone']],
    ]);
    expect(statements.at(-1)!.sql).toBe('COMMIT');
  });

  it('sets aside a row Kafka refuses for good and goes on with the rest', async () => {
    const { pool, statements } = fakePool(rows);
    const s = sender({ value: 'v2', error: () => kafkaError('KafkaJSProtocolError', false) });
    const relay = new OutboxRelay({ pool, logger: silent, sender: s });
    expect(await relay.relayOnce()).toBe(3);
    expect(s.calls).toEqual([['v1', 'v2', 'v3', 'v4'], ['v1'], ['v2'], ['v3'], ['v4']]);
    expect(updates(statements)).toEqual([
      ['dead_at', [[2], 'KafkaJSProtocolError']],
      ['sent_at', [[1, 3, 4]]],
    ]);
  });

  it('does nothing but claim when nothing is pending', async () => {
    const { pool, statements } = fakePool([]);
    const s = sender();
    expect(await new OutboxRelay({ pool, logger: silent, sender: s }).relayOnce()).toBe(0);
    expect(s.calls).toEqual([]);
    expect(updates(statements)).toEqual([]);
  });
});

describe('OutboxRelay linger', () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('lets commits that follow a wake-up within the linger share one pass', async () => {
    const { pool, pending } = fakePool([]);
    const s = sender();
    const relay = new OutboxRelay({ pool, logger: silent, sender: s, idleIntervalMs: 60_000, lingerMs: 50 });
    relay.start();
    await tick(20); // the first pass found nothing and waits
    pending.push({ id: 1, topic: 't' });
    relay.notify();
    await tick(10);
    pending.push({ id: 2, topic: 't' });
    relay.notify(); // during the linger: nothing more to wake
    await tick(150);
    await relay.stop();
    expect(s.calls).toEqual([['v1', 'v2']]);
  });

  it('without a linger, a wake-up claims at once', async () => {
    const { pool, pending } = fakePool([]);
    const s = sender();
    const relay = new OutboxRelay({ pool, logger: silent, sender: s, idleIntervalMs: 60_000, lingerMs: 0 });
    relay.start();
    await tick(20);
    pending.push({ id: 1, topic: 't' });
    relay.notify();
    await tick(30);
    pending.push({ id: 2, topic: 't' });
    await relay.stop(); // its last pass flushes what is pending
    expect(s.calls).toEqual([['v1'], ['v2']]);
  });
});
