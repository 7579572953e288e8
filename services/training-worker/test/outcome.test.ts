import { describe, expect, it } from 'vitest';
import { attemptOutcome, exhaustedReason } from '../src/outcome.js';
import {
  TrainingAborted,
  TrainingOutOfMemory,
  TrainingRejected,
  TrainingThreadCrashed,
  TrainingTimedOut,
} from '../src/training-thread.js';

const state = (attempts: number, shuttingDown = false) => ({ attempts, maxAttempts: 3, shuttingDown });

describe('attempt accounting', () => {
  it('fails the job at once when retrying cannot help', () => {
    expect(attemptOutcome(new TrainingRejected('dataset has 3 rows'), state(1))).toEqual({
      kind: 'fail',
      reason: 'dataset has 3 rows',
    });
    expect(attemptOutcome(new TrainingOutOfMemory('needs more memory'), state(1)).kind).toBe('fail');
  });

  it('retries a timed-out or crashed attempt until the attempts are used up, then gives up', () => {
    const timeout = new TrainingTimedOut('training did not finish within 600 s');
    expect(attemptOutcome(timeout, state(1))).toEqual({
      kind: 'retry',
      reason: 'attempt 1 of 3 failed: training did not finish within 600 s',
    });
    expect(attemptOutcome(new TrainingThreadCrashed('exited with code 1'), state(2)).kind).toBe('retry');
    const last = attemptOutcome(timeout, state(3));
    expect(last.kind).toBe('exhausted');
    expect(last.kind === 'exhausted' && last.reason).toMatch(
      /^gave up after 3 attempts \(TRAINING_MAX_ATTEMPTS\); last error: training did not finish/,
    );
    // A bug (not one of the thread's errors) is an attempt like any other.
    expect(attemptOutcome(new Error('boom'), state(3)).kind).toBe('exhausted');
  });

  it('gives the job back on shutdown and stands down when the job is no longer ours', () => {
    expect(attemptOutcome(new TrainingAborted('worker shutting down'), state(2, true))).toEqual({ kind: 'requeue' });
    expect(attemptOutcome(new TrainingAborted('cancelled'), state(1))).toEqual({ kind: 'stand_down' });
    // Shutdown wins over the attempt count: stopping the worker is not the job's fault.
    expect(attemptOutcome(new TrainingAborted('worker shutting down'), state(3, true))).toEqual({ kind: 'requeue' });
  });

  it('says why a job whose worker died each time failed', () => {
    expect(exhaustedReason(3, null)).toBe(
      'gave up after 3 attempts (TRAINING_MAX_ATTEMPTS); last error: none recorded: the worker stopped (crashed or was killed) while training',
    );
    expect(exhaustedReason(3, 'attempt 2 of 3 failed: x')).toMatch(/last error: attempt 2 of 3 failed: x$/);
  });
});
