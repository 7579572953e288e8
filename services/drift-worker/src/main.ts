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
const { CONSUMER_GROUPS, repo, runWorker, ScrapeMetrics, sharedSnapshot } = await import('@pynomaly/shared');
const { driftHandler } = await import('./handler.js');

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
    const scrape = new ScrapeMetrics({ emitter: 'drift-worker', version: ctx.config.version, environment: ctx.config.environment });
    const sizes = sharedSnapshot(() => repo.driftWindowSizes(ctx.pool));
    scrape.define('pynomaly_drift_window_rows', async (g) => {
      g.reset();
      for (const s of await sizes()) g.set({ detector_id: s.detectorId }, s.rows);
    });
    return scrape;
  },
});
