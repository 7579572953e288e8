-- Up Migration
-- An outbox row lives only until the relay has published it, yet each detections.scored payload
-- (tens of kB of JSON numbers) was compressed with pglz on insert and decompressed by the relay's
-- claim: a quarter of Postgres' CPU on the /detect path, to save a third of the bytes of a row
-- the relay is done with within milliseconds (retention deletes it later). EXTERNAL keeps large
-- values out of line, uncompressed. It applies to rows written from now on.
ALTER TABLE outbox ALTER COLUMN value SET STORAGE EXTERNAL;

-- Down Migration
ALTER TABLE outbox ALTER COLUMN value SET STORAGE EXTENDED;
