-- transaction-in-migration
SET lock_timeout = '2s';

BEGIN;
INSERT INTO settings (key, value) VALUES ('theme', 'dark');
COMMIT;
