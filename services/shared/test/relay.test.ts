import { describe, expect, it } from 'vitest';
import { isPermanentKafkaError } from '../src/outbox/relay.js';

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
