/**
 * Runs one training in a worker thread with a heap cap (resourceLimits), a time limit and an
 * abort signal (job cancelled, worker shutting down). Every way it can end is a distinct error, so
 * the handler can decide: a rejected request or an exhausted heap fails the job at once (retrying
 * cannot help), a timeout or a crashed thread spends one of the job's attempts.
 */
import { Worker } from 'node:worker_threads';
import type { Algorithm } from '@pynomaly/shared';
import type { Matrix } from '@pynomaly/algorithms';
import { TrainingRejected, type TrainedModel } from './train.js';
import type { ThreadReply, ThreadRequest } from './train-thread.js';

export { TrainingRejected };

/** The thread ran out of its heap cap: the same data and parameters will again. */
export class TrainingOutOfMemory extends Error {
  override readonly name = 'TrainingOutOfMemory';
}
export class TrainingTimedOut extends Error {
  override readonly name = 'TrainingTimedOut';
}
/** Stopped on purpose (cancelled job, shutdown); `reason` says which. */
export class TrainingAborted extends Error {
  override readonly name = 'TrainingAborted';
}
export class TrainingThreadCrashed extends Error {
  override readonly name = 'TrainingThreadCrashed';
}

export interface ThreadLimits {
  memoryMb: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

const BOOT = new URL('./train-thread-boot.mjs', import.meta.url);
const ENTRY = new URL('./train-thread.ts', import.meta.url).href;

/**
 * The matrix's buffer is transferred to the thread when it owns it whole (no copy); a view into a
 * larger buffer is copied first, since transferring would detach its neighbours. Either way the
 * caller must not use `x` afterwards.
 */
export function runTrainingThread(
  algorithm: Algorithm,
  parameters: Record<string, unknown>,
  x: Matrix,
  limits: ThreadLimits,
): Promise<TrainedModel> {
  if (limits.signal?.aborted) return Promise.reject(new TrainingAborted(String(limits.signal.reason ?? 'aborted')));
  const owned = x.data.byteOffset === 0 && x.data.byteLength === x.data.buffer.byteLength;
  const data = owned ? x.data : x.data.slice();
  const worker = new Worker(BOOT, {
    workerData: { entry: ENTRY },
    resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb },
  });
  return new Promise<TrainedModel>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => finish(() => reject(new TrainingTimedOut(`training did not finish within ${limits.timeoutMs / 1000} s`))),
      limits.timeoutMs,
    );
    const onAbort = () => finish(() => reject(new TrainingAborted(String(limits.signal?.reason ?? 'aborted'))));
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: ThreadReply) =>
      finish(() => {
        if (reply.ok) resolve(reply.result);
        else if (reply.rejected) reject(new TrainingRejected(reply.message));
        else reject(new TrainingThreadCrashed(reply.message));
      }),
    );
    worker.once('error', (err: Error & { code?: string }) =>
      finish(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new TrainingOutOfMemory(
                `training needs more memory than a training thread may use (TRAINING_THREAD_MEMORY_MB=${limits.memoryMb})`,
              )
            : new TrainingThreadCrashed(`training thread failed: ${err.message}`),
        ),
      ),
    );
    worker.once('exit', (code) =>
      finish(() => reject(new TrainingThreadCrashed(`training thread exited with code ${code} before answering`))),
    );
    const request: ThreadRequest = { algorithm, parameters, data, rows: x.rows, cols: x.cols };
    worker.postMessage(request, [data.buffer as ArrayBuffer]);
  });
}
