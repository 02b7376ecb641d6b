// Package oncall answers who is on call: schedules made of rotation layers
// with restrictions and overrides, PagerDuty-style escalation policies, and
// each person's notification rules.
//
// The core is pure. A *Schedule resolves who is on call at an instant
// (Who, Resolve) and the shifts between two instants (Shifts); Plan and
// Steps compute which escalation rule fires when; a *Directory (built from
// the validated config and the run-time overrides) resolves escalation
// targets to people at a step's time and says how and when each person is
// notified. None of these read a clock: callers pass the time.
//
// The shell is small: Store keeps run-time overrides in the database (both
// engines), and Service joins the live config with the stored overrides
// for the API, the CLI, the dashboard and the incident engine.
//
// Contract for the incident engine:
//
//	steps := oncall.Plan(policy, triggeredAt, ackedAt) // ackedAt zero: not acknowledged
//	for _, st := range steps {
//	    people := dir.ResolveAll(st.Targets, st.At)  // person names, deduplicated
//	    for _, p := range people {
//	        for _, n := range dir.Notifications(p, st.At) { … n.At, n.Method … }
//	    }
//	}
//
// Semantics follow PagerDuty's documentation: rule 0's targets are paged
// at the trigger time; each rule's escalation_delay_in_minutes later the
// next rule fires; after the last rule the policy starts again from rule 0,
// num_loops more times (num_loops counts repeats: num_loops 2 means three
// passes through the rules). An acknowledgement stops every step at or
// after the ack time. When an acknowledged incident stays unresolved for the
// ack timeout (Directory.AckTimeout), it is re-triggered: Plan starts again
// with triggeredAt = ackedAt + timeout.
package oncall
