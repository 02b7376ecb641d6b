-- +goose Up
-- Chaos experiments (internal/chaos): one row per chaos change event, with
-- what the run was asked to do, the verdict the SLOs gave it (empty while
-- it runs), each SLO's cost in error budget (JSON), and the verdict the
-- chaos tool reported itself for imported experiments.
CREATE TABLE chaos_runs (
    change_id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    source TEXT NOT NULL,
    command TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    verdict TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    costs TEXT NOT NULL DEFAULT '[]',
    tool_verdict TEXT NOT NULL DEFAULT '',
    tool_detail TEXT NOT NULL DEFAULT '',
    aborted INTEGER NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    judged_until BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX chaos_runs_service ON chaos_runs (service, environment, started_at);

-- +goose Down
DROP TABLE chaos_runs;
