-- The table is busy; this waits behind every long query.
ALTER TABLE users ADD COLUMN last_seen_at timestamptz;
