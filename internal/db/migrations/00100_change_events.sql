-- +goose Up
-- Change events: deploys, rollbacks, config changes, migrations, flags, chaos.
-- at is the event's moment (finished_at, else started_at, else created_at),
-- the column every time window and ordering uses.
CREATE TABLE change_events (
    id BIGSERIAL PRIMARY KEY,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    kind TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    commit_sha TEXT NOT NULL DEFAULT '',
    commits TEXT NOT NULL DEFAULT '[]',
    started_at BIGINT NOT NULL DEFAULT 0,
    finished_at BIGINT NOT NULL DEFAULT 0,
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    links TEXT NOT NULL DEFAULT '{}',
    labels TEXT NOT NULL DEFAULT '[]',
    verify BOOLEAN NOT NULL DEFAULT FALSE,
    failure_reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The idempotency key: the same (source, external_id) is stored once.
CREATE UNIQUE INDEX change_events_idempotency ON change_events (source, external_id) WHERE external_id <> '';
CREATE INDEX change_events_service_at ON change_events (service, at);
CREATE INDEX change_events_at ON change_events (at);

-- Commits with their times, for lead time. A deploy names the commits it
-- contains (or only its head, see internal/dora); their times live here.
CREATE TABLE change_commits (
    service TEXT NOT NULL,
    sha TEXT NOT NULL,
    committed_at BIGINT NOT NULL,
    merged_at BIGINT NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (service, sha)
);
CREATE INDEX change_commits_service_time ON change_commits (service, committed_at);

-- +goose Down
DROP TABLE change_commits;
DROP TABLE change_events;
