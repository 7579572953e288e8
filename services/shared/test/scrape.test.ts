import { describe, expect, it } from 'vitest';
import { ScrapeMetrics, sharedSnapshot } from '../src/metrics/scrape.js';

describe('ScrapeMetrics', () => {
  it('refuses metrics the catalog does not give this emitter', () => {
    const s = new ScrapeMetrics({
      emitter: 'training-worker',
      version: 't',
      environment: 'test',
      runtimeMetrics: false,
    });
    expect(() => s.define('pynomaly_datasets', () => {})).toThrow(/not emitted by training-worker/);
    expect(() => s.define('pynomaly.detection.rows', () => {})).toThrow(/not a scrape gauge/);
    expect(() => s.define('no_such_metric', () => {})).toThrow(/not in the catalog/);
  });

  it('leaves out a gauge whose source fails instead of failing the scrape', async () => {
    const errors: string[] = [];
    const s = new ScrapeMetrics({
      emitter: 'drift-worker',
      version: 't',
      environment: 'test',
      runtimeMetrics: false,
      onCollectError: (m) => errors.push(m),
    });
    let fail = false;
    s.define('pynomaly_drift_window_rows', (g) => {
      if (fail) throw new Error('database down');
      g.set({ detector_id: 'd1' }, 7);
    });
    expect((await s.render('all', undefined)).body).toContain('pynomaly_drift_window_rows{detector_id="d1"} 7');
    fail = true;
    const { body } = await s.render('all', undefined);
    expect(body).not.toContain('detector_id="d1"');
    expect(body).toContain('pynomaly_build_info{service="drift-worker"');
    expect(errors).toEqual(['pynomaly_drift_window_rows']);
  });

  it('shares one load among the gauges of a scrape', async () => {
    let loads = 0;
    const snap = sharedSnapshot(async () => ++loads, 60_000);
    expect(await Promise.all([snap(), snap(), snap()])).toEqual([1, 1, 1]);
  });
});
