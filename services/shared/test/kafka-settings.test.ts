import type { Kafka } from 'kafkajs';
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ensureTopics, kafkaCredentialProblem } from '../src/kafka/index.js';

/** Records what the admin client is asked to create. */
function recordingKafka(existing: string[] = []) {
  const created: unknown[] = [];
  const kafka = {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      listTopics: async () => existing,
      createTopics: async (req: { topics: unknown[] }) => {
        created.push(...req.topics);
        return true;
      },
    }),
  } as unknown as Kafka;
  return { kafka, created };
}

describe('ensureTopics', () => {
  it('creates the missing topics with the configured partitions, replication factor and min.insync.replicas', async () => {
    const { kafka, created } = recordingKafka(['a']);
    await ensureTopics(kafka, ['a', 'b'], { numPartitions: 12, replicationFactor: 3, minInsyncReplicas: 2 });
    expect(created).toEqual([
      {
        topic: 'b',
        numPartitions: 12,
        replicationFactor: 3,
        configEntries: [{ name: 'min.insync.replicas', value: '2' }],
      },
    ]);
  });
});

describe('kafkaCredentialProblem', () => {
  it('names the SASL settings when the broker refuses the credentials, however deeply wrapped', () => {
    // kafkajs' types leave out the message its constructor takes.
    const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;
    const sasl = new SaslError('SASL SCRAM SHA512 authentication failed');
    expect(kafkaCredentialProblem(sasl)).toMatch(/KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/);
    const wrapped = new KafkaJSNonRetriableError(sasl);
    expect(kafkaCredentialProblem(wrapped)).toMatch(/KAFKA_SASL_PASSWORD/);
  });

  it('names the TLS settings when the certificate is not trusted', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(kafkaCredentialProblem(new KafkaJSConnectionError(tls as unknown as Error))).toBeUndefined();
    expect(kafkaCredentialProblem(tls)).toMatch(/KAFKA_TLS_CA_FILE/);
  });

  it('leaves an unreachable broker to the retries', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    expect(kafkaCredentialProblem(refused)).toBeUndefined();
    expect(kafkaCredentialProblem(new KafkaJSConnectionError('Connection timeout'))).toBeUndefined();
  });
});
