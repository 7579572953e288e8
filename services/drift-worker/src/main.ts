/** Drift worker entry point: telemetry first, then the rest is imported and started. */
// Only config and telemetry here: anything that loads pg or kafkajs must come after start.
import { loadConfigOrExit } from '@pynomaly/shared/config';
import { startTelemetry } from '@pynomaly/shared/telemetry';

const config = loadConfigOrExit('drift-worker');
const telemetry = startTelemetry({
  serviceName: 'pynomaly-drift-worker',
  serviceVersion: config.version,
  environment: config.environment,
  endpoint: config.otel.endpoint,
  metricExportIntervalMs: config.otel.metricExportIntervalMs,
  disabled: config.otel.disabled,
});
const { CONSUMER_GROUPS, repo, runWorker, ScrapeMetrics } = await import('@pynomaly/shared');
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
  scrape: (ctx) => {
    const scrape = new ScrapeMetrics({
      emitter: 'drift-worker',
      version: ctx.config.version,
      environment: ctx.config.environment,
      onCollectError: (metric, err) => ctx.logger.warn({ err, metric }, 'scrape gauge not collected'),
    });
    defineDriftGauges(scrape, () => repo.driftWindowSizes(ctx.pool));
    return scrape;
  },
});
