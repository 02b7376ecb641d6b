-- +goose Up
-- The last cumulative OTLP point counted per SLO and series (a hash of the
-- point's resource, scope, metric and attributes; slo.SeriesState), so the
-- next point becomes a delta on any replica and after a restart. Times are
-- Unix nanoseconds, as OTLP sends them, so a start time compares exactly;
-- seen_ms is when the series last sent a point, for pruning.
CREATE TABLE slo_otlp_series (
    slo TEXT NOT NULL,
    series TEXT NOT NULL,
    start_ns BIGINT NOT NULL,
    time_ns BIGINT NOT NULL,
    good BIGINT NOT NULL,
    total BIGINT NOT NULL,
    seen_ms BIGINT NOT NULL,
    PRIMARY KEY (slo, series)
);

-- OTLP export requests applied, by the SHA-256 of their decoded body: an
-- exporter's retry of a request that was applied changes nothing.
CREATE TABLE slo_otlp_requests (
    hash TEXT PRIMARY KEY,
    received_ms BIGINT NOT NULL
);

-- +goose Down
DROP TABLE slo_otlp_requests;
DROP TABLE slo_otlp_series;
