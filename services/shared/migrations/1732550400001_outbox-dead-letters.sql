-- Up Migration
-- An outbox row Kafka refuses for good (e.g. larger than the broker accepts) must not block the
-- rows behind it: it is set aside with its error instead of being retried forever.
ALTER TABLE outbox ADD COLUMN dead_at timestamptz;
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL AND dead_at IS NULL;

-- Down Migration
DROP INDEX outbox_pending_idx;
ALTER TABLE outbox DROP COLUMN dead_at;
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;
