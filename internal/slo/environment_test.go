package slo

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// SLOs of one service in two environments keep their budgets apart: a
// staging SLO burning its budget freezes and pages staging only, and its
// alert carries the environment an incident takes its suspects from.
func TestBudgetsPerEnvironment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		prod := def28d(0.999)
		prod.FreezeBelow = 0.5
		stg := def28d(0.999)
		stg.Name, stg.Environment, stg.FreezeBelow = "api-staging", "staging", 0.5
		now := t0
		var good, bad []NativeBucket
		for m := now.Add(-2 * time.Hour); m.Before(now); m = m.Add(time.Minute) {
			good = append(good, NativeBucket{Start: m, Good: 100, Total: 100})
			bad = append(bad, NativeBucket{Start: m, Good: 90, Total: 100})
		}
		if _, err := st.Ingest(ctx, prod.Name, "edge", "", good, 0, 0, now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Ingest(ctx, stg.Name, "edge", "", bad, 0, 0, now); err != nil {
			t.Fatal(err)
		}
		sink := &sinkRec{}
		svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return []*Definition{prod, stg} },
			Registry: prometheus.NewRegistry(), Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		sts, err := svc.EvaluateOnce(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]Status{}
		for _, s := range sts {
			by[s.Environment] = s
		}
		p, s := by["production"], by["staging"]
		if p.Name != "api" || s.Name != "api-staging" {
			t.Fatalf("environments of the statuses: %+v", sts)
		}
		// Production: 12,000 good of 12,000; staging: 1,200 bad of 12,000,
		// 0.1/0.001 = 100 times the budget's rate over 2 h of 28 d.
		near(t, "production consumed", val(p.ErrorBudget.Consumed), 0, 0)
		near(t, "staging consumed", val(s.ErrorBudget.Consumed), 1200.0/(12000*0.001), 1e-6)
		if p.Status != StatusHealthy || s.Status != StatusExhausted {
			t.Fatalf("status production %s, staging %s", p.Status, s.Status)
		}
		if frozen, why := svc.Frozen("checkout"); frozen {
			t.Errorf("production frozen by a staging SLO: %s", why)
		}
		if frozen, _ := svc.FrozenIn("checkout", "staging"); !frozen {
			t.Errorf("staging not frozen")
		}
		if f := svc.FreezeIn(ctx, "checkout", "production", now); f.Active {
			t.Errorf("production freeze %+v", f)
		}
		if got := FilterStatus(sts, "checkout", "staging"); len(got) != 1 || got[0].Name != "api-staging" {
			t.Errorf("filter staging: %+v", got)
		}
		if len(sink.events) == 0 {
			t.Fatal("no alert for the staging SLO")
		}
		for _, e := range sink.events {
			if e.SLO != "api-staging" || e.Labels["environment"] != "staging" {
				t.Fatalf("alert %+v, want only api-staging's, labelled environment=staging", e)
			}
		}
	})
}
