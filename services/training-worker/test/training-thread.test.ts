import { describe, expect, it } from 'vitest';
import {
  runTrainingThread,
  TrainingAborted,
  TrainingOutOfMemory,
  TrainingRejected,
  TrainingTimedOut,
} from '../src/training-thread.js';
import { trainModel } from '../src/train.js';

function matrix(rows: number, cols: number) {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 10 + (i % 7);
  return { data, rows, cols };
}

const roomy = { memoryMb: 512, timeoutMs: 60_000 };

describe('runTrainingThread', () => {
  it('returns what trainModel returns on the main thread, and takes the buffer over', async () => {
    const x = matrix(400, 3);
    const expected = trainModel('isolation_forest', { nEstimators: 20, seed: 5 }, matrix(400, 3));
    const got = await runTrainingThread('isolation_forest', { nEstimators: 20, seed: 5 }, x, roomy);
    expect(JSON.stringify(got.model)).toBe(JSON.stringify(expected.model));
    expect(got.referenceProfile).toEqual(expected.referenceProfile);
    // Transferred, not copied: the caller's array is detached.
    expect(x.data.length).toBe(0);
  });

  it('copies a view into a larger buffer instead of detaching its neighbours', async () => {
    const whole = new Float64Array(1000 * 2 + 10);
    whole.set(matrix(1000, 2).data, 10);
    const x = { data: whole.subarray(10), rows: 1000, cols: 2 };
    const got = await runTrainingThread('robust_zscore', {}, x, roomy);
    expect(got.trainedRows).toBe(1000);
    expect(whole.length).toBe(2010);
  });

  it('passes a rejection through as TrainingRejected', async () => {
    await expect(runTrainingThread('isolation_forest', {}, matrix(3, 2), roomy)).rejects.toBeInstanceOf(
      TrainingRejected,
    );
  });

  it('ends a thread that exceeds its heap cap with TrainingOutOfMemory, and the process lives on', async () => {
    // 1000 trees of 20000 samples: tens of millions of nodes, far beyond 64 MB.
    const err = await runTrainingThread(
      'isolation_forest',
      { nEstimators: 1000, maxSamples: 20_000 },
      matrix(20_000, 2),
      { memoryMb: 64, timeoutMs: 120_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingOutOfMemory);
    expect((err as Error).message).toContain('TRAINING_THREAD_MEMORY_MB=64');
  });

  it('stops a thread that runs past its time limit', async () => {
    const err = await runTrainingThread('isolation_forest', { nEstimators: 1000 }, matrix(50_000, 4), {
      memoryMb: 512,
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingTimedOut);
  });

  it('stops a thread when its signal is aborted, with the reason', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort('job cancelled'), 200);
    const err = await runTrainingThread('isolation_forest', { nEstimators: 1000 }, matrix(50_000, 4), {
      ...roomy,
      signal: ac.signal,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingAborted);
    expect((err as Error).message).toBe('job cancelled');
  });
});
