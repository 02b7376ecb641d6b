-- +goose Up
-- Native SLI data: per-minute buckets (res 60, kept for the short windows)
-- and hourly rollups (res 3600, kept for the long ones). l0..l10 count
-- observations by latency: <=10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
-- 10000 ms and above. good_slices/slices are an hour's time slices for
-- Timeslices SLOs.
CREATE TABLE slo_buckets (
    slo TEXT NOT NULL,
    res INTEGER NOT NULL,
    start_ms BIGINT NOT NULL,
    good BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    good_slices BIGINT NOT NULL DEFAULT 0,
    slices BIGINT NOT NULL DEFAULT 0,
    l0 BIGINT NOT NULL DEFAULT 0,
    l1 BIGINT NOT NULL DEFAULT 0,
    l2 BIGINT NOT NULL DEFAULT 0,
    l3 BIGINT NOT NULL DEFAULT 0,
    l4 BIGINT NOT NULL DEFAULT 0,
    l5 BIGINT NOT NULL DEFAULT 0,
    l6 BIGINT NOT NULL DEFAULT 0,
    l7 BIGINT NOT NULL DEFAULT 0,
    l8 BIGINT NOT NULL DEFAULT 0,
    l9 BIGINT NOT NULL DEFAULT 0,
    l10 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (slo, res, start_ms)
);

-- One row per ingested batch: a batch is applied once per (slo, source, batch id).
CREATE TABLE slo_ingest_batches (
    slo TEXT NOT NULL,
    source TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    events BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (slo, source, batch_id)
);

-- Alerts raised to the incident capability, so a restart neither raises
-- twice nor forgets to resolve.
CREATE TABLE slo_alerts (
    slo TEXT NOT NULL,
    severity TEXT NOT NULL,
    firing_since BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (slo, severity)
);

-- +goose Down
DROP TABLE slo_alerts;
DROP TABLE slo_ingest_batches;
DROP TABLE slo_buckets;
