package demo

import (
	"time"
)

// The demo's history follows one scenario, and every generator reads its
// times from here so that the deploys, the SLI, the incidents, the gates
// and the postmortem tell the same story:
//
//  1. Two days ago, at the afternoon traffic peak, checkout ships a bad
//     deploy (its SLO gate passed: the budget had a fifth left).
//  2. Two minutes later its availability SLI drops (30% of requests fail)
//     and burns the rest of the 28-day error budget.
//  3. The fast-burn alert pages the on-call engineer, who acknowledges,
//     suspects the deploy and rolls it back.
//  4. The rollback ends the drop: the SLI recovers the minute it lands, the
//     incident is resolved a few minutes later and closed the next day.
//     Post-deploy verification marked the deploy failed.
//  5. The sev1 incident's postmortem is drafted, reviewed and published
//     with its action items; it is postmortem 1.
//  6. Since then checkout is in release freeze (its budget is spent): its
//     SLO gate blocks promotions and checkout has not deployed again.
//
// While the demo runs, traffic keeps flowing (see live.go). At its start
// checkout's upstream payment provider is degraded (5% of requests fail,
// no change involved) so the fast-burn page fires live, pages the on-call
// engineer through the demo's sink, and recovers a few minutes later.
type scenario struct {
	// BadDeploy is when the bad checkout deploy finished; SLIDrop and
	// Rollback bound the SLI drop it caused.
	BadDeploy, SLIDrop, Rollback time.Time
	// Detected is when the alert fired; Ack when the on-call engineer
	// acknowledged; Resolved and Closed the incident's end.
	Detected, Ack, Resolved, Closed time.Time
	// Upstream is when checkout's current upstream degradation started;
	// it ends UpstreamFor after the demo starts (live.go).
	Upstream time.Time
}

const (
	// storyService is the service the scenario happens to.
	storyService = "checkout"
	// storySLO is the native SLO that shows it.
	storySLO = "checkout-api-availability"
	// storyRatio is the share of checkout requests failing after the bad
	// deploy; upstreamRatio during the current upstream degradation.
	storyRatio    = 0.3
	upstreamRatio = 0.05
	// upstreamBefore is how long before the demo's start the upstream
	// degradation began; UpstreamFor how long after the start it ends.
	// Together under half an hour: the fast pair of burn windows (1h and
	// 5m) pages, the slower pair (6h and 30m) does not, so the page
	// resolves five minutes after the burn ends.
	upstreamBefore = 25 * time.Minute
	UpstreamFor    = 4 * time.Minute
	// storyLabel marks the scenario's incident.
	storyLabel = "demo_scenario"
)

// story returns the scenario's times for a demo whose history ends at now:
// the bad deploy at 13:30 UTC two days before now (near the traffic peak,
// so the budget it burns does not depend on the hour the demo starts, and
// within the minute-resolution retention so verification reads minutes).
func story(now time.Time) scenario {
	end := now.UTC().Truncate(time.Minute)
	y, m, d := end.Add(-48 * time.Hour).Date()
	bad := time.Date(y, m, d, 13, 30, 0, 0, time.UTC)
	s := scenario{BadDeploy: bad, SLIDrop: bad.Add(2 * time.Minute), Rollback: bad.Add(90 * time.Minute)}
	s.Detected = s.SLIDrop.Add(3 * time.Minute)
	s.Ack = s.Detected.Add(6 * time.Minute)
	s.Resolved = s.Rollback.Add(6 * time.Minute)
	s.Closed = s.Resolved.Add(20 * time.Hour)
	s.Upstream = end.Add(-upstreamBefore)
	return s
}
