package client

import (
	"time"
)

// GateResult is one gate run, as the audit log keeps it.
type GateResult struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Service string `json:"service,omitempty"`
	// Target names what was gated: SLO names, the migration command, the
	// deploy id.
	Target  string      `json:"target,omitempty"`
	Verdict string      `json:"verdict"`
	Message string      `json:"message,omitempty"`
	Checks  []GateCheck `json:"checks"`
	// Actor is who ran the gate (the token's name when recorded through the
	// API); Source where (a CI run URL).
	Actor      string    `json:"actor,omitempty"`
	Source     string    `json:"source,omitempty"`
	ChangeID   int64     `json:"change_id,omitempty"`
	DurationMs int64     `json:"duration_ms,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// Commit is the SHA of the commit the gate ran for; a GitHub check run
	// is posted on it.
	Commit string `json:"commit,omitempty"`
	// FailOpen says the gate ran with --fail-open: an inconclusive verdict
	// let the pipeline pass.
	FailOpen bool `json:"fail_open,omitempty"`
}

// Verification is the outcome of verifying one deploy.
type Verification struct {
	Deploy  ChangeEvent `json:"deploy"`
	Verdict string      `json:"verdict"`
	Checks  []GateCheck `json:"checks"`
	// From and To bound the window after the deploy that was read;
	// BaselineFrom starts the baseline (which ends at the deploy).
	BaselineFrom time.Time `json:"baseline_from"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	// Window and Baseline are the lengths asked for ("15m", "1h"); the
	// window read so far is From to To.
	Window   string `json:"window"`
	Baseline string `json:"baseline"`
	// Complete says whether the whole window has passed; ReadyAt is when it
	// does. An incomplete pass or inconclusive verdict may still change.
	Complete bool      `json:"complete"`
	ReadyAt  time.Time `json:"ready_at"`
	// MarkedFailed is set when this verification marked the deploy failed.
	MarkedFailed bool `json:"marked_failed"`
	// Reason is the one-line summary recorded as the deploy's failure reason.
	Reason string `json:"reason,omitempty"`
	// ResultID is the gate result recorded (complete or failed runs only).
	ResultID int64 `json:"result_id,omitempty"`
}

// SLOGateRequest asks the SLO gate for checks: the service, optionally some of
// its SLOs, the limits, and the window of the checks the gate reads from
// the data. Durations are strings ("15m", "1h").
type SLOGateRequest struct {
	Service string   `json:"service"`
	SLOs    []string `json:"slos,omitempty"`
	// Environment is the environment whose SLOs are checked (default
	// production); a named SLO of another environment is refused.
	Environment string `json:"environment,omitempty"`
	// MinBudgetRemaining, MaxBurnRate and P95LatencyMs are the limits;
	// none at all checks that budget is left (min_budget_remaining 0).
	MinBudgetRemaining *float64 `json:"min_budget_remaining,omitempty"`
	MaxBurnRate        *float64 `json:"max_burn_rate,omitempty"`
	// BurnWindow is the burn-rate window (default 1h).
	BurnWindow    string   `json:"burn_window,omitempty"`
	P95LatencyMs  *float64 `json:"p95_latency_ms,omitempty"`
	RespectFreeze bool     `json:"respect_freeze,omitempty"`
	// Window is the recent window of the p95 check, ending now (default
	// 15m).
	Window string `json:"window,omitempty"`
	// From and To, when set, are the window of the p95 and burn-rate checks
	// instead (a migration's run); the burn rate is then read over them.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// RequestsOnly selects only SLOs measured from requests (native ingest
	// and Prometheus), not those counting change events: the latency and
	// error SLOs the migration gate checks.
	RequestsOnly bool `json:"requests_only,omitempty"`
	// ResolveOnly resolves the names and answers the selection without
	// reading any data or making any check.
	ResolveOnly bool `json:"resolve_only,omitempty"`
}

// SLOGateEvaluation is the SLO gate's answer: the SLOs it selected, the window
// of the checks it read from the data, the checks and their verdict.
type SLOGateEvaluation struct {
	Service     string      `json:"service"`
	Environment string      `json:"environment"`
	SLOs        []string    `json:"slos"`
	Window      string      `json:"window"`
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	Verdict     string      `json:"verdict,omitempty"`
	Checks      []GateCheck `json:"checks"`
}

// GateCheck is one comparison a gate made.
type GateCheck struct {
	// Name says what was checked: "budget_remaining checkout-availability".
	Name string `json:"name"`
	// Value is what was measured, held against Threshold with Op ("<=",
	// ">=", "<", ">", "=="). It is null when nothing could be measured (no
	// data, a source that cannot be read): the check is then inconclusive
	// and Detail says why. No data is never a number.
	Value     *float64 `json:"value"`
	Op        string   `json:"op"`
	Threshold float64  `json:"threshold"`
	Unit      string   `json:"unit,omitempty"`
	Verdict   string   `json:"verdict"`
	// Detail explains a fail or inconclusive check.
	Detail string `json:"detail,omitempty"`
	// Window is the span the value was measured over, as a duration ("15m",
	// "28d"), with its bounds From and To; empty for checks that are not
	// measured over time (an exit code, a release freeze).
	Window string    `json:"window,omitempty"`
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
}
