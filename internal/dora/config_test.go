package dora

import (
	"testing"

	"github.com/tandemhq/tandem/internal/change"
)

// Config changes and flag flips are changes to production for change
// failure rate (docs/dora.md): a failed one (a failed verification marks
// it failed) counts, a successful one adds to the changes; neither is a
// deploy for frequency, lead time or rework, and neither hides a rollback
// from the deploy before it.
func TestConfigChangesInChangeFailureRate(t *testing.T) {
	services := []Service{{Name: "checkout", Team: "payments"}}
	ev := func(id int64, kind, status, finished string) change.Event {
		return change.Event{ID: id, Service: "checkout", Kind: kind, Status: status, FinishedAt: at(finished), Environment: "production"}
	}
	events := []change.Event{
		ev(1, "deploy", "success", "2026-01-01 12:00"),
		ev(2, "config", "failed", "2026-01-01 13:00"), // failed verification
		ev(3, "flag", "success", "2026-01-01 14:00"),
		ev(4, "deploy", "success", "2026-01-02 12:00"),
		ev(5, "flag", "success", "2026-01-02 12:30"), // between the deploy and its rollback
		ev(6, "rollback", "success", "2026-01-02 13:00"),
	}
	in := Build(services, events, nil, nil)
	r := Compute(in, at("2026-01-01 00:00"), at("2026-01-03 00:00"), Options{})
	// Deploys 1 and 4; 4 failed by the rollback after it. Config changes
	// 2, 3 and 5; 2 failed. (1 + 1) / (2 + 3) = 0.4.
	if r.Deploys != 2 || r.FailedDeploys != 1 || r.ConfigChanges != 3 || r.FailedConfigChanges != 1 {
		t.Fatalf("report %+v", r)
	}
	if r.ChangeFailureRate == nil || *r.ChangeFailureRate != 0.4 {
		t.Fatalf("change failure rate %v, want 0.4", r.ChangeFailureRate)
	}
	if r.SuccessfulDeploys != 2 || r.DeploymentFrequencyPerDay != 1 {
		t.Fatalf("deploy frequency counts config changes: %+v", r)
	}
	if r.ReworkRate == nil || *r.ReworkRate != 0 {
		t.Fatalf("rework %v", r.ReworkRate)
	}
}
