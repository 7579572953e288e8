/**
 * Training jobs and their state machine (docs/architecture.md "Job states"):
 *
 *   queued → running → succeeded | failed | cancelled      (queued → cancelled too)
 *
 * Every transition is a conditional UPDATE on the current state, so concurrent workers, the
 * reaper and a user's cancel cannot both win: whoever updates the row first decides, the others
 * see no row and stand down. `attempts` counts claims (markJobRunning) durably, so a worker that
 * crashes mid-training still spends one.
 */
import type { Queryable } from '../pool.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
/** States a job never leaves. */
export const FINISHED_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

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
 * crashed mid-training can be replaced. The attempt is counted when training starts
 * (startJobAttempt), so a database outage while loading the data does not spend one.
 */
export async function markJobRunning(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'running', started_at = now(), updated_at = now()
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id],
  );
  return r.rows[0];
}

/**
 * Counts one attempt, durably, just before the training starts: a worker killed during it has
 * spent it. Undefined when the job is no longer running (cancelled or reaped meanwhile).
 */
export async function startJobAttempt(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET attempts = attempts + 1, updated_at = now() WHERE id = $1 AND state = 'running' RETURNING ${jobCols}`,
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

/**
 * A running job's heartbeat: records progress (what the reaper looks at) and tells the worker
 * whether to go on. False when the job is no longer running: cancelled, or reaped.
 */
export async function recordJobProgress(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`UPDATE jobs SET updated_at = now() WHERE id = $1 AND state = 'running'`, [id]);
  return (r.rowCount ?? 0) > 0;
}

/** Keeps the reason of a failed attempt on a job that will be tried again (shown until it ends). */
export async function recordAttemptFailure(q: Queryable, id: string, reason: string): Promise<void> {
  await q.query(`UPDATE jobs SET reason = $2, updated_at = now() WHERE id = $1 AND state = 'running'`, [
    id,
    reason.slice(0, 2000),
  ]);
}

/**
 * running → queued, giving the attempt back (when one was started): the worker stopped the
 * training itself (shutdown), which says nothing about the job. False when the job is no longer running.
 */
export async function requeueJob(q: Queryable, id: string, giveBackAttempt = true): Promise<boolean> {
  const r = await q.query(
    `UPDATE jobs SET state = 'queued', attempts = greatest(attempts - $2, 0), updated_at = now()
     WHERE id = $1 AND state = 'running'`,
    [id, giveBackAttempt ? 1 : 0],
  );
  return (r.rowCount ?? 0) > 0;
}

/** queued|running → cancelled. Undefined when the job does not exist or has already finished. */
export async function cancelJob(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'cancelled', reason = 'cancelled on request', finished_at = now(), updated_at = now()
     WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${jobCols}`,
    [id],
  );
  return r.rows[0];
}

/**
 * The reaper's claim: running jobs without progress for `staleSeconds` become failed, at most
 * `limit` per call. Rows another transaction holds (a worker recording progress, another reaper)
 * are skipped rather than waited for, and the state is checked again under the lock, so several
 * workers may reap at once and each job is failed exactly once. Run it inside the transaction that
 * also enqueues the jobs' training.failed events.
 */
export async function reapStaleJobs(
  q: Queryable,
  staleSeconds: number,
  reason: (job: Job) => string,
  limit = 100,
): Promise<Job[]> {
  const stale = await q.query<Job>(
    `SELECT ${jobCols} FROM jobs
     WHERE state = 'running' AND updated_at < now() - make_interval(secs => $1)
     ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [staleSeconds, limit],
  );
  const reaped: Job[] = [];
  for (const job of stale.rows) {
    const r = await q.query<Job>(
      `UPDATE jobs SET state = 'failed', reason = $2, finished_at = now(), updated_at = now()
       WHERE id = $1 AND state = 'running' RETURNING ${jobCols}`,
      [job.id, reason(job).slice(0, 2000)],
    );
    if (r.rows[0]) reaped.push(r.rows[0]);
  }
  return reaped;
}

/** Where a listing page ends: the last row's creation time (to the microsecond) and id. */
export interface ListCursor {
  createdAt: string;
  id: string;
}

export interface JobFilter {
  state?: JobState | undefined;
  detectorId?: string | undefined;
  /** Created at or after. */
  createdFrom?: Date | undefined;
  /** Created before. */
  createdTo?: Date | undefined;
  after?: ListCursor | undefined;
  limit: number;
}

/** Postgres keeps microseconds, a Date only milliseconds: cursors carry the exact text. */
const exactTime = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Jobs newest first, filtered, one page at a time: returns up to `limit` rows and the cursor of
 * the next page (undefined on the last one). Keyset paging, so a page costs the same however deep.
 */
export async function listJobs(q: Queryable, f: JobFilter): Promise<{ items: Job[]; next: ListCursor | undefined }> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.state) where.push(`state = ${arg(f.state)}`);
  if (f.detectorId) where.push(`detector_id = ${arg(f.detectorId)}`);
  if (f.createdFrom) where.push(`created_at >= ${arg(f.createdFrom)}`);
  if (f.createdTo) where.push(`created_at < ${arg(f.createdTo)}`);
  if (f.after) where.push(`(created_at, id) < (${arg(f.after.createdAt)}::timestamptz, ${arg(f.after.id)}::uuid)`);
  const r = await q.query<Job & { cursorAt: string }>(
    `SELECT ${jobCols}, ${exactTime('created_at')} AS "cursorAt" FROM jobs
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT ${arg(f.limit + 1)}`,
    args,
  );
  const more = r.rows.length > f.limit;
  const rows = r.rows.slice(0, f.limit);
  const last = rows.at(-1);
  return {
    items: rows.map(({ cursorAt: _c, ...job }) => job),
    next: more && last ? { createdAt: last.cursorAt, id: last.id } : undefined,
  };
}

/** States a job may be retried from. */
export const RETRYABLE_JOB_STATES: readonly JobState[] = ['failed', 'cancelled'];

/**
 * failed|cancelled → queued with its attempts reset: an operator retries a job once its cause is
 * fixed. Undefined when the job does not exist or is not in a retryable state. Run it in the
 * transaction that enqueues the job's new training.requested event.
 */
export async function retryJob(q: Queryable, id: string): Promise<Job | undefined> {
  const r = await q.query<Job>(
    `UPDATE jobs SET state = 'queued', attempts = 0, reason = NULL, model_id = NULL, started_at = NULL,
       finished_at = NULL, updated_at = now()
     WHERE id = $1 AND state IN ('failed', 'cancelled') RETURNING ${jobCols}`,
    [id],
  );
  return r.rows[0];
}
