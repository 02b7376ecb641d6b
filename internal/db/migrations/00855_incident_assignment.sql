-- +goose Up
-- Who an incident is assigned to when it was reassigned to a person
-- (empty: its escalation policy, incidents.policy), and the people asked to
-- join it as responders, one row each, so a person added twice is paged once.
ALTER TABLE incidents ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE TABLE incident_responders (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    person TEXT NOT NULL,
    requested_by TEXT NOT NULL DEFAULT '',
    requested_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, person)
);

-- +goose Down
DROP TABLE incident_responders;
ALTER TABLE incidents DROP COLUMN assignee;
