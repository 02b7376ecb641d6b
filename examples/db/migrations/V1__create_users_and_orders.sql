-- New tables: no lock on anything that serves traffic yet.
CREATE TABLE users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_created_at_idx ON users (created_at);

CREATE TABLE orders (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    amount     numeric(12, 2) NOT NULL,
    attributes jsonb NOT NULL DEFAULT '{}'
);
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);
