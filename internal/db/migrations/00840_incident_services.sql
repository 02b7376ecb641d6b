-- +goose Up
-- An incident's services, one row each, so the incident list filters by
-- service with an index instead of matching text inside the JSON array
-- (where LIKE reads '_' and '%' as wildcards). incidents.services stays
-- the ordered list the API shows; this table is written beside it.
CREATE TABLE incident_services (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    service TEXT NOT NULL,
    PRIMARY KEY (incident_id, service)
);
CREATE INDEX incident_services_service ON incident_services (service, incident_id);

-- The incidents already stored: each name in their JSON array.
-- +tandem postgres
INSERT INTO incident_services (incident_id, service)
SELECT DISTINCT i.id, s.name
FROM incidents i, jsonb_array_elements_text(CAST(i.services AS jsonb)) AS s(name)
WHERE s.name <> '';
-- +tandem sqlite
INSERT INTO incident_services (incident_id, service)
SELECT DISTINCT i.id, j.value
FROM incidents i, json_each(i.services) AS j
WHERE j.type = 'text' AND j.value <> '';
-- +tandem end

-- +goose Down
DROP TABLE incident_services;
