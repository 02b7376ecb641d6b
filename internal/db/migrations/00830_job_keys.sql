-- +goose Up
-- Idempotency keys of pruned jobs: a job's key outlives its row, so a
-- duplicate of the event that caused it still enqueues nothing.
CREATE TABLE job_keys (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    finished_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE job_keys;
