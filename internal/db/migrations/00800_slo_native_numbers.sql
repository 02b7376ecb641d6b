-- +goose Up
-- Native latency as a DDSketch per bucket (internal/slo.Latency: relative
-- accuracy 1 %, mergeable, DDSketch's binary encoding). BYTEA is written
-- BLOB for SQLite (db.migrationFS). The fixed histogram columns l0..l10
-- stay readable but are no longer written or read: their counts cannot
-- become a sketch exactly, so percentiles cover what was ingested after
-- this migration (the good and total counts are unchanged).
ALTER TABLE slo_buckets ADD COLUMN latency BYTEA;

-- Each write of an SLO's native data takes the SLO's next version (a row
-- of slo_native_versions, locked until the write commits, so an SLO's
-- versions commit in order) and stamps the buckets it changes with it: an
-- evaluator that has read an SLO up to version v reads only the buckets
-- stamped after v. Buckets written before this migration are version 0.
ALTER TABLE slo_buckets ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX slo_buckets_version ON slo_buckets (slo, version);
CREATE TABLE slo_native_versions (
    slo TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- The SHA-256 of what a batch added (slo.BatchHash), so a batch id reused
-- with different content is refused; '' for batches recorded before.
ALTER TABLE slo_ingest_batches ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE slo_ingest_batches DROP COLUMN content_hash;
DROP TABLE slo_native_versions;
DROP INDEX slo_buckets_version;
ALTER TABLE slo_buckets DROP COLUMN version;
ALTER TABLE slo_buckets DROP COLUMN latency;
