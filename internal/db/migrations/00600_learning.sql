-- +goose Up
CREATE TABLE toil_entries (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    minutes INTEGER NOT NULL,
    category TEXT NOT NULL,
    service TEXT NOT NULL DEFAULT '',
    team TEXT NOT NULL DEFAULT '',
    person TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'manual',
    external_id TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX toil_entries_at ON toil_entries (at);
CREATE UNIQUE INDEX toil_entries_external ON toil_entries (source, external_id) WHERE external_id <> '';

CREATE TABLE postmortems (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    team TEXT NOT NULL DEFAULT '',
    template TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    markdown TEXT NOT NULL,
    render_error TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT NOT NULL DEFAULT 0,
    published_version INTEGER NOT NULL DEFAULT 0,
    file_path TEXT NOT NULL DEFAULT '',
    github_issue_number BIGINT NOT NULL DEFAULT 0,
    github_issue_url TEXT NOT NULL DEFAULT '',
    github_attempted_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX postmortems_status ON postmortems (status);

CREATE TABLE action_items (
    id BIGSERIAL PRIMARY KEY,
    postmortem_id BIGINT NOT NULL DEFAULT 0,
    incident_id BIGINT NOT NULL DEFAULT 0,
    title TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    due BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open',
    link TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'manual',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    notified_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX action_items_owner ON action_items (owner);
CREATE INDEX action_items_postmortem ON action_items (postmortem_id);

-- +goose Down
DROP TABLE action_items;
DROP TABLE postmortems;
DROP TABLE toil_entries;
