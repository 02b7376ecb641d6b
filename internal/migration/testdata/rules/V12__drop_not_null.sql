-- drop-not-null
SET lock_timeout = '2s';

ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
