-- drop-database
SET lock_timeout = '2s';

DROP DATABASE analytics;
