-- add-primary-key
SET lock_timeout = '2s';

ALTER TABLE events ADD PRIMARY KEY (event_id);
