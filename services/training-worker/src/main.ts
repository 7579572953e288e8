/** Training worker entry point: telemetry first, then the rest is imported and started. */
// Only config and telemetry here: anything that loads fastify, pg or kafkajs must come after start.
import { loadConfigOrExit } from '@pynomaly/shared/config';
import { startTelemetry } from '@pynomaly/shared/telemetry';

const config = loadConfigOrExit('training-worker');
const telemetry = startTelemetry({
  serviceName: 'pynomaly-training-worker',
  serviceVersion: config.version,
  environment: config.environment,
  endpoint: config.otel.endpoint,
  metricExportIntervalMs: config.otel.metricExportIntervalMs,
  disabled: config.otel.disabled,
});
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
