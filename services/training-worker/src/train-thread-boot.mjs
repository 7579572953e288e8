// First module of a training thread. A worker thread does not inherit the parent's `--import tsx`
// hooks for its entry point, so it registers tsx itself and then loads the TypeScript entry: the
// same in the local stack, the production image (both run `node --import tsx`) and the unit tests.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
