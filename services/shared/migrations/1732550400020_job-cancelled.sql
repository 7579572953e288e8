-- Up Migration
-- Jobs always end: a user may cancel one (queued|running → cancelled), and the last failure of a
-- job that is retried is kept in `reason` while it runs again (the state check allows it).
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
  CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
-- The reaper looks for running jobs by their last progress.
CREATE INDEX jobs_running_progress_idx ON jobs (updated_at) WHERE state = 'running';

-- Down Migration
DROP INDEX jobs_running_progress_idx;
UPDATE jobs SET state = 'failed', reason = coalesce(reason, 'cancelled') WHERE state = 'cancelled';
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'failed'));
