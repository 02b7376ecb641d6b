-- concurrently-in-transaction
SET lock_timeout = '2s';

BEGIN;
CREATE INDEX CONCURRENTLY users_created_idx ON users (created_at);
COMMIT;
