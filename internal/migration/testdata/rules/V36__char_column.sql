-- char-column
SET lock_timeout = '2s';

CREATE TABLE countries (
    code char(2) PRIMARY KEY,
    name text NOT NULL
);
