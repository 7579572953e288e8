/**
 * Body of a training thread: receives one training request (the dataset's Float64Array is
 * transferred, not copied), runs the pure trainModel and posts the result back. Runs off the
 * consumer's event loop, so Kafka heartbeats and the probes are served while it computes.
 */
import { parentPort } from 'node:worker_threads';
import type { Algorithm } from '@pynomaly/shared';
import { trainModel, TrainingRejected } from './train.js';

export interface ThreadRequest {
  algorithm: Algorithm;
  parameters: Record<string, unknown>;
  data: Float64Array;
  rows: number;
  cols: number;
}

export type ThreadReply =
  { ok: true; result: ReturnType<typeof trainModel> } | { ok: false; rejected: boolean; message: string };

const port = parentPort;
if (!port) throw new Error('train-thread.ts runs only as a worker thread');

port.once('message', (req: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    const result = trainModel(req.algorithm, req.parameters, { data: req.data, rows: req.rows, cols: req.cols });
    reply = { ok: true, result };
  } catch (err) {
    reply = { ok: false, rejected: err instanceof TrainingRejected, message: (err as Error).message };
  }
  port.postMessage(reply);
});
