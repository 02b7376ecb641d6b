-- +goose Up
-- When the SLO evaluator last finished a cycle, so that /metrics on any
-- replica reports its lag (whichever replica ran it). One row per loop.
CREATE TABLE loop_runs (
    loop TEXT PRIMARY KEY,
    finished_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE loop_runs;
