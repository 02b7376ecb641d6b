SET lock_timeout = '2s';
-- A constant default is metadata-only since PostgreSQL 11.
ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';
ALTER TABLE orders ADD CONSTRAINT orders_status_known
    CHECK (status IN ('new', 'paid', 'shipped')) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_user_fk2
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
