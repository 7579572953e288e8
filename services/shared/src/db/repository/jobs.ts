/** Training jobs and their state machine: queued → running → succeeded | failed. */
import type { Queryable } from '../pool.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  id: string;
  type: 'training';
  detectorId: string;
  state: JobState;
  reason: string | null;
  modelId: string | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

const jobCols = `id, type, detector_id AS "detectorId", state, reason, model_id AS "modelId", attempts,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt", updated_at AS "updatedAt"`;

export async function insertJob(q: Queryable, j: { id: string; detectorId: string; type?: 'training' }): Promise<Job> {
  const r = await q.query<Job>(
    `INSERT INTO jobs (id, type, detector_id, state) VALUES ($1, $2, $3, 'queued') RETURNING ${jobCols}`,
    [j.id, j.type ?? 'training', j.detectorId],
  );
  return r.rows[0]!;
}

export async function getJob(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(`SELECT ${jobCols} FROM jobs WHERE id = $1`, [id]);
  return r.rows[0];
}

/**
 * queued|running → running. Returns undefined when the job is already finished (a redelivered
 * event), which callers treat as "nothing to do". Re-entering running is allowed so a worker that
 * crashed mid-training can be replaced.
 */
export async function markJobRunning(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'running', started_at = now(), attempts = attempts + 1, updated_at = now()
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id],
  );
  return r.rows[0];
}

export async function markJobSucceeded(q: Queryable, id: string, modelId: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'succeeded', model_id = $2, finished_at = now(), updated_at = now(), reason = NULL
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id, modelId],
  );
  return r.rows[0];
}

export async function markJobFailed(q: Queryable, id: string, reason: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'failed', reason = $2, finished_at = now(), updated_at = now()
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id, reason.slice(0, 2000)],
  );
  return r.rows[0];
}
