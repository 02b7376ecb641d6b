-- delete-without-where
SET lock_timeout = '2s';

DELETE FROM sessions;
