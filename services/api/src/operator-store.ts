/**
 * What the operator routes need (jobs listing and retry, dead letters), apart from ApiStore so
 * the HTTP layer is tested with a fake. PgOperatorStore is the real one: a retry's job transition
 * and its training.requested event commit together (outbox), as does a replay and its message.
 */
import { randomUUID } from 'node:crypto';
import {
  discardDeadLetter,
  enqueueEvent,
  makeEvent,
  repo,
  replayDeadLetter,
  withTransaction,
  type DeadLetter,
  type Job,
  type ListCursor,
  type Pool,
  type ReplayOutcome,
  type SlackMessage,
  type Topics,
} from '@pynomaly/shared';

export type JobFilter = Parameters<typeof repo.listJobs>[1];
export type DeadLetterFilter = Parameters<typeof repo.listDeadLetters>[1];
export type Page<T> = { items: T[]; next: ListCursor | undefined };
export type RetryOutcome =
  { outcome: 'retried'; job: Job } | { outcome: 'not_found' } | { outcome: 'not_retryable'; job: Job };
export type DiscardOutcome = Awaited<ReturnType<typeof discardDeadLetter>>;

export interface OperatorStore {
  listJobs(f: JobFilter): Promise<Page<Job>>;
  /** failed|cancelled → queued with a new training.requested for the detector as it is now. */
  retryJob(id: string): Promise<RetryOutcome>;
  listDeadLetters(f: DeadLetterFilter): Promise<Page<DeadLetter>>;
  getDeadLetter(id: string): Promise<DeadLetter | undefined>;
  replayDeadLetter(id: string): Promise<ReplayOutcome>;
  discardDeadLetter(id: string): Promise<DiscardOutcome>;
  /** The Slack-format sink: what Alertmanager's Slack receiver posted. */
  recordSlackMessage(payload: Record<string, unknown>): Promise<void>;
  listSlackMessages(limit: number): Promise<SlackMessage[]>;
}

export class PgOperatorStore implements OperatorStore {
  constructor(
    private readonly pool: Pool,
    private readonly topics: Topics,
    /** Called after a commit that enqueued events, so the relay publishes without waiting. */
    private readonly onEnqueued: () => void = () => {},
  ) {}

  listJobs(f: JobFilter) {
    return repo.listJobs(this.pool, f);
  }

  async retryJob(id: string): Promise<RetryOutcome> {
    const outcome = await withTransaction(this.pool, async (client): Promise<RetryOutcome> => {
      const job = await repo.retryJob(client, id);
      if (!job) {
        const current = await repo.getJob(client, id);
        return current ? { outcome: 'not_retryable', job: current } : { outcome: 'not_found' };
      }
      const detector = await repo.getDetector(client, job.detectorId);
      if (!detector) throw new Error(`job ${id} has no detector ${job.detectorId}`);
      await enqueueEvent(
        client,
        this.topics['training.requested'],
        makeEvent('training.requested', detector.id, {
          jobId: job.id,
          datasetId: detector.datasetId,
          algorithm: detector.algorithm,
          parameters: detector.parameters,
        }),
      );
      return { outcome: 'retried', job };
    });
    if (outcome.outcome === 'retried') this.onEnqueued();
    return outcome;
  }

  listDeadLetters(f: DeadLetterFilter) {
    return repo.listDeadLetters(this.pool, f);
  }
  getDeadLetter(id: string) {
    return repo.getDeadLetter(this.pool, id);
  }
  replayDeadLetter(id: string) {
    return replayDeadLetter(this.pool, id, this.onEnqueued);
  }
  discardDeadLetter(id: string) {
    return discardDeadLetter(this.pool, id);
  }
  recordSlackMessage(payload: Record<string, unknown>) {
    return repo.insertSlackMessage(this.pool, randomUUID(), payload);
  }
  listSlackMessages(limit: number) {
    return repo.listSlackMessages(this.pool, limit);
  }
}
