import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../services/shared/src/metrics/catalog.js';
import { METRICS_DOC, renderMetricsDoc } from '../../scripts/render-metrics-doc.js';

describe('docs/metrics.md', () => {
  it('is the current catalog, rendered (regenerate: npx tsx scripts/render-metrics-doc.ts)', () => {
    expect(readFileSync(METRICS_DOC, 'utf8')).toBe(renderMetricsDoc());
  });

  it('has one table row per catalog metric, under its Prometheus name', () => {
    const doc = renderMetricsDoc();
    for (const m of METRICS) {
      const rows = doc.split('\n').filter((l) => l.startsWith(`| \`${m.promName}\``));
      expect(rows, m.promName).toHaveLength(1);
      expect(rows[0], m.promName).toContain(`| ${m.kind} |`);
    }
  });
});
