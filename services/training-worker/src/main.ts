/** Training worker entry point: telemetry first, then the rest is imported and started. */
// Only the boot module here: anything that loads pg or kafkajs must come after telemetry starts.
import { boot } from '@pynomaly/shared/boot';

const { config, telemetry } = boot('training-worker');
const { CONSUMER_GROUPS, runWorker, ScrapeMetrics } = await import('@pynomaly/shared');
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
  scrape: (ctx) => {
    const scrape = new ScrapeMetrics({
      emitter: 'training-worker',
      version: ctx.config.version,
      environment: ctx.config.environment,
      onCollectError: (metric, err) => ctx.logger.warn({ err, metric }, 'scrape gauge not collected'),
    });
    defineTrainingGauges(scrape, inProgress);
    return scrape;
  },
});
