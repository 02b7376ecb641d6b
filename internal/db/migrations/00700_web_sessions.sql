-- +goose Up
-- Browser sessions of the dashboard. The cookie holds a random secret; only
-- its SHA-256 hash is stored. A session acts with the scope of the API token
-- it was opened with, and ends when that token is revoked (internal/web).
CREATE TABLE web_sessions (
    id BIGSERIAL PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    token_id BIGINT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
