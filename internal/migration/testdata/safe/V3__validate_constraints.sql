-- VALIDATE takes SHARE UPDATE EXCLUSIVE: reads and writes go on.
ALTER TABLE orders VALIDATE CONSTRAINT orders_status_known;
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk2;
