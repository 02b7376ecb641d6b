package client

import (
	"time"
)

// CurrentOnCall is a schedule's on-call person now and the next handoff.
type CurrentOnCall struct {
	Schedule string   `json:"schedule"`
	OnCall   []string `json:"oncall"`
	// Until is when the current shift ends (zero: nobody on call now, or
	// no handoff within the look-ahead).
	Until time.Time `json:"until,omitzero"`
	// Next is the next shift of someone else (nil: none within the
	// look-ahead).
	Next *Shift `json:"next,omitempty"`
}

// LayerOnCall is one layer's answer at an instant.
type LayerOnCall struct {
	Name string `json:"name"`
	// Person is on call in this layer; "" when the layer has nobody
	// (before its start, after its end, or outside its restrictions).
	Person string `json:"person"`
}

// RuleOnCall is who one rule of a policy pages at an instant.
type RuleOnCall struct {
	Rule                     int                `json:"rule"`
	EscalationDelayInMinutes int                `json:"escalation_delay_in_minutes"`
	Targets                  []EscalationTarget `json:"targets"`
	People                   []string           `json:"people"`
}

// Schedule is a schedule as the API shows it.
type Schedule struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	TimeZone    string          `json:"time_zone"`
	Layers      []ScheduleLayer `json:"layers"`
	// Overrides are the config's overrides (run-time ones are listed at
	// /api/v1/schedules/{name}/overrides).
	Overrides []Override `json:"overrides"`
	// Current is who is on call at the time of the answer, and who is next.
	Current *CurrentOnCall `json:"current,omitempty"`
}

// OnCallResolution is the full answer for one instant: who is on call, each
// layer's candidate (lowest first) and the override that applies, if any.
type OnCallResolution struct {
	Schedule string        `json:"schedule"`
	At       time.Time     `json:"at"`
	OnCall   []string      `json:"oncall"`
	Layers   []LayerOnCall `json:"layers"`
	Override *Override     `json:"override,omitempty"`
}

// Shift is a span during which one person is on call.
type Shift struct {
	Schedule string    `json:"schedule"`
	Person   string    `json:"person"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Layer names the layer the shift comes from; "override" for overrides.
	Layer string `json:"layer"`
}

// Override puts Person on call for [Start, End) in place of every layer.
type Override struct {
	ID       int64     `json:"id,omitempty"`
	Schedule string    `json:"schedule"`
	Person   string    `json:"person"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Author   string    `json:"author,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	// "config" or "api"
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// EscalationPolicy is an escalation policy in PagerDuty's vocabulary. NumLoops is the
// number of times the rules repeat after the first pass (0: once through).
// AckTimeoutMinutes (tandem's addition, 0: none) re-triggers an incident
// that stays acknowledged and unresolved that long.
type EscalationPolicy struct {
	// Name identifies the policy (required): services and
	// incidents.fallback_escalation_policy refer to it. Any text, spaces
	// included; unique regardless of case.
	Name string `json:"name"`
	// Description is free text about the policy.
	Description string `json:"description,omitempty"`
	// NumLoops is how many times the rules repeat after the first pass,
	// 0 to 9 (default 0: once through).
	NumLoops int `json:"num_loops"`
	// Rules are the policy's levels, paged in order (required): at least
	// one.
	Rules []EscalationRule `json:"rules"`
	// AckTimeoutMinutes re-triggers an incident that stays acknowledged and
	// unresolved this many minutes (default 0: never); a service's entry in
	// ack_timeouts wins.
	AckTimeoutMinutes int `json:"ack_timeout_minutes,omitempty"`
}

// EscalationTarget is who an escalation rule pages: a person (user_reference, ID is
// the person's name) or whoever is on call in a schedule
// (schedule_reference, ID is the schedule's name).
type EscalationTarget struct {
	// Type is what ID names (required): user_reference for a person,
	// schedule_reference for whoever is on call in that schedule when the
	// rule fires.
	Type string `json:"type"`
	// ID is the person's or the schedule's name (required).
	ID string `json:"id"`
}

// ScheduleLayer is a layer as the API shows it.
type ScheduleLayer struct {
	Name         string             `json:"name"`
	Users        []string           `json:"users"`
	Rotation     string             `json:"rotation"`
	Start        time.Time          `json:"start"`
	End          time.Time          `json:"end,omitzero"`
	TimeZone     string             `json:"time_zone"`
	Restrictions []LayerRestriction `json:"restrictions"`
}

// EscalationRule is one level of an escalation policy: its targets are paged, and
// when nobody acknowledges within EscalationDelayInMinutes the next rule
// fires.
type EscalationRule struct {
	// EscalationDelayInMinutes is how many minutes, at least 1, the rule
	// waits for an acknowledgement before the next rule fires (required).
	EscalationDelayInMinutes int `json:"escalation_delay_in_minutes"`
	// Targets are whom the rule pages (required): at least one.
	Targets []EscalationTarget `json:"targets"`
}

// LayerRestriction is a restriction in PagerDuty's fields.
type LayerRestriction struct {
	Type           string `json:"type"`
	StartTimeOfDay string `json:"start_time_of_day"`
	// 1 (Monday) to 7 (Sunday)
	StartDayOfWeek  int      `json:"start_day_of_week,omitempty"`
	Days            []string `json:"days,omitempty"`
	DurationSeconds int64    `json:"duration_seconds"`
}
