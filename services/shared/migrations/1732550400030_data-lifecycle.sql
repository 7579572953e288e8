-- Up Migration
-- Data lifecycle: the retention job deletes finished rows by age in bounded batches (these
-- indexes let each batch find its rows without scanning the table), records its last complete
-- run (alerted on when it falls behind), and remembers deleted detectors and models so events
-- still in flight for them are dropped instead of dead-lettered.
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_dead_idx ON outbox (dead_at) WHERE dead_at IS NOT NULL;
CREATE INDEX processed_events_age_idx ON processed_events (processed_at);
CREATE INDEX drift_reports_age_idx ON drift_reports (created_at);
CREATE INDEX drift_window_rows_model_idx ON drift_window_rows (model_id);
CREATE INDEX drift_reports_model_idx ON drift_reports (model_id);
CREATE INDEX jobs_model_idx ON jobs (model_id) WHERE model_id IS NOT NULL;

CREATE TABLE maintenance_runs (
  job text PRIMARY KEY,
  last_success_at timestamptz NOT NULL,
  last_deleted jsonb NOT NULL DEFAULT '{}'::jsonb
);
-- Counted from the install: a retention job that never completes a run alerts like one that stopped.
INSERT INTO maintenance_runs (job, last_success_at) VALUES ('retention', now());

CREATE TABLE deleted_resources (
  kind text NOT NULL CHECK (kind IN ('detector', 'model')),
  id uuid NOT NULL,
  deleted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, id)
);
CREATE INDEX deleted_resources_age_idx ON deleted_resources (deleted_at);

-- Down Migration
DROP TABLE deleted_resources;
DROP TABLE maintenance_runs;
DROP INDEX jobs_model_idx;
DROP INDEX drift_reports_model_idx;
DROP INDEX drift_window_rows_model_idx;
DROP INDEX drift_reports_age_idx;
DROP INDEX processed_events_age_idx;
DROP INDEX outbox_dead_idx;
DROP INDEX outbox_sent_idx;
