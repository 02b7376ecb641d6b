CREATE TABLE ${schema}.audit_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor    text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    details  jsonb
);
INSERT INTO ${schema}.audit_events (actor, details) VALUES ('migration', '{"note": "created"}');
