package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
)

// gateGenerators fill the gate audit log: an SLO gate before each recent
// deploy (passing, failing where the deploy failed), a verification after
// deploys that failed, migration gates for the migration changes, and a
// blocked promotion for every service whose SLOs put it in release freeze.
var gateGenerators = []generator{{name: "gates", run: seedGates}}

func seedGates(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error {
	results, changes := m.API.Gate.Results, m.API.Change.Store
	if results == nil || changes == nil {
		return nil
	}
	since := now.Add(-7 * 24 * time.Hour)
	evs, err := changes.List(ctx, change.Filter{Kinds: []string{change.KindDeploy, change.KindMigration}, Since: since, Limit: 2000, Ascending: true})
	if err != nil {
		return err
	}
	record := func(r gate.Result, at time.Time) error {
		r.Actor, r.Source = "ci", "https://ci.example.com/"+r.Service
		_, err := results.Record(ctx, r, at)
		return err
	}
	for _, e := range evs {
		id := fmt.Sprint(e.ID)
		switch e.Kind {
		case change.KindDeploy:
			remaining := 0.35 + 0.6*rng.Float64()
			burn := 0.2 + rng.Float64()
			verdict := gate.Pass
			if e.Failed() && rng.IntN(3) == 0 { // a few deploys went out against a failing gate (--fail-open pipelines)
				remaining, verdict = 0.04+0.04*rng.Float64(), gate.Fail
			}
			checks := []gate.Check{
				{Name: "budget_remaining " + e.Service, Value: gate.Measured(round3(remaining)), Op: ">=", Threshold: 0.1, Unit: "ratio", Verdict: map[bool]string{true: gate.Pass, false: gate.Fail}[remaining >= 0.1]},
				{Name: "burn_rate_1h " + e.Service, Value: gate.Measured(round3(burn)), Op: "<=", Threshold: 2, Verdict: gate.Pass},
			}
			if err := record(gate.Result{Kind: gate.KindSLO, Service: e.Service, Target: "deploy " + e.Version, Verdict: verdict,
				Checks: checks, Message: "promotion gate for " + e.Version}, e.StartedAt.Add(-2*time.Minute)); err != nil {
				return err
			}
			if e.Failed() && e.FinishedAt.Before(now.Add(-15*time.Minute)) {
				before, after := 0.0005+0.001*rng.Float64(), 0.03+0.05*rng.Float64()
				if err := record(gate.Result{Kind: gate.KindVerify, Service: e.Service, Target: "deploy " + id, Verdict: gate.Fail, ChangeID: e.ID,
					Message: fmt.Sprintf("SLO violation after deployment: error ratio rose from %.2f%% to %.2f%%", before*100, after*100),
					Checks:  []gate.Check{{Name: "error_ratio " + e.Service, Value: gate.Measured(round3(after)), Op: "<=", Threshold: round3(before + 0.005), Unit: "ratio", Verdict: gate.Fail}}},
					e.FinishedAt.Add(15*time.Minute)); err != nil {
					return err
				}
			}
		case change.KindMigration:
			// Demo migrations carry no start: most take seconds, one in
			// eight runs past the 10 s limit.
			took := time.Duration(500+rng.IntN(8000)) * time.Millisecond
			if !e.StartedAt.IsZero() && e.FinishedAt.After(e.StartedAt) {
				took = e.FinishedAt.Sub(e.StartedAt)
			} else if rng.IntN(8) == 0 {
				took = time.Duration(12+rng.IntN(30)) * time.Second
			}
			limit := 10 * time.Second
			verdict, msg := gate.Pass, ""
			if took > limit || e.Failed() {
				verdict = gate.Fail
				msg = gate.ExceededMessage(took, limit)
				if e.Failed() {
					msg = "migration command failed with exit code 1"
				}
			}
			if err := record(gate.Result{Kind: gate.KindMigration, Service: e.Service, Target: "flyway migrate", Verdict: verdict, Message: msg,
				ChangeID: e.ID, DurationMs: took.Milliseconds(),
				Checks: []gate.Check{{Name: "duration_s " + e.Service, Value: gate.Measured(round3(took.Seconds())), Op: "<=", Threshold: limit.Seconds(), Unit: "s",
					Verdict: map[bool]string{true: gate.Pass, false: gate.Fail}[took <= limit]}}}, e.FinishedAt); err != nil {
				return err
			}
		}
	}
	// A blocked promotion for each service in release freeze now.
	if svc := m.API.SLO.Service; svc != nil {
		for _, s := range m.Config.Get().Catalog.Services {
			f := svc.FreezeAt(ctx, s.Name, now)
			if !f.Active {
				continue
			}
			reason := f.Reason
			if err := record(gate.Result{Kind: gate.KindSLO, Service: s.Name, Target: "promote to production", Verdict: gate.Fail,
				Message: "release freeze: " + reason,
				Checks:  []gate.Check{{Name: "release_freeze " + s.Name, Value: gate.Measured(1), Op: "==", Threshold: 0, Verdict: gate.Fail, Detail: reason}}},
				now.Add(-5*time.Minute)); err != nil {
				return err
			}
		}
	}
	return nil
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
