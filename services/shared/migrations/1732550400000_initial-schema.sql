-- Up Migration
-- The system of record. Rows of datasets are stored as little-endian float64 matrices (bytea,
-- row-major): exact, compact, and read straight into a Float64Array.

CREATE TABLE datasets (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  feature_names text[] NOT NULL CHECK (cardinality(feature_names) >= 1),
  row_count integer NOT NULL CHECK (row_count >= 1),
  data bytea NOT NULL,
  source_format text NOT NULL CHECK (source_format IN ('json', 'csv')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (octet_length(data) = row_count * cardinality(feature_names) * 8)
);

CREATE TABLE detectors (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  dataset_id uuid NOT NULL REFERENCES datasets (id),
  algorithm text NOT NULL CHECK (algorithm IN ('isolation_forest', 'robust_zscore')),
  parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
  drift_thresholds jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX detectors_dataset_idx ON detectors (dataset_id);

CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('training')),
  detector_id uuid NOT NULL REFERENCES detectors (id),
  state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  reason text,
  model_id uuid,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (state <> 'failed' OR reason IS NOT NULL)
);
CREATE INDEX jobs_detector_idx ON jobs (detector_id, created_at DESC);
CREATE INDEX jobs_state_idx ON jobs (state, type);

CREATE TABLE models (
  id uuid PRIMARY KEY,
  detector_id uuid NOT NULL REFERENCES detectors (id),
  version integer NOT NULL CHECK (version >= 1),
  job_id uuid NOT NULL UNIQUE REFERENCES jobs (id),
  algorithm text NOT NULL,
  feature_names text[] NOT NULL,
  threshold double precision NOT NULL,
  trained_rows integer NOT NULL,
  model jsonb NOT NULL,
  reference_profile jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (detector_id, version)
);

ALTER TABLE jobs ADD CONSTRAINT jobs_model_fk FOREIGN KEY (model_id) REFERENCES models (id);

-- Drift windows: the rows scored since the last report, per detector and model, persisted so a
-- worker restart loses nothing; processed_events makes a redelivered event a no-op.
CREATE TABLE drift_windows (
  detector_id uuid PRIMARY KEY REFERENCES detectors (id),
  model_id uuid NOT NULL REFERENCES models (id),
  windows_completed integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE drift_window_rows (
  seq bigserial PRIMARY KEY,
  detector_id uuid NOT NULL REFERENCES detectors (id),
  model_id uuid NOT NULL REFERENCES models (id),
  features double precision[] NOT NULL,
  score double precision NOT NULL,
  label smallint NOT NULL CHECK (label IN (0, 1))
);
CREATE INDEX drift_window_rows_detector_idx ON drift_window_rows (detector_id, model_id, seq);

CREATE TABLE processed_events (
  consumer_group text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, event_id)
);

CREATE TABLE drift_reports (
  id uuid PRIMARY KEY,
  detector_id uuid NOT NULL REFERENCES detectors (id),
  model_id uuid NOT NULL REFERENCES models (id),
  model_version integer NOT NULL,
  window_index integer NOT NULL,
  window_rows integer NOT NULL,
  dataset_drift boolean NOT NULL,
  drift_share double precision NOT NULL,
  score_drift boolean NOT NULL,
  anomaly_rate_drift boolean NOT NULL,
  result jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (detector_id, model_id, window_index)
);
CREATE INDEX drift_reports_detector_idx ON drift_reports (detector_id, created_at DESC);

CREATE TABLE alerts (
  id uuid PRIMARY KEY,
  fingerprint text NOT NULL,
  alertname text NOT NULL,
  status text NOT NULL CHECK (status IN ('firing', 'resolved')),
  severity text,
  labels jsonb NOT NULL,
  annotations jsonb NOT NULL,
  starts_at timestamptz,
  ends_at timestamptz,
  generator_url text,
  receiver text,
  group_key text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_received_idx ON alerts (received_at DESC);

-- Transactional outbox: written in the same transaction as the state change it announces.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  topic text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;

-- Down Migration
DROP TABLE outbox;
DROP TABLE alerts;
DROP TABLE drift_reports;
DROP TABLE processed_events;
DROP TABLE drift_window_rows;
DROP TABLE drift_windows;
ALTER TABLE jobs DROP CONSTRAINT jobs_model_fk;
DROP TABLE models;
DROP TABLE jobs;
DROP TABLE detectors;
DROP TABLE datasets;
