-- add-column-serial
SET lock_timeout = '2s';

ALTER TABLE events ADD COLUMN seq bigserial;
