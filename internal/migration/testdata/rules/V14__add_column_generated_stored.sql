-- add-column-generated-stored
SET lock_timeout = '2s';

ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (amount * 100) STORED;
