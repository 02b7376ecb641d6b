package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/slo"
)

// gateGenerators fill the gate audit log: the SLO gate each recent deploy
// of a service with SLOs tandem measures passed through (evaluated by the
// real gate on the data as it stood then, so the budget it reports is the
// one the charts show), the verification that marked the scenario's bad
// deploy failed, migration gates for the migration changes, and a blocked
// promotion for every service whose SLOs put it in release freeze.
var gateGenerators = []generator{{name: "gates", run: seedGates}}

// gatedSLOs are the SLOs of service the demo's pipelines gate on: those
// fed by requests through tandem's ingest. The example's Prometheus SLOs
// have no Prometheus to read in the demo, and an SLO counting migrations
// has no burn rate to gate a deploy on between migrations.
func gatedSLOs(m *app.Main, service string) []*slo.Definition {
	var out []*slo.Definition
	for _, d := range m.Config.Get().SLO.Definitions {
		if d.Service == service && d.Indicator.Source == slo.SourceNative {
			out = append(out, d)
		}
	}
	return out
}

// gateRequest is the SLO gate the demo's pipelines run before a deploy at
// at (the README tour's `tandem gate slo`), its burn rate read over the
// hour before.
func gateRequest(service string, defs []*slo.Definition, at time.Time) gate.SLORequest {
	minLeft, maxBurn := 0.1, 2.0
	r := gate.SLORequest{Service: service, MinBudgetRemaining: &minLeft, MaxBurnRate: &maxBurn, RespectFreeze: true,
		From: at.Add(-time.Hour), To: at}
	for _, d := range defs {
		r.SLOs = append(r.SLOs, d.Name)
	}
	return r
}

// evaluateGate runs the real SLO gate as of at.
func evaluateGate(ctx context.Context, m *app.Main, service string, at time.Time) (gate.SLOEvaluation, bool, error) {
	defs := gatedSLOs(m, service)
	if m.API.Gate.SLO == nil || m.API.SLO.Store == nil || len(defs) == 0 {
		return gate.SLOEvaluation{}, false, nil
	}
	// A service of its own, fresh for each moment: the live service's
	// cache follows the clock forward and must not be taken back in time.
	past, err := slo.NewService(slo.Options{Store: m.API.SLO.Store, Definitions: func() []*slo.Definition { return defs }, Clock: clock.NewFake(at)})
	if err != nil {
		return gate.SLOEvaluation{}, false, err
	}
	g := *m.API.Gate.SLO
	g.Clock = clock.NewFake(at)
	g.SLOs = past
	ev, err := g.Evaluate(ctx, gateRequest(service, defs, at))
	return ev, err == nil, err
}

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
	sc := story(now)
	for _, e := range evs {
		switch e.Kind {
		case change.KindDeploy:
			at := e.StartedAt.Add(-2 * time.Minute)
			if e.StartedAt.IsZero() {
				at = e.FinishedAt.Add(-5 * time.Minute)
			}
			ev, ok, err := evaluateGate(ctx, m, e.Service, at)
			if err != nil {
				return fmt.Errorf("demo gate for %s %s: %w", e.Service, e.Version, err)
			}
			if !ok {
				continue
			}
			if err := record(gate.Result{Kind: gate.KindSLO, Service: e.Service, Target: "deploy " + e.Version, Verdict: ev.Verdict,
				Checks: ev.Checks, Message: "promotion gate for " + e.Version}, at); err != nil {
				return err
			}
			if e.Service == storyService && e.At().Equal(sc.BadDeploy) && m.API.Gate.Verifier != nil {
				// The verification that ran 15 minutes after the bad
				// deploy, on the data as it stood then: it marks the
				// deploy failed. The incident generator wrote the page.
				v := *m.API.Gate.Verifier
				v.Clock = clock.NewFake(e.At().Add(15 * time.Minute))
				v.Alerts = nil
				defs := gatedSLOs(m, e.Service)
				v.SLOs = func() []*slo.Definition { return defs }
				if _, err := v.Verify(ctx, e.Service, e.ID, gate.VerifyOptions{}, "ci"); err != nil {
					return fmt.Errorf("demo verification of %s %s: %w", e.Service, e.Version, err)
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
			at := now
			ev, ok, err := evaluateGate(ctx, m, s.Name, at)
			if err != nil {
				return fmt.Errorf("demo gate for %s: %w", s.Name, err)
			}
			if !ok {
				continue
			}
			if err := record(gate.Result{Kind: gate.KindSLO, Service: s.Name, Target: "promote to production", Verdict: ev.Verdict,
				Message: "release freeze: " + f.Reason, Checks: ev.Checks}, at); err != nil {
				return err
			}
		}
	}
	return nil
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
