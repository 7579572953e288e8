// The e2e suite runs on a live local stack on the test port profile, started fresh and torn
// down afterwards so no process outlives the run (PYNOMALY_E2E_KEEP=1 keeps it for debugging).
import { containersMode, upContainers } from '../../compose/local/containers.js';
import { downStack, upStack } from '../../compose/local/stack.js';
import { assertNothingLeft } from '../support/leftovers.js';

export default async function setup(): Promise<() => Promise<void>> {
  if (containersMode()) {
    // The compose stack on the test ports, where a Docker engine exists (not run in this repo's CI).
    const stack = await upContainers();
    return async () => {
      if (process.env.PYNOMALY_E2E_KEEP !== '1') await stack.down();
    };
  }
  await upStack({ profile: 'test', fresh: true });
  return async () => {
    if (process.env.PYNOMALY_E2E_KEEP === '1') return;
    // Quiet: vitest's own summary stays the last thing the run prints.
    await downStack('test', { quiet: true });
    assertNothingLeft('test');
  };
}
