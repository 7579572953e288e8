// docs/scaling.md quotes the figures of the last bench run: its capacity block must be the one
// bench/results/latest.json gives (npm run bench rewrites it; a hand edit or a stale block fails).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CAPACITY_BEGIN,
  CAPACITY_END,
  CAPACITY_INPUTS,
  capacityModel,
  HEADROOM,
  TARGET,
  withCapacityModel,
} from '../lib/capacity.js';
import type { Figure, Report } from '../lib/report.js';

const root = join(import.meta.dirname, '..', '..');

function report(values: Record<string, Partial<Figure>>): Report {
  return {
    date: '2026-12-01T00:00:00.000Z',
    mode: 'quick',
    durationS: 1,
    machine: { cores: 2, cpuModel: 'x', memoryGiB: 1, node: 'v20', platform: 'linux x64' },
    versions: {},
    figures: Object.entries(values).map(([name, f]) => ({
      name,
      value: null,
      unit: '',
      baseline: null,
      baselineLabel: '',
      ratio: null,
      goal: '',
      met: null,
      ...f,
    })),
    sections: [],
    profiles: [],
  };
}

const inputs = {
  'pipeline.rows_per_s': { value: 20_000 },
  'pipeline.scale.drift_workers': { value: 30_000, ratio: 1.5 },
  'api.detect.rows_per_s': { value: 5_000 },
  'api.detect.spans_per_request': { value: 12 },
  'collector.spans_per_s.limit': { value: 80_000, baseline: 50_000 },
  'pipeline.kafka_bytes_per_row': { value: 100 },
  'pipeline.postgres_bytes_per_row': { value: 10 },
  'prometheus.series_per_detector': { value: 40 },
};

describe('capacity model', () => {
  it('sizes each part from the measured figures with the stated headroom', () => {
    const model = capacityModel(report(inputs))!;
    const workers = Math.ceil(TARGET.rowsPerS / (20_000 * HEADROOM));
    expect(model).toContain(`| drift workers (one core each) | ${workers} |`);
    expect(model).toContain(`| \`detections.scored\` partitions | ${workers * 2} |`);
    expect(model).toContain(`| API processes (one core each) | ${Math.ceil(TARGET.rowsPerS / (5_000 * HEADROOM))} |`);
    const spans = (TARGET.rowsPerS / 100) * 12;
    expect(model).toContain(`| Collector gateway cores | ${Math.ceil(spans / (50_000 * HEADROOM))} |`);
    expect(model).toContain('| Kafka write rate (`detections.scored`, before replication) | 100 MB/s |');
    expect(model).toContain('| Prometheus series with a `detector_id` | 400,000 |');
  });

  it('leaves the document alone when a run did not measure every input', () => {
    const partial = Object.fromEntries(Object.entries(inputs).slice(1));
    const doc = `a\n${CAPACITY_BEGIN}\nold\n${CAPACITY_END}\nb\n`;
    expect(capacityModel(report(partial))).toBeUndefined();
    expect(withCapacityModel(doc, report(partial))).toBe(doc);
    expect(withCapacityModel(doc, report(inputs))).toBe(`a\n${capacityModel(report(inputs))}\nb\n`);
  });

  it('docs/scaling.md quotes the figures of bench/results/latest.json', () => {
    const latest = JSON.parse(readFileSync(join(root, 'bench', 'results', 'latest.json'), 'utf8')) as Report;
    const missing = CAPACITY_INPUTS.filter((n) => !latest.figures.some((f) => f.name === n && f.value !== null));
    expect(missing, 'figures the capacity model needs, missing from the last bench run').toEqual([]);
    const doc = readFileSync(join(root, 'docs', 'scaling.md'), 'utf8');
    const block = doc.slice(doc.indexOf(CAPACITY_BEGIN), doc.indexOf(CAPACITY_END) + CAPACITY_END.length);
    expect(block).toBe(capacityModel(latest));
  });
});
