/** Training worker entry point: telemetry first, then the rest is imported and started. */
// Only the boot module here: anything that loads pino (the logger, the worker) must come after telemetry starts.
import { boot } from '@pynomaly/shared/boot';

const { config, telemetry } = boot('training-worker');
const { CONSUMER_GROUPS, runWorker } = await import('@pynomaly/shared');
const { failDeadLetteredJob, trainingHandler } = await import('./handler.js');
const { defineTrainingGauges } = await import('./metrics.js');
const { startJobReaper } = await import('./reaper.js');
const { Slots } = await import('./slots.js');

const inProgress = { value: 0 };
const slots = new Slots(config.training.concurrency);
// Aborted first at shutdown: running trainings stop and their jobs go back to the queue.
const shutdown = new AbortController();
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
      settings: ctx.config.training,
      slots,
      shutdown: shutdown.signal,
    }),
  onDeadLetter: (ctx) =>
    failDeadLetteredJob({ pool: ctx.pool, topics: ctx.topics, onEnqueued: () => ctx.relay.notify() }),
  tasks: (ctx) => [
    { name: 'training threads', run: () => shutdown.abort('worker shutting down') },
    startJobReaper({
      pool: ctx.pool,
      topics: ctx.topics,
      logger: ctx.logger,
      onEnqueued: () => ctx.relay.notify(),
      staleAfterSeconds: ctx.config.training.staleAfterSeconds,
      intervalMs: ctx.config.training.reaperIntervalMs,
    }),
  ],
  gauges: (scrape) => defineTrainingGauges(scrape, inProgress),
});
