package slo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// TestLateEventAddsToRollup: an event older than the minute retention adds
// to its hour's rollup and never replaces it, for events and time slices,
// on both engines. It used to recount the hour's slices from the minutes
// left, so an hour of 60 good slices became 0 good of 1.
func TestLateEventAddsToRollup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		def := def28d(0.9)
		def.Method, def.TimeSliceWindow, def.TimeSliceTarget = Timeslices, time.Minute, 0.95
		hour := t0.Add(-2 * time.Hour)
		var bs []NativeBucket
		for m := hour; m.Before(hour.Add(time.Hour)); m = m.Add(time.Minute) {
			bs = append(bs, NativeBucket{Start: m, Good: 100, Total: 100})
		}
		if _, err := st.Ingest(ctx, def.Name, "edge", "", bs, def.TimeSliceWindow, def.TimeSliceTarget, t0); err != nil {
			t.Fatal(err)
		}
		// Four days later the minutes are pruned; one bad event arrives
		// late for that hour.
		later := t0.Add(4 * 24 * time.Hour)
		if _, err := st.Prune(ctx, later); err != nil {
			t.Fatal(err)
		}
		late := []NativeBucket{{Start: hour.Add(10 * time.Minute), Good: 0, Total: 1}}
		if _, err := st.Ingest(ctx, def.Name, "edge", "", late, def.TimeSliceWindow, def.TimeSliceTarget, later); err != nil {
			t.Fatal(err)
		}
		slices, err := st.Hours(ctx, def, hour, hour.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// The slice the event fell in is gone with its minutes: the event
		// counts as a slice of its own, 60 good of 61.
		if len(slices) != 1 || slices[0].Good != 60 || slices[0].Total != 61 || slices[0].Events != 6001 {
			t.Errorf("hour slices %+v, want 60 good of 61 (6001 events)", slices)
		}
		occ := *def
		occ.Method = Occurrences
		events, err := st.Hours(ctx, &occ, hour, hour.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Good != 6000 || events[0].Total != 6001 {
			t.Errorf("hour events %+v, want 6000 good of 6001", events)
		}

		// Within the minute retention the slice is recomputed exactly: a
		// bad event among 100 good ones leaves the slice good (≥ 95 %), a
		// bad event in an empty minute is a new bad slice.
		recent := t0.Add(-time.Hour)
		bs = bs[:0]
		for m := recent; m.Before(recent.Add(30 * time.Minute)); m = m.Add(time.Minute) {
			bs = append(bs, NativeBucket{Start: m, Good: 100, Total: 100})
		}
		if _, err := st.Ingest(ctx, def.Name, "edge", "", bs, def.TimeSliceWindow, def.TimeSliceTarget, t0); err != nil {
			t.Fatal(err)
		}
		late = []NativeBucket{{Start: recent.Add(5 * time.Minute), Total: 1}, {Start: recent.Add(45 * time.Minute), Total: 1}}
		if _, err := st.Ingest(ctx, def.Name, "edge", "", late, def.TimeSliceWindow, def.TimeSliceTarget, t0); err != nil {
			t.Fatal(err)
		}
		if slices, err = st.Hours(ctx, def, recent, recent.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if len(slices) != 1 || slices[0].Good != 30 || slices[0].Total != 31 {
			t.Errorf("recent hour slices %+v, want 30 good of 31", slices)
		}
	})
}

// TestMinEventsCountsEvents: the minimum-events guard counts events. With
// 5-minute slices a 1 h window holds 12 slices, under the default 20, yet
// thousands of requests: a burning SLO pages.
func TestMinEventsCountsEvents(t *testing.T) {
	def := def28d(0.99)
	def.Method, def.TimeSliceWindow, def.TimeSliceTarget = Timeslices, 5*time.Minute, 0.95
	// A week of 100 good requests a minute, then the last hour at 50 %.
	data := minutes(t0.Add(-7*24*time.Hour), t0, 100, func(m time.Time) float64 {
		if t0.Sub(m) <= time.Hour {
			return 50
		}
		return 0
	})
	s := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, SliceBuckets(data, def.TimeSliceWindow, def.TimeSliceTarget, t0))
	st := Evaluate(def, &s, t0)
	// 1 h: 12 bad slices of 12 → burn 1/0.01 = 100 > 13.44; 5 m the same.
	near(t, "burn 1h", val(st.BurnRates["1h"]), 100, 1e-9)
	if !st.Alerts.Page.Firing {
		t.Errorf("page not firing over 12 bad slices of 6000 events: %+v", st.Alerts)
	}
	// Too few events still holds the page back: 1 request a minute is 60
	// events in the 1 h window, under a guard of 100.
	def.Alerting.MinEvents = 100
	def.Alerting.Page, def.Alerting.Ticket = def.Alerting.Page[:1], nil
	sparse := minutes(t0.Add(-7*24*time.Hour), t0, 1, func(m time.Time) float64 {
		if t0.Sub(m) <= time.Hour {
			return 1
		}
		return 0
	})
	s = NewSeries(t0.Add(-28*24*time.Hour), t0, nil, SliceBuckets(sparse, def.TimeSliceWindow, def.TimeSliceTarget, t0))
	if st := Evaluate(def, &s, t0); st.Alerts.Page.Firing {
		t.Errorf("paged on 60 events with a guard of 100: %+v", st.Alerts)
	}
}

// TestBatchConflict: a batch id reused with other content is a conflict
// naming it and changes nothing; the same content again is a duplicate.
func TestBatchConflict(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		b1 := []NativeBucket{{Start: t0.Add(-time.Minute), Good: 9, Total: 10}}
		if ok, err := st.Ingest(ctx, "api", "edge", "b-7", b1, 0, 0, t0); err != nil || !ok {
			t.Fatalf("first: %v %v", ok, err)
		}
		if ok, err := st.Ingest(ctx, "api", "edge", "b-7", b1, 0, 0, t0); err != nil || ok {
			t.Fatalf("same batch again: applied %v, %v", ok, err)
		}
		b2 := []NativeBucket{{Start: t0.Add(-time.Minute), Good: 1, Total: 10}}
		ok, err := st.Ingest(ctx, "api", "edge", "b-7", b2, 0, 0, t0)
		var te *tandem.Error
		if ok || !errors.As(err, &te) || te.Code != tandem.EConflict || te.Field != "batch_id" || !strings.Contains(te.Message, `"b-7"`) {
			t.Fatalf("reused batch id: applied %v, %v", ok, err)
		}
		// The same id from another source is another batch.
		if ok, err := st.Ingest(ctx, "api", "other", "b-7", b2, 0, 0, t0); err != nil || !ok {
			t.Fatalf("other source: %v %v", ok, err)
		}
		sum, _, err := st.Sum(ctx, "api", t0.Add(-time.Hour), t0)
		if err != nil || sum.Good != 10 || sum.Total != 20 {
			t.Errorf("sum %+v %v, want 10 good of 20", sum, err)
		}
	})
}

// failingSource is a source that cannot be read.
type failingSource struct{}

func (failingSource) Data(context.Context, *Definition, time.Time) (Data, error) {
	return nil, errors.New("connection refused")
}

func (failingSource) Hours(context.Context, *Definition, time.Time, time.Time) ([]Bucket, error) {
	return nil, errors.New("connection refused")
}

// TestServiceNoData: an idle native SLO and an unreadable source are
// no_data with nulls and a reason; /metrics exports their status and
// objective but no SLI, budget or burn rate, and no alert fires. With
// traffic the same SLO exports its numbers, and only burn windows with
// events.
func TestServiceNoData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		idle := def28d(0.999)
		idle.Name = "idle"
		prom := def28d(0.999)
		prom.Name, prom.Indicator.Source = "prom", SourcePrometheus
		reg := prometheus.NewRegistry()
		sink := &sinkRec{}
		svc, err := NewService(Options{Store: st, Prometheus: failingSource{}, Sink: sink, Registry: reg,
			Definitions: func() []*Definition { return []*Definition{idle, prom} }})
		if err != nil {
			t.Fatal(err)
		}
		sts, err := svc.EvaluateOnce(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			if s.Status != StatusNoData || s.SLI != nil || s.Attainment != nil || s.ErrorBudget.Remaining != nil ||
				s.ErrorBudget.Consumed != nil || s.ErrorBudget.RemainingMinutes != nil || s.Alerts.Page.Firing || s.Freeze.Active {
				t.Errorf("%s: %+v", s.Name, s)
			}
			for w, v := range s.BurnRates {
				if v != nil {
					t.Errorf("%s: burn %s = %v", s.Name, w, *v)
				}
			}
		}
		if sts[0].Reason != ReasonNoEvents || sts[0].Total == nil || *sts[0].Total != 0 {
			t.Errorf("idle: reason %q total %v", sts[0].Reason, sts[0].Total)
		}
		if sts[1].Reason != "source unreadable: connection refused" || sts[1].Total != nil || sts[1].Good != nil {
			t.Errorf("unreadable: reason %q good %v total %v", sts[1].Reason, sts[1].Good, sts[1].Total)
		}
		if len(sink.events) != 0 {
			t.Errorf("alerts without data: %+v", sink.events)
		}
		series := gather(t, reg)
		for _, want := range []string{
			`tandem_slo_status{service="checkout",slo="idle",status="no_data"} 1`,
			`tandem_slo_status{service="checkout",slo="idle",status="healthy"} 0`,
			`tandem_slo_status{service="checkout",slo="prom",status="no_data"} 1`,
			`tandem_slo_objective_ratio{service="checkout",slo="idle"} 0.999`,
			`tandem_slo_alert_firing{service="checkout",severity="page",slo="idle"} 0`,
		} {
			if !series[want] {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		for s := range series {
			for _, no := range []string{"tandem_slo_sli_ratio", "tandem_slo_error_budget_remaining_ratio", "tandem_slo_burn_rate",
				`tandem_slo_alert_firing{service="checkout",severity="page",slo="prom"}`} {
				if strings.HasPrefix(s, no) {
					t.Errorf("/metrics exports %s for an SLO without data", s)
				}
			}
		}

		// Traffic: 20 minutes of 100 requests ending 40 minutes ago.
		var bs []NativeBucket
		for m := t0.Add(-time.Hour); m.Before(t0.Add(-40 * time.Minute)); m = m.Add(time.Minute) {
			bs = append(bs, NativeBucket{Start: m, Good: 99, Total: 100})
		}
		if _, err := st.Ingest(ctx, "idle", "edge", "", bs, 0, 0, t0); err != nil {
			t.Fatal(err)
		}
		sts, err = svc.EvaluateOnce(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if s := sts[0]; s.Status != StatusExhausted || s.Reason != "" || val(s.SLI) != 0.99 || s.BurnRates["30m"] != nil || val(s.BurnRates["1h"]) != 10 {
			t.Errorf("with traffic: %+v", s)
		}
		series = gather(t, reg)
		for _, want := range []string{
			`tandem_slo_status{service="checkout",slo="idle",status="exhausted"} 1`,
			`tandem_slo_status{service="checkout",slo="idle",status="no_data"} 0`,
			`tandem_slo_sli_ratio{service="checkout",slo="idle"} 0.99`,
			`tandem_slo_burn_rate{service="checkout",slo="idle",window="1h"} 10`,
		} {
			if !series[want] {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		for _, no := range []string{`tandem_slo_burn_rate{service="checkout",slo="idle",window="5m"}`, `tandem_slo_burn_rate{service="checkout",slo="idle",window="30m"}`} {
			for s := range series {
				if strings.HasPrefix(s, no) {
					t.Errorf("/metrics exports %s for a window without events", s)
				}
			}
		}
	})
}

// gather renders every gauge of reg as `name{labels} value` lines.
func gather(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"} "+formatFloat(m.GetGauge().GetValue())] = true
		}
	}
	return out
}
