-- +goose Up
-- Tokens are looked up by their public prefix and then compared by hash in
-- constant time (internal/auth).
CREATE INDEX api_tokens_prefix ON api_tokens (prefix);

-- +goose Down
DROP INDEX api_tokens_prefix;
