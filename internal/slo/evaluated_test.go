package slo_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/slo"
)

// evaluatorSeries gathers the evaluator's health series from reg.
func evaluatorSeries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		switch f.GetName() {
		case "tandem_slo_evaluator_lag_seconds", "tandem_slo_evaluator_interval_seconds", "tandem_slo_evaluator_last_success_timestamp_seconds":
			out[f.GetName()] = f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return out
}

// The evaluator's lag comes from the database, so any replica reports it:
// absent (no data) before the first evaluation, then the time since the
// last one finished, on another Service over the same database too.
func TestEvaluatorLag(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		clk := clock.NewFake(t0)
		newSvc := func() (*slo.Service, *prometheus.Registry) {
			reg := prometheus.NewPedanticRegistry()
			svc, err := slo.NewService(slo.Options{Store: slo.NewStore(d), Registry: reg, Clock: clk, Interval: 2 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			return svc, reg
		}
		leader, reg := newSvc()
		_, other := newSvc()
		got := evaluatorSeries(t, reg)
		if len(got) != 1 || got["tandem_slo_evaluator_interval_seconds"] != 120 {
			t.Fatalf("before any evaluation: %v; want only the interval (120)", got)
		}
		if _, err := leader.EvaluateOnce(ctx, clk.Now()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(7 * time.Minute)
		for name, r := range map[string]*prometheus.Registry{"the evaluating service": reg, "another replica": other} {
			got := evaluatorSeries(t, r)
			if got["tandem_slo_evaluator_lag_seconds"] != 420 || got["tandem_slo_evaluator_last_success_timestamp_seconds"] != float64(t0.Unix()) {
				t.Errorf("%s: %v; want lag 420 and the timestamp %d", name, got, t0.Unix())
			}
		}
	})
}
