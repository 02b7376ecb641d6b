-- +goose Up
-- Burn-rate conditions that hold now and must hold for their alertAfter
-- before the alert fires (OpenSLO alertAfter, Prometheus's for:): since
-- when each holds, so that a restart neither restarts the wait nor fires
-- early. cond is the condition's key (slo.BurnCondition.Key).
CREATE TABLE slo_alert_holds (
    slo TEXT NOT NULL,
    severity TEXT NOT NULL,
    cond TEXT NOT NULL,
    since_ms BIGINT NOT NULL,
    PRIMARY KEY (slo, severity, cond)
);

-- +goose Down
DROP TABLE slo_alert_holds;
