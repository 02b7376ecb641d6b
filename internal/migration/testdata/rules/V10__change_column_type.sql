-- change-column-type
SET lock_timeout = '2s';

ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12, 2);
