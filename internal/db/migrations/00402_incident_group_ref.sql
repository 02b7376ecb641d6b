-- +goose Up
ALTER TABLE incidents ADD COLUMN group_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_group_ref ON incidents (group_ref);

-- +goose Down
DROP INDEX incidents_group_ref;
ALTER TABLE incidents DROP COLUMN group_ref;
