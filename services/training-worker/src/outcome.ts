/**
 * What a training attempt's end means for its job (pure, so the accounting is unit-tested):
 * - the request cannot be trained (rejected, over budget, more memory than a thread may have):
 *   the job fails now; retrying would fail the same way;
 * - the worker stopped it (shutdown): the job goes back to the queue and the attempt is given back;
 * - the job stopped being ours (cancelled, reaped): nothing more to do;
 * - it timed out or its thread crashed: the attempt is spent; the job is retried until it has used
 *   TRAINING_MAX_ATTEMPTS, then it fails and its message goes to the dead-letter topic.
 * A worker process killed mid-training never gets here: the next claim sees the spent attempts.
 */
import { TrainingAborted, TrainingOutOfMemory, TrainingRejected } from './training-thread.js';

export type AttemptOutcome =
  | { kind: 'fail'; reason: string }
  | { kind: 'requeue' }
  | { kind: 'stand_down' }
  | { kind: 'retry'; reason: string }
  | { kind: 'exhausted'; reason: string };

export interface AttemptState {
  /** Attempts started so far, this one included. */
  attempts: number;
  maxAttempts: number;
  shuttingDown: boolean;
}

export function attemptOutcome(err: unknown, s: AttemptState): AttemptOutcome {
  if (err instanceof TrainingRejected || err instanceof TrainingOutOfMemory)
    return { kind: 'fail', reason: err.message };
  if (err instanceof TrainingAborted) return s.shuttingDown ? { kind: 'requeue' } : { kind: 'stand_down' };
  const message = err instanceof Error ? err.message : String(err);
  if (s.attempts >= s.maxAttempts) return { kind: 'exhausted', reason: exhaustedReason(s.attempts, message) };
  return { kind: 'retry', reason: `attempt ${s.attempts} of ${s.maxAttempts} failed: ${message}` };
}

/** Why a job whose attempts are used up failed; `last` is the last error recorded, if any. */
export function exhaustedReason(attempts: number, last: string | null): string {
  return `gave up after ${attempts} attempts (TRAINING_MAX_ATTEMPTS); last error: ${
    last ?? 'none recorded: the worker stopped (crashed or was killed) while training'
  }`;
}
