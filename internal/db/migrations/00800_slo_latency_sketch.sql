-- +goose Up
-- Native latency as a DDSketch per bucket (internal/slo.Latency: relative
-- accuracy 1 %, mergeable, DDSketch's binary encoding). BYTEA is written
-- BLOB for SQLite (db.migrationFS). The fixed histogram columns l0..l10
-- stay readable but are no longer written or read: their counts cannot
-- become a sketch exactly, so percentiles cover what was ingested after
-- this migration (the good and total counts are unchanged).
ALTER TABLE slo_buckets ADD COLUMN latency BYTEA;

-- The SHA-256 of what a batch added (slo.BatchHash), so a batch id reused
-- with different content is refused; '' for batches recorded before.
ALTER TABLE slo_ingest_batches ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE slo_ingest_batches DROP COLUMN content_hash;
ALTER TABLE slo_buckets DROP COLUMN latency;
