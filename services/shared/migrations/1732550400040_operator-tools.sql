-- Up Migration
-- Messages a consumer gave up on, as recorded next to their DLQ copy: what an operator lists,
-- inspects (original bytes, headers, reason) and replays or discards. One row per consumed message
-- (group, topic, partition, offset), so a message dead-lettered twice (a redelivery after the
-- recording failed) is recorded once.
CREATE TABLE dead_letters (
  id uuid PRIMARY KEY,
  consumer_group text NOT NULL,
  origin_topic text NOT NULL,
  origin_partition integer NOT NULL,
  origin_offset bigint NOT NULL,
  message_key text,
  value bytea NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  reason text NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'replayed', 'discarded')),
  dead_lettered_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  replay_event_id uuid,
  UNIQUE (consumer_group, origin_topic, origin_partition, origin_offset),
  CHECK ((state = 'pending') = (resolved_at IS NULL))
);
CREATE INDEX dead_letters_listing_idx ON dead_letters (dead_lettered_at DESC, id DESC);
CREATE INDEX dead_letters_resolved_idx ON dead_letters (resolved_at) WHERE resolved_at IS NOT NULL;
-- The operator's job listing pages by creation time, newest first.
CREATE INDEX jobs_listing_idx ON jobs (created_at DESC, id DESC);

-- What Alertmanager's Slack receiver posted (the Slack-format sink, POST /api/v1/alerts/slack):
-- the newest SLACK_SINK_KEEP rows are kept.
CREATE TABLE slack_messages (
  id uuid PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  payload jsonb NOT NULL
);
CREATE INDEX slack_messages_received_idx ON slack_messages (received_at DESC);

-- Down Migration
DROP TABLE slack_messages;
DROP INDEX jobs_listing_idx;
DROP TABLE dead_letters;
