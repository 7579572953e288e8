// The consumers' DLQ sender: the Kafka copy first, then the row an operator acts on, parsed from
// the dlq-* headers the consumer writes; a failure of either rejects (the message comes back).
import { describe, expect, it } from 'vitest';
import { deadLetterOf, recordingDlq } from '../src/dead-letters.js';
import { dlqHeaders, type ConsumedMessage, type OutgoingMessage } from '../src/kafka/index.js';

const consumed: ConsumedMessage = {
  topic: 'pynomaly.training.requested',
  partition: 2,
  offset: '41',
  key: 'detector-1',
  value: Buffer.from('{"id":"e1"}'),
  headers: { 'event-type': Buffer.from('training.requested'), traceparent: Buffer.from('00-abc-def-01') },
};
const copy: OutgoingMessage = {
  topic: 'pynomaly.dlq',
  key: 'detector-1',
  value: consumed.value!,
  headers: dlqHeaders(consumed, 'pynomaly-training-worker', 'invalid_schema', 'job j1 does not exist', 1) as Record<
    string,
    string | Buffer
  >,
};

describe('dead letters', () => {
  it('records the origin, reason, error, original bytes and the message headers without the dlq-* ones', () => {
    expect(deadLetterOf(copy)).toMatchObject({
      consumerGroup: 'pynomaly-training-worker',
      originTopic: 'pynomaly.training.requested',
      originPartition: 2,
      originOffset: '41',
      key: 'detector-1',
      value: Buffer.from('{"id":"e1"}'),
      headers: { 'event-type': 'training.requested', traceparent: '00-abc-def-01' },
      reason: 'invalid_schema',
      error: 'job j1 does not exist',
      attempts: 1,
    });
  });

  it('writes the Kafka copy, then the row; a Kafka failure writes no row and rejects', async () => {
    const order: string[] = [];
    const db = { query: async (sql: string) => (order.push(sql.trim().split(/\s+/)[0]!), { rowCount: 1, rows: [] }) };
    await recordingDlq({ send: async () => void order.push('kafka') }, db as never).send([copy]);
    expect(order).toEqual(['kafka', 'INSERT']);

    order.length = 0;
    const failing = recordingDlq(
      {
        send: async () => {
          throw new Error('broker down');
        },
      },
      db as never,
    );
    await expect(failing.send([copy])).rejects.toThrow('broker down');
    expect(order).toEqual([]);
  });

  it('keeps a poison message storable: NUL and lone surrogates in its key, headers and error become U+FFFD, its bytes stay', () => {
    const poison = Buffer.from('\u0000\u0001binary');
    const d = deadLetterOf({
      topic: 'pynomaly.dlq',
      key: 'k\u0000\ud800',
      value: poison,
      headers: {
        ...(dlqHeaders(
          { ...consumed, value: poison },
          'pynomaly-drift-worker',
          'unparseable',
          "not JSON: Unexpected token '\u0000'",
          1,
        ) as Record<string, string | Buffer>),
        'x-\u0000': Buffer.from([0x00, 0xff]),
      },
    });
    const texts = [d.key!, d.error, ...Object.keys(d.headers), ...Object.values(d.headers)];
    for (const t of texts) {
      expect(t).not.toContain('\u0000');
      expect(Buffer.from(t, 'utf8').toString('utf8'), 'well-formed UTF-16').toBe(t);
    }
    expect(d.error).toBe("not JSON: Unexpected token '\uFFFD'");
    expect(d.value).toEqual(poison);
  });

  it('stores a row Postgres refuses for its content without the text, instead of stalling the partition', async () => {
    const inserted: unknown[][] = [];
    const db = {
      query: async (_sql: string, params: unknown[]) => {
        if (inserted.length === 0) {
          inserted.push(params);
          throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
        }
        inserted.push(params);
        return { rowCount: 1, rows: [] };
      },
    };
    await recordingDlq({ send: async () => undefined }, db as never).send([copy]);
    expect(inserted).toHaveLength(2);
    expect(inserted[1]![5]).toBeNull();
    expect(inserted[1]![7]).toBe('{}');
    expect(inserted[1]![9]).toBe('not storable as text (22021)');

    const down = {
      query: async () => {
        throw Object.assign(new Error('connection terminated'), { code: '57P01' });
      },
    };
    await expect(recordingDlq({ send: async () => undefined }, down as never).send([copy])).rejects.toThrow(
      'connection terminated',
    );
  });
});
