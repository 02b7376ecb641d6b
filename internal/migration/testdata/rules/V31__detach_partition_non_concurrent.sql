-- detach-partition-non-concurrent
SET lock_timeout = '2s';

ALTER TABLE measurements DETACH PARTITION measurements_2023;
