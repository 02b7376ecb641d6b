package oncall

import "time"

// Target types, PagerDuty's names.
const (
	UserReference     = "user_reference"
	ScheduleReference = "schedule_reference"
)

// Target is who an escalation rule pages: a person (user_reference, ID is
// the person's name) or whoever is on call in a schedule
// (schedule_reference, ID is the schedule's name).
type Target struct {
	// Type is what ID names (required): user_reference for a person,
	// schedule_reference for whoever is on call in that schedule when the
	// rule fires.
	Type string `yaml:"type" json:"type"`
	// ID is the person's or the schedule's name (required).
	ID string `yaml:"id" json:"id"`
}

// Rule is one level of an escalation policy: its targets are paged, and
// when nobody acknowledges within EscalationDelayInMinutes the next rule
// fires.
type Rule struct {
	// EscalationDelayInMinutes is how many minutes, at least 1, the rule
	// waits for an acknowledgement before the next rule fires (required).
	EscalationDelayInMinutes int `yaml:"escalation_delay_in_minutes" json:"escalation_delay_in_minutes"`
	// Targets are whom the rule pages (required): at least one.
	Targets []Target `yaml:"targets" json:"targets"`
}

// Policy is an escalation policy in PagerDuty's vocabulary. NumLoops is the
// number of times the rules repeat after the first pass (0: once through).
// AckTimeoutMinutes (tandem's addition, 0: none) re-triggers an incident
// that stays acknowledged and unresolved that long.
type Policy struct {
	// Name identifies the policy (required): services and
	// incidents.fallback_escalation_policy refer to it. Any text, spaces
	// included; unique regardless of case.
	Name string `yaml:"name" json:"name"`
	// Description is free text about the policy.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// NumLoops is how many times the rules repeat after the first pass,
	// 0 to 9 (default 0: once through).
	NumLoops int `yaml:"num_loops,omitempty" json:"num_loops"`
	// Rules are the policy's levels, paged in order (required): at least
	// one.
	Rules []Rule `yaml:"rules" json:"rules"`
	// AckTimeoutMinutes re-triggers an incident that stays acknowledged and
	// unresolved this many minutes (default 0: never); a service's entry in
	// ack_timeouts wins.
	AckTimeoutMinutes int `yaml:"ack_timeout_minutes,omitempty" json:"ack_timeout_minutes,omitempty"`
}

// Step is one firing of a rule: at At (Offset after the trigger), rule Rule
// (0-based index into the policy's rules) of pass Loop (0 is the first
// pass; the last is NumLoops) pages Targets.
type Step struct {
	At      time.Time     `json:"at"`
	Offset  time.Duration `json:"offset"`
	Loop    int           `json:"loop"`
	Rule    int           `json:"rule"`
	Targets []Target      `json:"targets"`
}

// Steps returns every step of p for an incident triggered at triggeredAt
// and never acknowledged: (NumLoops+1) passes through the rules, rule 0 at
// offset 0 and each next rule the previous rule's delay later.
func Steps(p Policy, triggeredAt time.Time) []Step {
	return Plan(p, triggeredAt, time.Time{})
}

// Plan returns the steps of p for an incident triggered at triggeredAt and
// acknowledged at ackedAt (the zero time: not acknowledged). A step at or
// after the ack does not fire. A policy without rules has no steps.
func Plan(p Policy, triggeredAt, ackedAt time.Time) []Step {
	if len(p.Rules) == 0 {
		return nil
	}
	loops := max(p.NumLoops, 0) + 1
	out := make([]Step, 0, loops*len(p.Rules))
	var off time.Duration
	for loop := 0; loop < loops; loop++ {
		for i, r := range p.Rules {
			at := triggeredAt.Add(off)
			if !ackedAt.IsZero() && !at.Before(ackedAt) {
				return out
			}
			out = append(out, Step{At: at, Offset: off, Loop: loop, Rule: i, Targets: r.Targets})
			off += time.Duration(max(r.EscalationDelayInMinutes, 0)) * time.Minute
		}
	}
	return out
}

// Exhausted returns when p gives up on an unacknowledged incident triggered
// at triggeredAt: the last rule's delay after its last step.
func Exhausted(p Policy, triggeredAt time.Time) time.Time {
	var per time.Duration
	for _, r := range p.Rules {
		per += time.Duration(max(r.EscalationDelayInMinutes, 0)) * time.Minute
	}
	return triggeredAt.Add(per * time.Duration(max(p.NumLoops, 0)+1))
}

// NextStep returns the first step of p (triggered at triggeredAt, not
// acknowledged) that fires strictly after after, and false when none is
// left. The engine uses it to schedule the next escalation job.
func NextStep(p Policy, triggeredAt, after time.Time) (Step, bool) {
	for _, st := range Steps(p, triggeredAt) {
		if st.At.After(after) {
			return st, true
		}
	}
	return Step{}, false
}

// AckTimeout returns the policy's ack timeout (0: none).
func (p Policy) AckTimeout() time.Duration {
	return time.Duration(max(p.AckTimeoutMinutes, 0)) * time.Minute
}
