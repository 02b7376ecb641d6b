-- json-column
SET lock_timeout = '2s';

CREATE TABLE payloads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body json NOT NULL
);
