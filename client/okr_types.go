package client

import (
	"time"
)

// ObjectiveStatus is an objective with its key results' states; Score is
// the mean of the key results' scores (those without a score count 0),
// and null when none of them has a score. Scored says how many have one.
type ObjectiveStatus struct {
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Team        string            `json:"team,omitempty"`
	Quarter     string            `json:"quarter"`
	From        time.Time         `json:"from"`
	To          time.Time         `json:"to"`
	Score       *float64          `json:"score"`
	Scored      int               `json:"scored"`
	KeyResults  []KeyResultStatus `json:"key_results"`
}

// KeyResultStatus is a key result's state in a quarter.
type KeyResultStatus struct {
	KeyResult
	Unit string `json:"unit"`
	// Status is ok, no_data (nothing to measure yet), no_baseline (a
	// reduction without a previous quarter) or unavailable (no metric
	// source for the kind in this server).
	Status      string   `json:"status"`
	Current     *float64 `json:"current,omitempty"`
	Previous    *float64 `json:"previous,omitempty"`
	TargetValue *float64 `json:"target_value,omitempty"`
	// Score is 0..1 when Status is ok, and null otherwise: a key result
	// that cannot be measured has no score, not a score of 0.
	Score *float64 `json:"score"`
	Met   bool     `json:"met"`
	Trend string   `json:"trend,omitempty"`
}

// KeyResult is one measurable result bound to a metric.
type KeyResult struct {
	Name   string          `json:"name"`
	Title  string          `json:"title,omitempty"`
	Kind   string          `json:"kind"`
	Target KeyResultTarget `json:"target"`
	// Start, when set, is the value the quarter started from: the score
	// then grows linearly from Start (0) to the target (1).
	Start *float64 `json:"start,omitempty"`
	// SLO names the SLO for slo_attainment (empty: every SLO in scope,
	// the worst one counts).
	SLO string `json:"slo,omitempty"`
	// Services narrows the scope (empty: the team's services, or every
	// service for a shared objective).
	Services []string `json:"services,omitempty"`
	// BudgetThreshold is the error-budget share a launch may consume to
	// count as safe (safe_launches; default 0.05).
	BudgetThreshold float64 `json:"budget_threshold,omitempty"`
	// Label selects the deploys that are feature launches (safe_launches;
	// default "feature").
	Label string `json:"label,omitempty"`
	// Category narrows toil_hours to one toil category.
	Category string `json:"category,omitempty"`
}

// KeyResultTarget is what a key result aims for: a bound (Op and Value, in the
// kind's unit) or a reduction against the previous quarter (ReduceBy,
// 0.3 for 30%).
type KeyResultTarget struct {
	// ">", ">=", "<", "<="
	Op       string  `json:"op,omitempty"`
	Value    float64 `json:"value,omitempty"`
	ReduceBy float64 `json:"reduce_by,omitempty"`
	Text     string  `json:"text"`
}
