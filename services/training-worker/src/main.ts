/** Training worker entry point: telemetry first, then the rest is imported and started. */
// Only the boot module here: anything that loads pg or kafkajs must come after telemetry starts.
import { boot } from '@pynomaly/shared/boot';

const { config, telemetry } = boot('training-worker');
const { CONSUMER_GROUPS, runWorker } = await import('@pynomaly/shared');
const { trainingHandler } = await import('./handler.js');
const { defineTrainingGauges } = await import('./metrics.js');

const inProgress = { value: 0 };
await runWorker(config, telemetry, {
  groupId: CONSUMER_GROUPS.trainingWorker,
  subscribe: (topics) => [topics['training.requested']],
  handler: (ctx) =>
    trainingHandler({
      pool: ctx.pool,
      topics: ctx.topics,
      logger: ctx.logger,
      onEnqueued: () => ctx.relay.notify(),
      inProgress,
    }),
  gauges: (scrape) => defineTrainingGauges(scrape, inProgress),
});
