/**
 * The job reaper: a periodic task in every training worker that fails running jobs without
 * progress for TRAINING_STALE_AFTER_SECONDS (their worker died and nobody took the message over,
 * or a dead-letter hook could not reach the database). The claim is row-locked with SKIP LOCKED and
 * the state re-checked under the lock (repo.reapStaleJobs), so any number of workers may run it.
 */
import {
  enqueueEvent,
  instruments,
  makeEvent,
  repo,
  withTransaction,
  type Job,
  type Logger,
  type Pool,
  type ShutdownStep,
  type Topics,
} from '@pynomaly/shared';

export interface ReaperDeps {
  pool: Pool;
  topics: Topics;
  logger: Logger;
  onEnqueued: () => void;
  staleAfterSeconds: number;
  intervalMs: number;
}

export function staleReason(staleAfterSeconds: number, job: Pick<Job, 'attempts' | 'reason'>): string {
  return `no progress for ${staleAfterSeconds} s (TRAINING_STALE_AFTER_SECONDS) after ${job.attempts} attempt(s): the worker running it stopped${
    job.reason ? `; last error: ${job.reason}` : ''
  }`;
}

/** One pass: fails the stale jobs and enqueues their training.failed events in one transaction. */
export async function reapOnce(deps: Omit<ReaperDeps, 'intervalMs'>): Promise<Job[]> {
  const reaped = await withTransaction(deps.pool, async (client) => {
    const jobs = await repo.reapStaleJobs(client, deps.staleAfterSeconds, (j) =>
      staleReason(deps.staleAfterSeconds, j),
    );
    for (const job of jobs) {
      await enqueueEvent(
        client,
        deps.topics['training.failed'],
        makeEvent('training.failed', job.detectorId, { jobId: job.id, reason: job.reason ?? 'reaped' }),
      );
    }
    return jobs;
  });
  if (reaped.length > 0) {
    deps.onEnqueued();
    instruments().trainingJobsReaped.add(reaped.length);
    for (const job of reaped) deps.logger.warn({ jobId: job.id, reason: job.reason }, 'stale training job reaped');
  }
  return reaped;
}

/** Starts the periodic pass; the returned step stops it (waiting for a pass in progress). */
export function startJobReaper(deps: ReaperDeps): ShutdownStep {
  // The series exists from the start (at 0), so rate() and "no jobs reaped" are answers, not gaps.
  instruments().trainingJobsReaped.add(0);
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = reapOnce(deps).catch((err: unknown) =>
      deps.logger.warn({ err }, 'job reaper pass failed; next one retries'),
    );
  }, deps.intervalMs);
  timer.unref();
  return {
    name: 'job reaper',
    run: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
