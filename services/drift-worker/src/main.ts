/** Drift worker entry point: telemetry first, then the rest is imported and started. */
// Only the boot module here: anything that loads pg or kafkajs must come after telemetry starts.
import { boot } from '@pynomaly/shared/boot';

const { config, telemetry } = boot('drift-worker');
const { CONSUMER_GROUPS, repo, runWorker } = await import('@pynomaly/shared');
const { driftHandler } = await import('./handler.js');
const { defineDriftGauges } = await import('./metrics.js');

await runWorker(config, telemetry, {
  groupId: CONSUMER_GROUPS.driftWorker,
  subscribe: (topics) => [topics['detections.scored'], topics['training.completed']],
  handler: (ctx) =>
    driftHandler({
      pool: ctx.pool,
      topics: ctx.topics,
      logger: ctx.logger,
      windowSize: ctx.config.drift.windowSize,
      onEnqueued: () => ctx.relay.notify(),
    }),
  gauges: (scrape, ctx) => defineDriftGauges(scrape, () => repo.driftWindowSizes(ctx.pool)),
});
