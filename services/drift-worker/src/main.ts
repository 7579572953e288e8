/** Drift worker entry point: telemetry first, then the rest is imported and started. */
// Only the boot module here: anything that loads pino (the logger, the worker) must come after telemetry starts.
import { boot } from '@pynomaly/shared/boot';
import type { WorkerContext } from '@pynomaly/shared';

const { config, telemetry } = boot('drift-worker');
const { CONSUMER_GROUPS, repo, runWorker } = await import('@pynomaly/shared');
const { DriftModels, driftBatchHandler, driftHandler } = await import('./handler.js');
const { defineDriftGauges } = await import('./metrics.js');

const models = new DriftModels(config.drift.modelCacheBytes);
const deps = (ctx: WorkerContext) => ({
  pool: ctx.pool,
  topics: ctx.topics,
  logger: ctx.logger,
  windowSize: ctx.config.drift.windowSize,
  models,
  onEnqueued: () => ctx.relay.notify(),
});

await runWorker(config, telemetry, {
  groupId: CONSUMER_GROUPS.driftWorker,
  subscribe: (topics) => [topics['detections.scored'], topics['training.completed']],
  handler: (ctx) => driftHandler(deps(ctx)),
  batch: (ctx) => ({
    handler: driftBatchHandler(deps(ctx)),
    topics: new Set([ctx.topics['detections.scored']]),
    maxMessages: ctx.config.drift.batchMaxMessages,
  }),
  gauges: (scrape, ctx) => defineDriftGauges(scrape, () => repo.driftWindowSizes(ctx.pool)),
});
