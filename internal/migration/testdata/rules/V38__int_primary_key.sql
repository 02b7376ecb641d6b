-- int-primary-key
SET lock_timeout = '2s';

CREATE TABLE tags (
    id serial PRIMARY KEY,
    name text NOT NULL
);
