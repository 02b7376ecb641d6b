-- add-foreign-key-without-not-valid
SET lock_timeout = '2s';

ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
