-- set-tablespace
SET lock_timeout = '2s';

ALTER TABLE orders SET TABLESPACE fast_ssd;
