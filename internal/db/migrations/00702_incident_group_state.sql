-- +goose Up
-- The title and severity an incident's alert group last said, so that a
-- later notification changes the incident only when the group itself
-- changed: a repeat must not undo what a person set by hand.
ALTER TABLE incidents ADD COLUMN group_title TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN group_severity TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN group_severity;
ALTER TABLE incidents DROP COLUMN group_title;
