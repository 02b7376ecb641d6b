-- add-column-not-null-without-default
SET lock_timeout = '2s';

ALTER TABLE users ADD COLUMN plan text NOT NULL;
