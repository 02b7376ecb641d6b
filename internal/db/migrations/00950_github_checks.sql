-- +goose Up
-- GitHub reporting (internal/gate, internal/change): a deploy remembers the
-- GitHub deployment it came from (0: none), so verification can post a
-- deployment status to it; a gate result remembers the commit it gated
-- (the check run's head_sha) and whether its gate failed open.
ALTER TABLE change_events ADD COLUMN github_deployment_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE gate_results ADD COLUMN commit_sha TEXT NOT NULL DEFAULT '';
ALTER TABLE gate_results ADD COLUMN fail_open BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE gate_results DROP COLUMN fail_open;
ALTER TABLE gate_results DROP COLUMN commit_sha;
ALTER TABLE change_events DROP COLUMN github_deployment_id;
