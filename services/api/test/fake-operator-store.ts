import { randomUUID } from 'node:crypto';
import type { DeadLetter, Job, ListCursor, ReplayOutcome, SlackMessage } from '@pynomaly/shared';
import type {
  DeadLetterFilter,
  DiscardOutcome,
  JobFilter,
  OperatorStore,
  Page,
  RetryOutcome,
} from '../src/operator-store.js';
import type { FakeStore } from './fake-store.js';

/** Keyset paging over rows sorted newest first, as the repository does it. */
function page<T extends { id: string }>(rows: T[], at: (r: T) => Date, after: ListCursor | undefined, limit: number) {
  const sorted = [...rows].sort((a, b) => at(b).getTime() - at(a).getTime() || b.id.localeCompare(a.id));
  const start = after
    ? sorted.findIndex((r) => {
        const t = at(r).getTime();
        const c = new Date(after.createdAt).getTime();
        return t < c || (t === c && r.id < after.id);
      })
    : 0;
  const rest = start < 0 ? [] : sorted.slice(start);
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  const next = rest.length > limit && last ? { createdAt: at(last).toISOString(), id: last.id } : undefined;
  return { items, next };
}

/** In-memory OperatorStore over a FakeStore's jobs, with dead letters added by the test. */
export class FakeOperatorStore implements OperatorStore {
  deadLetters = new Map<string, DeadLetter>();
  retried: string[] = [];
  replayed: string[] = [];
  slack: SlackMessage[] = [];

  constructor(private readonly store: FakeStore) {}

  async listJobs(f: JobFilter): Promise<Page<Job>> {
    const rows = [...this.store.jobs.values()].filter(
      (j) =>
        (!f.state || j.state === f.state) &&
        (!f.detectorId || j.detectorId === f.detectorId) &&
        (!f.createdFrom || j.createdAt >= f.createdFrom) &&
        (!f.createdTo || j.createdAt < f.createdTo),
    );
    return page(rows, (j) => j.createdAt, f.after, f.limit);
  }

  async retryJob(id: string): Promise<RetryOutcome> {
    const job = this.store.jobs.get(id);
    if (!job) return { outcome: 'not_found' };
    if (job.state !== 'failed' && job.state !== 'cancelled') return { outcome: 'not_retryable', job };
    const queued: Job = { ...job, state: 'queued', attempts: 0, reason: null, startedAt: null, finishedAt: null };
    this.store.jobs.set(id, queued);
    this.retried.push(id);
    return { outcome: 'retried', job: queued };
  }

  addDeadLetter(d: Partial<DeadLetter> = {}): DeadLetter {
    const letter: DeadLetter = {
      id: randomUUID(),
      consumerGroup: 'pynomaly-training-worker',
      originTopic: 'pynomaly.training.requested',
      originPartition: 0,
      originOffset: 7,
      key: randomUUID(),
      value: Buffer.from('{"poison":true}'),
      headers: { 'event-type': 'training.requested' },
      reason: 'invalid_schema',
      error: 'job does not exist',
      attempts: 1,
      state: 'pending',
      deadLetteredAt: new Date(),
      resolvedAt: null,
      replayEventId: null,
      ...d,
    };
    this.deadLetters.set(letter.id, letter);
    return letter;
  }

  async listDeadLetters(f: DeadLetterFilter): Promise<Page<DeadLetter>> {
    const rows = [...this.deadLetters.values()].filter(
      (d) =>
        (!f.state || d.state === f.state) &&
        (!f.topic || d.originTopic === f.topic) &&
        (!f.consumerGroup || d.consumerGroup === f.consumerGroup) &&
        (!f.reason || d.reason === f.reason),
    );
    return page(rows, (d) => d.deadLetteredAt, f.after, f.limit);
  }

  async getDeadLetter(id: string) {
    return this.deadLetters.get(id);
  }

  async replayDeadLetter(id: string): Promise<ReplayOutcome> {
    const d = this.deadLetters.get(id);
    if (!d) return { outcome: 'not_found' };
    if (d.state !== 'pending') return { outcome: 'already_resolved', deadLetter: d };
    const text = d.value.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(d.value)) return { outcome: 'not_utf8', deadLetter: d };
    const eventId = randomUUID();
    const resolved: DeadLetter = { ...d, state: 'replayed', resolvedAt: new Date(), replayEventId: eventId };
    this.deadLetters.set(id, resolved);
    this.replayed.push(id);
    return { outcome: 'replayed', deadLetter: resolved, eventId };
  }

  async discardDeadLetter(id: string): Promise<DiscardOutcome> {
    const d = this.deadLetters.get(id);
    if (!d) return { outcome: 'not_found' };
    if (d.state !== 'pending') return { outcome: 'already_resolved', deadLetter: d };
    const resolved: DeadLetter = { ...d, state: 'discarded', resolvedAt: new Date() };
    this.deadLetters.set(id, resolved);
    return { outcome: 'discarded', deadLetter: resolved };
  }

  async recordSlackMessage(payload: Record<string, unknown>) {
    this.slack.unshift({ id: randomUUID(), receivedAt: new Date(), payload });
  }

  async listSlackMessages(limit: number) {
    return this.slack.slice(0, limit);
  }
}
