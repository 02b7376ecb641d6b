-- +goose Up
-- Responding where people already are (internal/chatops): the Slack
-- messages tandem posted about an incident (updated in place when its
-- state changes), the incident channels, people's Slack member IDs found
-- by email, the SMS and calls sent to each number (rate limits and the
-- daily cap), the Statuspage incident each incident maps to, and the Events
-- API deliveries already handled.
CREATE TABLE chat_messages (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL,
    person TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (channel, ts)
);
CREATE INDEX chat_messages_incident ON chat_messages (incident_id);

CREATE TABLE chat_channels (
    incident_id BIGINT PRIMARY KEY,
    channel TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    mirrored_through BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    archived_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX chat_channels_channel ON chat_channels (channel);

CREATE TABLE slack_users (
    person TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    slack_id TEXT NOT NULL DEFAULT '',
    looked_up_at BIGINT NOT NULL
);
CREATE INDEX slack_users_slack_id ON slack_users (slack_id);

CREATE TABLE phone_sends (
    id BIGSERIAL PRIMARY KEY,
    number TEXT NOT NULL,
    kind TEXT NOT NULL,
    delivery TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL
);
CREATE INDEX phone_sends_number ON phone_sends (number, kind, at);
CREATE INDEX phone_sends_at ON phone_sends (at);

CREATE TABLE phone_locks (
    name TEXT PRIMARY KEY,
    touched_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO phone_locks (name, touched_at) VALUES ('sends', 0);

CREATE TABLE statuspage_incidents (
    incident_id BIGINT PRIMARY KEY,
    page_incident_id TEXT NOT NULL DEFAULT '',
    sent_through BIGINT NOT NULL DEFAULT 0,
    busy_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE slack_events (
    event_id TEXT PRIMARY KEY,
    at BIGINT NOT NULL
);
CREATE INDEX slack_events_at ON slack_events (at);

-- +goose Down
DROP TABLE slack_events;
DROP TABLE statuspage_incidents;
DROP TABLE phone_locks;
DROP TABLE phone_sends;
DROP TABLE slack_users;
DROP TABLE chat_channels;
DROP TABLE chat_messages;
