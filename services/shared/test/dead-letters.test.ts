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
});
