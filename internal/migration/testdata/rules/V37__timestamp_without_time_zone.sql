-- timestamp-without-time-zone
SET lock_timeout = '2s';

CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    happened_at timestamp NOT NULL
);
