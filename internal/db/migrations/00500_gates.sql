-- +goose Up
-- Gate results: every SLO gate, migration gate and post-deploy
-- verification, pass or fail, as an audit log (GET /api/v1/gates).
CREATE TABLE gate_results (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    service TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    checks TEXT NOT NULL DEFAULT '[]',
    actor TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    change_id BIGINT NOT NULL DEFAULT 0,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX gate_results_created ON gate_results (created_at);
CREATE INDEX gate_results_service_created ON gate_results (service, created_at);

-- +goose Down
DROP TABLE gate_results;
