-- +goose Up
CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    services TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    commander TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL DEFAULT '{}',
    links TEXT NOT NULL DEFAULT '{}',
    users_affected BIGINT NOT NULL DEFAULT 0,
    revenue_estimate DOUBLE PRECISION NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT '',
    dedup_key TEXT UNIQUE,
    policy TEXT NOT NULL DEFAULT '',
    generation INTEGER NOT NULL DEFAULT 0,
    triggered_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    detected_at BIGINT NOT NULL,
    acknowledged_at BIGINT NOT NULL DEFAULT 0,
    resolved_at BIGINT NOT NULL DEFAULT 0,
    closed_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX incidents_status ON incidents (status, started_at);
CREATE INDEX incidents_started ON incidents (started_at);

CREATE TABLE incident_alerts (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    labels TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, fingerprint)
);

CREATE TABLE incident_events (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE incident_suspects (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    change_id BIGINT NOT NULL,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, change_id)
);

CREATE TABLE maintenance_windows (
    id BIGSERIAL PRIMARY KEY,
    service TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX maintenance_windows_service ON maintenance_windows (service, ends_at);

CREATE TABLE heartbeats (
    name TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    interval_ms BIGINT NOT NULL,
    last_seen BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE heartbeats;
DROP TABLE maintenance_windows;
DROP TABLE incident_suspects;
DROP TABLE incident_events;
DROP TABLE incident_alerts;
DROP TABLE incidents;
