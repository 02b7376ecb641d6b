package client

import (
	"time"
)

// ChaosRun is one chaos experiment: a change event of kind chaos (ID is its id)
// and its verdict.
type ChaosRun struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	Service     string        `json:"service"`
	Environment string        `json:"environment"`
	Source      string        `json:"source"`
	Command     string        `json:"command,omitempty"`
	Actor       string        `json:"actor,omitempty"`
	Settings    ChaosSettings `json:"settings"`
	// Status is running until the verdict is given, then finished.
	Status string `json:"status"`
	// Verdict is held, degraded, broken or inconclusive; null while the
	// run is going.
	Verdict *string     `json:"verdict"`
	Reason  string      `json:"reason,omitempty"`
	Costs   []ChaosCost `json:"costs"`
	Aborted bool        `json:"aborted"`
	// ToolVerdict is what the chaos tool itself reported (imports).
	ToolVerdict string     `json:"tool_verdict,omitempty"`
	ToolDetail  string     `json:"tool_detail,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	// JudgedUntil is the end of the window the verdict read (the fault's
	// end plus the cool-down).
	JudgedUntil *time.Time `json:"judged_until"`
}

// ChaosSteadyState is one SLO's state before a run.
type ChaosSteadyState struct {
	SLO    string `json:"slo"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// ChaosStartInput asks to start a chaos run.
type ChaosStartInput struct {
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Name        string `json:"name"`
	Command     string `json:"command"`
	Actor       string `json:"actor"`
	// Cooldown is how long the SLIs are watched after the fault ends
	// (default 5m, at most 1d).
	Cooldown      string  `json:"cooldown"`
	AbortBurnRate float64 `json:"abort_burn_rate"`
	// DegradedShare is the share of an SLO's budget above which the run
	// is degraded (default DefaultDegradedShare).
	DegradedShare float64 `json:"degraded_share"`
}

// ChaosObservation is a running experiment's state: each SLO's burn so far and
// whether the run must abort.
type ChaosObservation struct {
	Run    ChaosRun    `json:"run"`
	From   time.Time   `json:"from"`
	To     time.Time   `json:"to"`
	Costs  []ChaosCost `json:"costs"`
	Abort  bool        `json:"abort"`
	Reason string      `json:"reason,omitempty"`
}

// ChaosFinishInput ends a run.
type ChaosFinishInput struct {
	// Aborted and AbortReason say the run was stopped (burn rate, a
	// signal); an aborted run is broken.
	Aborted     bool   `json:"aborted"`
	AbortReason string `json:"abort_reason"`
	// FaultEnded is when the fault stopped (zero: now minus the
	// cool-down, the CLI's order of things); JudgedUntil the end of the
	// cool-down (zero: now).
	FaultEnded  time.Time `json:"fault_ended,omitzero"`
	JudgedUntil time.Time `json:"judged_until,omitzero"`
	// Failed says the fault command itself failed (it did not run or
	// exited non-zero): the change is recorded failed.
	Failed     bool   `json:"failed"`
	FailReason string `json:"fail_reason"`
}

// ChaosSettings are what a run was asked to do, kept with it.
type ChaosSettings struct {
	// Cooldown is how long the SLIs are watched after the fault ends.
	Cooldown string `json:"cooldown,omitempty"`
	// AbortBurnRate is the burn rate that aborts the run (0: none).
	AbortBurnRate float64 `json:"abort_burn_rate,omitempty"`
	// DegradedShare is the budget share above which the run is degraded.
	DegradedShare float64 `json:"degraded_share"`
	// SLOs are the SLOs that judge the run.
	SLOs []string `json:"slos"`
}

// ChaosCost is one SLO's part of a verdict: the burn rate over the
// experiment's window and the share of the SLO's error budget it cost.
// BurnRate and BudgetCost are null when the window held no events or the
// SLI could not be read (Reason says which).
type ChaosCost struct {
	SLO        string   `json:"slo"`
	Good       *float64 `json:"good"`
	Total      *float64 `json:"total"`
	BurnRate   *float64 `json:"burn_rate"`
	BudgetCost *float64 `json:"budget_cost"`
	Verdict    string   `json:"verdict"`
	Reason     string   `json:"reason"`
}
