// Hot-path counters summed in the process and reported at collection (an observable counter):
// the same cumulative series a synchronous counter gives, bounded in attribute sets.
import { DataPointType, MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import type { ObservableResult } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createInstruments, SummedCounter } from '../src/metrics/instruments.js';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

function observed(c: SummedCounter) {
  const out: [number, unknown][] = [];
  c.observe({ observe: (v: number, a: unknown) => out.push([v, a]) } as unknown as ObservableResult);
  return out;
}

describe('SummedCounter', () => {
  it('sums adds per key and reports each attribute set with its running total', () => {
    const c = new SummedCounter();
    c.add(100, { detector_id: 'a' }, 'a');
    c.add(50, { detector_id: 'b' }, 'b');
    c.add(25, { detector_id: 'a' }, 'a');
    expect(observed(c)).toEqual([
      [125, { detector_id: 'a' }],
      [50, { detector_id: 'b' }],
    ]);
    c.add(1, { detector_id: 'b' }, 'b');
    expect(observed(c)[1]).toEqual([51, { detector_id: 'b' }]);
  });

  it('past its limit of attribute sets, adds go to one overflow series', () => {
    const c = new SummedCounter(2);
    for (const id of ['a', 'b', 'c', 'd']) c.add(1, { detector_id: id }, id);
    c.add(5, { detector_id: 'a' }, 'a');
    expect(observed(c)).toEqual([
      [6, { detector_id: 'a' }],
      [1, { detector_id: 'b' }],
      [2, { 'otel.metric.overflow': true }],
    ]);
  });

  it('reaches the SDK as a cumulative monotonic sum, like a synchronous counter', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const inst = createInstruments(provider.getMeter('test'));
    inst.detectionRows.add(100, { detector_id: 'd1' }, 'd1');
    inst.detectionRows.add(100, { detector_id: 'd1' }, 'd1');
    const first = await reader.collect();
    inst.detectionRows.add(7, { detector_id: 'd1' }, 'd1');
    const second = await reader.collect();
    const rows = (r: typeof first) =>
      r.resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'pynomaly.detection.rows') as SumMetricData;
    expect(rows(first).dataPointType).toBe(DataPointType.SUM);
    expect(rows(first).isMonotonic).toBe(true);
    expect(rows(first).dataPoints.map((p) => [p.value, p.attributes])).toEqual([[200, { detector_id: 'd1' }]]);
    expect(rows(second).dataPoints.map((p) => p.value)).toEqual([207]);
    await provider.shutdown();
  });
});
