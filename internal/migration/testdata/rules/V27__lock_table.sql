-- lock-table
SET lock_timeout = '2s';

LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
