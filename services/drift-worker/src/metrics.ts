import { sharedSnapshot, type ScrapeMetrics } from '@pynomaly/shared';

/** The drift worker's scrape gauges, read from the persisted windows at scrape time. */
export function defineDriftGauges(
  scrape: ScrapeMetrics,
  load: () => Promise<{ detectorId: string; rows: number }[]>,
): void {
  const sizes = sharedSnapshot(load);
  scrape.define('pynomaly_drift_window_rows', async (g) => {
    g.reset();
    for (const s of await sizes()) g.set({ detector_id: s.detectorId }, s.rows);
  });
}
