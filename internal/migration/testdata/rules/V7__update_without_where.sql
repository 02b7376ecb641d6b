-- update-without-where
SET lock_timeout = '2s';

UPDATE users SET active = true;
