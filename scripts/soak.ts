/**
 * npm run soak [-- --minutes 10] [--horizon 120]: detect traffic against the local test stack with
 * retention shortened to `horizon` seconds; prints the table sizes every minute and checks that
 * they stay flat and that every drift window that was due was evaluated (testkit/soak.ts).
 * Starts the test stack when it is not running (and stops it afterwards); export
 * PYNOMALY_PORT_OFFSET first when others use the default ports.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { downStack, endpoints, stackStatus, upStack } from '../compose/local/stack.js';
import { ApiClient } from '../testkit/api-client.js';
import { formatSoakTable, restartApiWith, runSoak, soakRetentionEnv } from '../testkit/soak.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, horizon: { type: 'string', default: '120' } },
});
const minutes = Number(values.minutes);
const horizon = Number(values.horizon);
if (!(minutes > 0) || !(horizon > 0)) {
  console.error('--minutes and --horizon must be positive numbers');
  process.exit(2);
}
if (horizon * 1.25 >= minutes * 60) {
  console.error(`--horizon ${horizon}s leaves no time after the warm-up in ${minutes} minutes`);
  process.exit(2);
}

const env = soakRetentionEnv(horizon);
const running = (await stackStatus('test')).some((r) => r.component === 'api' && r.health === 'healthy');
for (const [k, v] of Object.entries(env)) process.env[k] = v;
if (running) await restartApiWith(env);
else await upStack({ profile: 'test', fresh: true });
const e = endpoints('test');
const db = new pg.Pool({ connectionString: e.databaseUrl, max: 2 });
db.on('error', () => undefined);
let ok = false;
try {
  console.log(
    `soak: ${minutes} min of detect traffic; ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  const r = await runSoak({
    api: new ApiClient(e.apiUrl, e.apiKey),
    db,
    seconds: minutes * 60,
    sampleEverySeconds: 60,
    horizonSeconds: horizon,
    windowSize: Number(process.env.DRIFT_WINDOW_SIZE ?? 200),
    log: (l) => console.log(l),
  });
  console.log(`\ntable sizes (rows), one line a minute:\n${formatSoakTable(r.samples)}\n`);
  for (const g of r.growth)
    console.log(`${g.table}: at most ${g.atWarmup} during the warm-up, at most ${g.max} after (allowed ${g.allowed})`);
  for (const d of r.detectors)
    console.log(
      `detector ${d.detectorId}: ${d.accepted} rows accepted = ${d.windowsCompleted} windows evaluated × ${process.env.DRIFT_WINDOW_SIZE ?? 200} + ${d.waiting} waiting (reports kept: ${d.reportsKept})`,
    );
  console.log(
    `detect statuses: ${r.traffic.map((t) => JSON.stringify(t.statuses)).join(' ')}; retention completed a run: ${r.retentionRan}`,
  );
  ok = r.flat && r.complete && r.retentionRan && r.traffic.every((t) => t.requestsAccepted === t.requestsSent);
  console.log(ok ? 'soak: PASS (flat, complete)' : `soak: FAIL (flat ${r.flat}, complete ${r.complete})`);
} finally {
  await db.end();
  if (running) await restartApiWith(Object.fromEntries(Object.keys(env).map((k) => [k, undefined])));
  else await downStack('test');
}
process.exit(ok ? 0 : 1);
