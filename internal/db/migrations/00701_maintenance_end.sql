-- +goose Up
-- A maintenance window can be ended before its planned end (or cancelled
-- before it starts). The planned times stay as they were, so a window from
-- the config is still recognised at the next reload and not added again.
ALTER TABLE maintenance_windows ADD COLUMN ended_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE maintenance_windows ADD COLUMN ended_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE maintenance_windows DROP COLUMN ended_by;
ALTER TABLE maintenance_windows DROP COLUMN ended_at;
