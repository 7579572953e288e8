// Sends traffic to a running API: trains a detector, streams normal rows, then (with --drift)
// drifted rows, and prints what was sent and accepted.
//   npx tsx scripts/traffic.ts --api http://127.0.0.1:8000 --key pynomaly-dev-key --rate 50 --seconds 60 --drift 60
import { parseArgs } from 'node:util';
import { describeCounts, runTraffic } from '../testkit/traffic.js';

const usage = `usage: tsx scripts/traffic.ts [--api URL] [--key KEY] [--rate ROWS_PER_S] [--seconds N] [--drift N] [--detector ID] [--seed N]
  --api       API base URL (default $PYNOMALY_API_URL or http://127.0.0.1:8000)
  --key       API key (default $PYNOMALY_API_KEY or pynomaly-dev-key)
  --rate      rows per second sent to the detect endpoint (default 50)
  --seconds   seconds of normal rows (default 30)
  --drift     seconds of drifted rows afterwards (default 0; bare --drift = same as --seconds)
  --detector  stream to this detector instead of training a new one
  --seed      data seed (default 1)`;

function positive(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    console.error(
      `--${name}: ${JSON.stringify(raw)} is not a ${allowZero ? 'non-negative' : 'positive'} number\n${usage}`,
    );
    process.exit(2);
  }
  return v;
}

// A bare `--drift` (followed by another flag or nothing) means "as long as the normal phase".
const argv = process.argv.slice(2);
const di = argv.indexOf('--drift');
if (di >= 0 && (di === argv.length - 1 || argv[di + 1]!.startsWith('--'))) argv.splice(di + 1, 0, 'same');

const { values } = parseArgs({
  args: argv,
  options: {
    api: { type: 'string' },
    key: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    drift: { type: 'string' },
    detector: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const seconds = positive('seconds', values.seconds, 30);
const report = await runTraffic({
  apiUrl: values.api ?? process.env.PYNOMALY_API_URL ?? 'http://127.0.0.1:8000',
  apiKey: values.key ?? process.env.PYNOMALY_API_KEY ?? 'pynomaly-dev-key',
  rate: positive('rate', values.rate, 50),
  seconds,
  driftSeconds: values.drift === 'same' ? seconds : positive('drift', values.drift, 0, true),
  detectorId: values.detector,
  seed: positive('seed', values.seed, 1),
  log: (line) => console.log(line),
});
console.log(`detector ${report.detector.detectorId}`);
console.log(`total: ${describeCounts(report.total)}`);
process.exit(report.total.statuses[0] || Object.keys(report.total.statuses).some((s) => Number(s) >= 500) ? 1 : 0);
