// The capacity model of docs/scaling.md: how many of each part serve a target load, computed
// from the figures of the last bench run. The bench rewrites the block between the markers in
// docs/scaling.md after every run that measured the inputs; a unit test checks that the block
// is the one the current bench/results/latest.json gives, so the numbers quoted are the ones
// last measured.
import type { Report } from './report.js';

export const CAPACITY_BEGIN = '<!-- capacity-model:begin (written by npm run bench from bench/results/latest.json) -->';
export const CAPACITY_END = '<!-- capacity-model:end -->';

/** The load the model is sized for. */
export const TARGET = { rowsPerS: 1_000_000, detectors: 10_000, rowsPerRequest: 100 };
/** Parts run at this share of their measured capacity (room for bursts, rebalances, restarts). */
export const HEADROOM = 0.6;
/** Partitions per drift worker, so the group can grow without repartitioning. */
const PARTITIONS_PER_WORKER = 2;
const KAFKA_RETENTION_DAYS = 7;

/** The figures the model reads; a run without all of them leaves the block as it is. */
export const CAPACITY_INPUTS = [
  'pipeline.rows_per_s',
  'pipeline.scale.drift_workers',
  'api.detect.rows_per_s',
  'api.detect.spans_per_request',
  'collector.spans_per_s.limit',
  'pipeline.kafka_bytes_per_row',
  'pipeline.postgres_bytes_per_row',
  'prometheus.series_per_detector',
] as const;

/** Three significant digits, integers above 1000 (as the report prints them). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

const bytes = (b: number): string => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) {
    b /= 1000;
    i++;
  }
  return `${Number(b.toPrecision(3))} ${units[i]}`;
};

function figure(r: Report, name: string): { value: number; baseline: number | null; ratio: number | null } | undefined {
  const f = r.figures.find((x) => x.name === name);
  if (!f || f.value === null || !Number.isFinite(f.value)) return undefined;
  return { value: f.value, baseline: f.baseline, ratio: f.ratio };
}

/** The model as markdown, or undefined when the report lacks an input. */
export function capacityModel(r: Report): string | undefined {
  const got = Object.fromEntries(CAPACITY_INPUTS.map((n) => [n, figure(r, n)]));
  if (CAPACITY_INPUTS.some((n) => !got[n])) return undefined;
  const rowsPerWorker = got['pipeline.rows_per_s']!.value;
  const scale = got['pipeline.scale.drift_workers']!.ratio ?? NaN;
  const rowsPerApi = got['api.detect.rows_per_s']!.value;
  const spansPerRequest = got['api.detect.spans_per_request']!.value;
  const spansPerCore = got['collector.spans_per_s.limit']!.baseline ?? NaN;
  const kafkaBytes = got['pipeline.kafka_bytes_per_row']!.value;
  const pgBytes = got['pipeline.postgres_bytes_per_row']!.value;
  const series = got['prometheus.series_per_detector']!.value;

  const workers = Math.ceil(TARGET.rowsPerS / (rowsPerWorker * HEADROOM));
  const partitions = workers * PARTITIONS_PER_WORKER;
  const apis = Math.ceil(TARGET.rowsPerS / (rowsPerApi * HEADROOM));
  const spansPerS = (TARGET.rowsPerS / TARGET.rowsPerRequest) * spansPerRequest;
  const collectorCores = Math.ceil(spansPerS / (spansPerCore * HEADROOM));
  const kafkaPerS = TARGET.rowsPerS * kafkaBytes;
  const pgPerS = TARGET.rowsPerS * pgBytes;
  const totalSeries = TARGET.detectors * series;

  const lines = [
    CAPACITY_BEGIN,
    '',
    `Measured on ${r.date.slice(0, 10)} (\`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\`, ${r.machine.cores} cores (${r.machine.cpuModel}) shared with the whole stack; figures differ between CPUs, so compare runs on one machine):`,
    '',
    '| input | measured | figure |',
    '|---|---|---|',
    `| rows/s one drift worker turns into reports | ${fmt(rowsPerWorker)} | \`pipeline.rows_per_s\` |`,
    `| rows/s with two drift workers ÷ with one (same machine) | ${fmt(scale)} | \`pipeline.scale.drift_workers\` |`,
    `| rows/s one API process scores through \`/detect\` (100-row calls, telemetry on) | ${fmt(rowsPerApi)} | \`api.detect.rows_per_s\` |`,
    `| spans per 100-row \`/detect\` call, all services | ${fmt(spansPerRequest)} | \`api.detect.spans_per_request\` |`,
    `| spans/s one Collector core accepts | ${fmt(spansPerCore)} | \`collector.spans_per_s.limit\` |`,
    `| bytes per row in \`detections.scored\` | ${fmt(kafkaBytes)} | \`pipeline.kafka_bytes_per_row\` |`,
    `| bytes of drift report per evaluated row in Postgres | ${fmt(pgBytes)} | \`pipeline.postgres_bytes_per_row\` |`,
    `| Prometheus series per detector | ${fmt(series)} | \`prometheus.series_per_detector\` |`,
    '',
    `For ${fmt(TARGET.rowsPerS)} rows/s from ${fmt(TARGET.detectors)} detectors, each part at ${HEADROOM * 100} % of its measured capacity:`,
    '',
    '| part | how many | from |',
    '|---|---|---|',
    `| drift workers (one core each) | ${fmt(workers)} | ${fmt(TARGET.rowsPerS)} ÷ (${fmt(rowsPerWorker)} × ${HEADROOM}) |`,
    `| \`detections.scored\` partitions | ${fmt(partitions)} | ${PARTITIONS_PER_WORKER} per drift worker |`,
    `| API processes (one core each) | ${fmt(apis)} | ${fmt(TARGET.rowsPerS)} ÷ (${fmt(rowsPerApi)} × ${HEADROOM}) |`,
    `| spans/s into the Collector tier | ${fmt(spansPerS)} | ${fmt(TARGET.rowsPerS / TARGET.rowsPerRequest)} calls/s × ${fmt(spansPerRequest)} |`,
    `| Collector gateway cores | ${fmt(collectorCores)} | ${fmt(spansPerS)} ÷ (${fmt(spansPerCore)} × ${HEADROOM}) |`,
    `| Kafka write rate (\`detections.scored\`, before replication) | ${bytes(kafkaPerS)}/s | ${fmt(TARGET.rowsPerS)} × ${fmt(kafkaBytes)} B |`,
    `| Kafka storage for ${KAFKA_RETENTION_DAYS} days' retention (before replication) | ${bytes(kafkaPerS * 86_400 * KAFKA_RETENTION_DAYS)} | × ${KAFKA_RETENTION_DAYS} days |`,
    `| Postgres drift-report growth | ${bytes(pgPerS * 86_400)}/day | ${fmt(TARGET.rowsPerS)} × ${fmt(pgBytes)} B |`,
    `| Prometheus series with a \`detector_id\` | ${fmt(totalSeries)} | ${fmt(TARGET.detectors)} × ${fmt(series)} |`,
    '',
    CAPACITY_END,
  ];
  return lines.join('\n');
}

/** `doc` with its capacity block replaced by the model of `r` (unchanged if it lacks inputs). */
export function withCapacityModel(doc: string, r: Report): string {
  const model = capacityModel(r);
  const a = doc.indexOf(CAPACITY_BEGIN);
  const b = doc.indexOf(CAPACITY_END);
  if (!model || a < 0 || b < a) return doc;
  return doc.slice(0, a) + model + doc.slice(b + CAPACITY_END.length);
}
