import type { ScrapeMetrics } from '@pynomaly/shared';

/** The training worker's scrape gauges (besides build info, which ScrapeMetrics always serves). */
export function defineTrainingGauges(scrape: ScrapeMetrics, inProgress: { value: number }): void {
  scrape.define('pynomaly_training_in_progress', (g) => g.set(inProgress.value));
}
