// A /detect larger than one event on the live stack: its rows are queued as several
// detections.scored events in one statement (all or none), in order, and the drift worker
// windows every row of them.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../compose/local/stack.js';
import { ApiClient } from '../../testkit/api-client.js';
import { eventually } from '../support/stack-clients.js';
import { makeRows, seededRandom, trainDetector } from '../../testkit/traffic.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);
const WINDOW = Number(process.env.DRIFT_WINDOW_SIZE ?? 200);
const db = new pg.Pool({ connectionString: e.databaseUrl, max: 2 });
db.on('error', () => undefined);

afterAll(async () => {
  await db.end();
});

describe('a /detect larger than one event', () => {
  it('is queued as several detections.scored events holding every row once, in order, and all of them are windowed', async () => {
    const d = await trainDetector(api, { name: `detect-events-${Date.now()}`, seed: 73, trainingRows: 500 });
    const rows = makeRows(10 * WINDOW + 3000, seededRandom(74));
    const answer = await api.expect<{ scores: number[] }>(200, 'POST', `/api/v1/detectors/${d.detectorId}/detect`, {
      rows,
    });
    expect(answer.body.scores).toHaveLength(rows.length);
    const queued = (
      await db.query<{ value: string }>(
        `SELECT value FROM outbox WHERE key = $1 AND value::jsonb->>'type' = 'detections.scored' ORDER BY id`,
        [d.detectorId],
      )
    ).rows.map((r) => JSON.parse(r.value) as { payload: { rows: number[][]; scores: number[] } });
    console.log(
      `${rows.length} rows queued as ${queued.length} events of ${queued.map((q) => q.payload.rows.length).join(', ')} rows`,
    );
    expect(queued.length).toBeGreaterThan(1);
    expect(queued.flatMap((q) => q.payload.rows)).toEqual(rows);
    expect(queued.flatMap((q) => q.payload.scores)).toEqual(answer.body.scores);
    const due = Math.floor(rows.length / WINDOW);
    const reports = await eventually(
      `${due} drift reports`,
      async () => {
        const n = Number(
          (await db.query('SELECT count(*) AS n FROM drift_reports WHERE detector_id = $1', [d.detectorId])).rows[0].n,
        );
        return n >= due ? n : undefined;
      },
      90_000,
    );
    expect(reports).toBe(due);
  });
});
