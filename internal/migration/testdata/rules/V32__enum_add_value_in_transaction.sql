-- enum-add-value-in-transaction
SET lock_timeout = '2s';

BEGIN;
ALTER TYPE order_status ADD VALUE 'refunded';
COMMIT;
