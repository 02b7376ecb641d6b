package client

import (
	"time"
)

// SLOStatus is an SLO evaluated at one moment. Its JSON is the contract the
// API, CLI, gates and dashboard share: a
// number that the data cannot give is null, never 0, 1 or 100 %.
type SLOStatus struct {
	Name        string    `json:"name"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Objective   float64   `json:"objective"`
	Window      string    `json:"window"`
	WindowStart time.Time `json:"window_start"`
	// SLI (a ratio) and Attainment (a percent) are nil when the window
	// holds no events or the source could not be read.
	SLI        *float64 `json:"sli"`
	Attainment *float64 `json:"attainment"`
	// Good and Total are the window's units (0 when the source was read
	// and held nothing); nil when the source could not be read.
	Good        *float64    `json:"good"`
	Total       *float64    `json:"total"`
	ErrorBudget ErrorBudget `json:"error_budget"`
	// BurnRates has every burn-rate window by name (5m, 30m, 1h, 2h, 6h,
	// 1d, 3d); a window without events maps to nil.
	BurnRates map[string]*float64 `json:"burn_rates"`
	Status    string              `json:"status"`
	// Reason says why Status is no_data ("no events in the window",
	// "source unreadable: …"); empty otherwise.
	Reason string    `json:"reason,omitempty"`
	Alerts SLOAlerts `json:"alerts"`
	Freeze Freeze    `json:"freeze"`
	// P95Ms is the window's 95th percentile latency in milliseconds; nil
	// when the SLI records no latency or the window has none.
	P95Ms       *float64  `json:"p95_latency_ms"`
	Source      string    `json:"source"`
	EvaluatedAt time.Time `json:"evaluated_at"`
	// Error is the source's error when it could not be read (Status is
	// then no_data and Reason starts with "source unreadable: ").
	Error string `json:"error,omitempty"`
}

// SLOHistoryPoint is the budget at the end of one hour. SLI is nil for an
// hour without events, Remaining for an SLO window without events.
type SLOHistoryPoint struct {
	Time      time.Time `json:"time"`
	SLI       *float64  `json:"sli"`
	Remaining *float64  `json:"remaining"`
	Good      float64   `json:"good"`
	Total     float64   `json:"total"`
}

// Freeze is a service's release-freeze state.
type Freeze struct {
	Active bool   `json:"active"`
	Reason string `json:"reason,omitempty"`
}

// ErrorBudget is an SLO's error budget over its window. Total and TotalMinutes
// are facts of the definition and always set; Consumed, Remaining and
// RemainingMinutes are nil when the window holds no events.
type ErrorBudget struct {
	// Total is the allowed bad ratio, 1 - objective.
	Total float64 `json:"total"`
	// Consumed is the share of the budget spent (may exceed 1).
	Consumed *float64 `json:"consumed"`
	// Remaining is 1 - Consumed (negative once overspent).
	Remaining *float64 `json:"remaining"`
	// RemainingMinutes is Remaining times TotalMinutes.
	RemainingMinutes *float64 `json:"remaining_minutes"`
	// TotalMinutes is the window's length in minutes times 1 - objective:
	// the minutes of full outage the budget allows.
	TotalMinutes float64 `json:"total_minutes"`
}

// SLOAlerts are an SLO's page and ticket alerts.
type SLOAlerts struct {
	Page   SLOAlert `json:"page"`
	Ticket SLOAlert `json:"ticket"`
}

// SLOAlert is the state of one alert severity.
type SLOAlert struct {
	Firing bool `json:"firing"`
	// Reason names the condition that fires ("1h and 5m burn rates 20.1 and
	// 19.8 above 14.4"); empty when not firing.
	Reason string `json:"reason,omitempty"`
	// PendingSince is set while a condition holds that must hold for its
	// alertAfter before the alert fires: since when it holds.
	PendingSince *time.Time `json:"pending_since,omitempty"`
}
