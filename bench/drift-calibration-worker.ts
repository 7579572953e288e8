// Worker thread of drift.calibration: runs the Monte Carlo units (lib/drift-trial.ts) it is sent.
import { parentPort } from 'node:worker_threads';
import { runTrial, type TrialJob } from './lib/drift-trial.js';

if (!parentPort) throw new Error('drift-calibration-worker must run in a worker thread');
const port = parentPort;
port.on('message', (msg: { id: number; job: TrialJob }) => {
  try {
    port.postMessage({ id: msg.id, result: runTrial(msg.job) });
  } catch (err) {
    port.postMessage({ id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
