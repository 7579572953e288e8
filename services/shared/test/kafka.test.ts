import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useInMemoryTracing } from '../../../testkit/tracing.js';
import type { Kafka } from 'kafkajs';
import {
  EventProducer,
  extractTraceContext,
  headerString,
  injectTraceHeaders,
  isTransientInfrastructureError,
  PermanentError,
  processBatch,
  processMessage,
  type BatchItem,
  type ConsumedMessage,
  type MessageSender,
  type OutgoingMessage,
} from '../src/kafka/index.js';

const exporter = useInMemoryTracing();
const logger = pino({ level: 'silent' });

class FakeSender implements MessageSender {
  sent: OutgoingMessage[] = [];
  fail = false;
  async send(messages: OutgoingMessage[]) {
    if (this.fail) throw new Error('broker unavailable');
    this.sent.push(...messages);
  }
}

function message(headers: Record<string, string>, value = '{"hello":1}'): ConsumedMessage {
  const asBuffers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
  return {
    topic: 'pynomaly.training.requested',
    partition: 2,
    offset: '41',
    key: 'det-1',
    value: Buffer.from(value),
    headers: asBuffers,
  };
}

const opts = (dlq: MessageSender) => ({
  groupId: 'pynomaly-training-worker',
  dlqTopic: 'pynomaly.dlq',
  dlq,
  logger,
  retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 },
  sleep: async () => {},
});

describe('trace context in Kafka headers', () => {
  it('continues the producer trace in the consumer span', async () => {
    const tracer = trace.getTracer('test');
    const headers: Record<string, string> = {};
    const producerSpan = tracer.startSpan('publish', { kind: SpanKind.PRODUCER });
    context.with(trace.setSpan(context.active(), producerSpan), () => injectTraceHeaders(headers));
    producerSpan.end();
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(trace.getSpanContext(extractTraceContext(message(headers).headers))?.traceId).toBe(
      producerSpan.spanContext().traceId,
    );

    let seenTrace: string | undefined;
    const outcome = await processMessage(
      message(headers),
      async () => {
        seenTrace = trace.getActiveSpan()?.spanContext().traceId;
      },
      opts(new FakeSender()),
    );

    expect(outcome).toEqual({ outcome: 'processed', attempts: 1 });
    expect(seenTrace).toBe(producerSpan.spanContext().traceId);
    const consumer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER)!;
    expect(consumer.name).toBe('pynomaly.training.requested process');
    expect(consumer.spanContext().traceId).toBe(producerSpan.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producerSpan.spanContext().spanId);
    expect(consumer.links[0]?.context.spanId).toBe(producerSpan.spanContext().spanId);
    expect(consumer.attributes['messaging.kafka.offset']).toBe(41);
  });

  it('starts a new trace when the message carries none', async () => {
    await processMessage(message({}), async () => {}, opts(new FakeSender()));
    const consumer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER)!;
    expect(consumer.parentSpanContext).toBeUndefined();
    expect(consumer.links).toEqual([]);
  });
});

describe('retries and dead-lettering', () => {
  it('retries a transient failure and then succeeds without touching the DLQ', async () => {
    const dlq = new FakeSender();
    let calls = 0;
    const outcome = await processMessage(
      message({}),
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('db busy');
      },
      opts(dlq),
    );
    expect(outcome).toEqual({ outcome: 'processed', attempts: 3 });
    expect(dlq.sent).toEqual([]);
  });

  it('dead-letters after the last attempt with the original bytes and the DLQ headers', async () => {
    const dlq = new FakeSender();
    const headers = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'event-type': 'training.requested',
    };
    const outcome = await processMessage(
      message(headers, 'raw-bytes'),
      async () => {
        throw new Error('still failing');
      },
      opts(dlq),
    );
    expect(outcome).toEqual({ outcome: 'dead_lettered', attempts: 3, reason: 'processing_failed' });
    expect(dlq.sent).toHaveLength(1);
    const m = dlq.sent[0]!;
    expect(m.topic).toBe('pynomaly.dlq');
    expect(m.key).toBe('det-1');
    expect(m.value.toString()).toBe('raw-bytes');
    const h = m.headers as Record<string, string | Buffer>;
    const str = (k: string) => headerString(h, k);
    expect(str('dlq-reason')).toBe('processing_failed');
    expect(str('dlq-error')).toBe('still failing');
    expect(str('dlq-origin-topic')).toBe('pynomaly.training.requested');
    expect(str('dlq-origin-partition')).toBe('2');
    expect(str('dlq-origin-offset')).toBe('41');
    expect(str('dlq-consumer-group')).toBe('pynomaly-training-worker');
    expect(str('dlq-attempts')).toBe('3');
    expect(str('event-type')).toBe('training.requested');
    expect(str('traceparent')).toBe(headers.traceparent);
  });

  it('dead-letters a permanent failure at once with its reason', async () => {
    const dlq = new FakeSender();
    let calls = 0;
    const outcome = await processMessage(
      message({}),
      async () => {
        calls += 1;
        throw new PermanentError('invalid_schema', 'payload.jobId: Invalid UUID');
      },
      opts(dlq),
    );
    expect(calls).toBe(1);
    expect(outcome).toMatchObject({ outcome: 'dead_lettered', reason: 'invalid_schema', attempts: 1 });
    expect(headerString(dlq.sent[0]!.headers as never, 'dlq-error')).toBe('payload.jobId: Invalid UUID');
  });

  it('ends what a dead-lettered message stood for after the DLQ copy exists, and only then', async () => {
    const dlq = new FakeSender();
    const ended: { reason: string; error: string; dlqCopies: number }[] = [];
    const outcome = await processMessage(
      message({}),
      async () => {
        throw new PermanentError('attempts_exhausted', 'gave up after 3 attempts');
      },
      {
        ...opts(dlq),
        onDeadLetter: async (_msg, reason, error) => void ended.push({ reason, error, dlqCopies: dlq.sent.length }),
      },
    );
    expect(outcome).toMatchObject({ outcome: 'dead_lettered', reason: 'attempts_exhausted' });
    expect(ended).toEqual([{ reason: 'attempts_exhausted', error: 'gave up after 3 attempts', dlqCopies: 1 }]);

    // A processed message never calls it; a failing hook is logged, not turned into a redelivery.
    const quiet: string[] = [];
    await processMessage(message({}), async () => {}, { ...opts(dlq), onDeadLetter: async () => void quiet.push('x') });
    expect(quiet).toEqual([]);
    const failingHook = await processMessage(
      message({}),
      async () => {
        throw new PermanentError('invalid_schema', 'bad');
      },
      {
        ...opts(dlq),
        onDeadLetter: async () => {
          throw new Error('database down');
        },
      },
    );
    expect(failingHook.outcome).toBe('dead_lettered');
  });

  it("gives the handler the consumer's heartbeat for long work", async () => {
    let beats = 0;
    await processMessage(
      message({}),
      async (_msg, ctx) => {
        await ctx.heartbeat();
        await ctx.heartbeat();
      },
      { ...opts(new FakeSender()), heartbeat: async () => void beats++ },
    );
    expect(beats).toBe(2);
  });

  it('waits out an infrastructure outage without spending attempts or dead-lettering', async () => {
    const dlq = new FakeSender();
    let calls = 0;
    const outcome = await processMessage(
      message({}),
      async () => {
        calls += 1;
        if (calls <= 6)
          throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        if (calls === 7)
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      opts(dlq),
    );
    expect(outcome).toEqual({ outcome: 'processed', attempts: 1 });
    expect(calls).toBe(8);
    expect(dlq.sent).toEqual([]);
  });

  it('classifies infrastructure errors apart from bugs and bad data', () => {
    expect(isTransientInfrastructureError(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isTransientInfrastructureError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientInfrastructureError(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
    expect(isTransientInfrastructureError(new TypeError('x is undefined'))).toBe(false);
  });

  it('does not report success when the DLQ cannot be written (the message is redelivered)', async () => {
    const dlq = new FakeSender();
    dlq.fail = true;
    await expect(
      processMessage(
        message({}),
        async () => {
          throw new PermanentError('unparseable', 'not JSON');
        },
        opts(dlq),
      ),
    ).rejects.toThrow(/broker unavailable/);
  });
});

describe('batches of one partition', () => {
  function producedMessage(offset: number, value = '{"hello":1}'): { msg: ConsumedMessage; traceId: string } {
    const span = trace.getTracer('test').startSpan('publish', { kind: SpanKind.PRODUCER });
    const headers: Record<string, string> = {};
    context.with(trace.setSpan(context.active(), span), () => injectTraceHeaders(headers));
    span.end();
    return { msg: { ...message(headers, value), offset: String(offset) }, traceId: span.spanContext().traceId };
  }
  const batchOpts = (handler: (items: BatchItem[]) => Promise<void>) => ({
    handler,
    topics: new Set(['pynomaly.training.requested']),
    maxMessages: 10,
  });

  it('hands the batch over once; each message gets a consumer span in its own producer trace', async () => {
    const produced = [producedMessage(7), producedMessage(8), producedMessage(9)];
    let seen: string[] = [];
    const outcome = await processBatch(
      produced.map((p) => p.msg),
      batchOpts(async (items) => {
        seen = items.map((it) => trace.getSpanContext(it.context)!.traceId);
      }),
      async () => {
        throw new Error('the per-message handler must not run');
      },
      opts(new FakeSender()),
    );
    expect(outcome).toBe('batched');
    expect(seen).toEqual(produced.map((p) => p.traceId));
    const consumers = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER);
    expect(consumers.map((s) => s.spanContext().traceId)).toEqual(produced.map((p) => p.traceId));
    expect(consumers.map((s) => s.attributes['messaging.kafka.offset'])).toEqual([7, 8, 9]);
    expect(consumers.every((s) => s.attributes['messaging.batch.message_count'] === 3)).toBe(true);
  });

  it('a failing batch is handled message by message: good ones processed, the bad one dead-lettered', async () => {
    const msgs = [producedMessage(1, 'good').msg, producedMessage(2, 'bad').msg, producedMessage(3, 'good').msg];
    const dlq = new FakeSender();
    const handled: string[] = [];
    const outcome = await processBatch(
      msgs,
      batchOpts(async () => {
        throw new Error('one message of the batch is bad');
      }),
      async (msg) => {
        if (msg.value!.toString() === 'bad') throw new PermanentError('invalid_json', 'not JSON');
        handled.push(msg.offset);
      },
      opts(dlq),
    );
    expect(outcome).toBe('one_by_one');
    expect(handled).toEqual(['1', '3']);
    expect(dlq.sent.map((m) => m.headers?.['dlq-origin-offset'])).toEqual(['2']);
  });
});

describe('EventProducer.send', () => {
  /** A kafkajs stand-in: records each produce request and the context it was made in. */
  function fakeKafka() {
    const requests: {
      topic: string;
      messages: { key: string; headers: Record<string, string> }[];
      suppressed: boolean;
    }[] = [];
    const producer = {
      events: { DISCONNECT: 'producer.disconnect' },
      on() {},
      connect: async () => {},
      disconnect: async () => {},
      send: async (r: { topic: string; messages: { key: string; headers: Record<string, string> }[] }) => {
        requests.push({ ...r, suppressed: isTracingSuppressed(context.active()) });
        return [];
      },
    };
    return { kafka: { producer: () => producer } as unknown as Kafka, requests };
  }

  it('sends each run of one topic in one request, with a producer span per message continuing its own trace', async () => {
    const { kafka, requests } = fakeKafka();
    const producer = new EventProducer(kafka);
    const parents = ['a', 'b'].map((name) => trace.getTracer('test').startSpan(name));
    const carried = parents.map((p) => injectTraceHeaders({}, trace.setSpan(context.active(), p)));
    await producer.send([
      { topic: 't1', key: 'k1', value: '1', headers: carried[0] },
      { topic: 't1', key: 'k2', value: '2', headers: carried[1] },
      { topic: 't2', key: 'k3', value: '3' },
    ]);
    parents.forEach((p) => p.end());
    expect(requests.map((r) => [r.topic, r.messages.map((m) => m.key)])).toEqual([
      ['t1', ['k1', 'k2']],
      ['t2', ['k3']],
    ]);
    // The kafkajs instrumentation, if installed, sees a suppressed context and adds nothing.
    expect(requests.every((r) => r.suppressed)).toBe(true);
    const sends = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(sends.map((s) => s.name)).toEqual(['send t1', 'send t1', 'send t2']);
    parents.forEach((p, i) => {
      expect(sends[i]!.spanContext().traceId).toBe(p.spanContext().traceId);
      expect(sends[i]!.parentSpanContext?.spanId).toBe(p.spanContext().spanId);
      // The message carries its producer span's context, for the consumer to continue.
      const next = trace.getSpanContext(extractTraceContext(requests[0]!.messages[i]!.headers))!;
      expect(next.spanId).toBe(sends[i]!.spanContext().spanId);
    });
    expect(sends[0]!.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': 't1' });
  });

  it('marks every span of a failed request as an error', async () => {
    const { kafka } = fakeKafka();
    const producer = new EventProducer(kafka);
    (kafka.producer() as unknown as { send: () => Promise<never> }).send = async () => {
      throw new Error('broker unavailable');
    };
    await expect(producer.send([{ topic: 't', key: 'k', value: 'v' }])).rejects.toThrow('broker unavailable');
    const [span] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(span!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'broker unavailable' });
  });
});
