import { describe, expect, it } from 'vitest';
import { METRICS } from '../../services/shared/src/metrics/catalog.js';
import { renderMetricsDoc } from '../../scripts/generators/metrics-doc.js';

describe('docs/metrics.md', () => {
  it('has one table row per catalog metric, under its Prometheus name', () => {
    const doc = renderMetricsDoc();
    for (const m of METRICS) {
      const rows = doc.split('\n').filter((l) => l.startsWith(`| \`${m.promName}\``));
      expect(rows, m.promName).toHaveLength(1);
      expect(rows[0], m.promName).toContain(`| ${m.kind} |`);
    }
  });
});
