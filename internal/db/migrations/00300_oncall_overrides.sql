-- +goose Up
CREATE TABLE oncall_overrides (
    id BIGSERIAL PRIMARY KEY,
    schedule TEXT NOT NULL,
    person TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX oncall_overrides_schedule_end ON oncall_overrides (schedule, ends_at);

-- +goose Down
DROP TABLE oncall_overrides;
