package slo

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// OpenSLO's op is exact: lt, lte, gt and gte compare as written ("" is
// gt, the workbook's).
func TestConditionCompare(t *testing.T) {
	for _, c := range []struct {
		op   string
		b    float64
		want bool
	}{
		{"gt", 2, false}, {"gt", 2.1, true}, {"", 2.1, true}, {"", 2, false},
		{"gte", 2, true}, {"gte", 1.9, false},
		{"lt", 2, false}, {"lt", 1.9, true},
		{"lte", 2, true}, {"lte", 2.1, false},
	} {
		if got := (BurnCondition{Threshold: 2, Op: c.op}).Compare(c.b); got != c.want {
			t.Errorf("%s: burn %v against 2: %v, want %v", c.op, c.b, got, c.want)
		}
	}
}

// A condition with op lt fires while the burn is low, never while idle:
// no traffic is no burn rate at all, not a low one.
func TestLowBurnAlertNeedsTraffic(t *testing.T) {
	def := def28d(0.999)
	def.Alerting = AlertPolicy{Ticket: []BurnCondition{{Long: 6 * time.Hour, Short: 30 * time.Minute, Threshold: 0.5, Op: "lt"}}, MinEvents: 20}
	// 6 hours of 100 requests a minute, 1 in 10,000 failing: burn 0.1.
	busy := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, minutes(t0.Add(-6*time.Hour), t0, 100, func(m time.Time) float64 {
		if m.Minute() == 0 {
			return 1
		}
		return 0
	}))
	if st := Evaluate(def, &busy, t0); !st.Alerts.Ticket.Firing || st.Alerts.Ticket.Reason != "6h and 30m burn rates 0.1667 and 0 below 0.5" {
		t.Errorf("busy: %+v", st.Alerts.Ticket)
	}
	idle := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, nil)
	if st := Evaluate(def, &idle, t0); st.Alerts.Ticket.Firing {
		t.Errorf("idle: %+v", st.Alerts.Ticket)
	}
}

// alertAfter is how long a condition must hold before the alert fires
// (OpenSLO; Prometheus's for:). The evaluator keeps since when each
// condition holds in the database, so a restart neither restarts the wait
// nor fires early; a condition that stops holding starts again.
func TestAlertAfterHolds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		def := def28d(0.999)
		def.Alerting.Page = []BurnCondition{{Long: time.Hour, Short: 5 * time.Minute, Threshold: 13.44, Op: "gt", AlertAfter: 10 * time.Minute}}
		def.Alerting.Ticket = nil
		// 100 requests a minute, a fifth failing (burn 200), from 1 h before
		// t0 to 20 minutes after.
		var bs []NativeBucket
		for m := t0.Add(-time.Hour); m.Before(t0.Add(20 * time.Minute)); m = m.Add(time.Minute) {
			bs = append(bs, NativeBucket{Start: m, Good: 80, Total: 100})
		}
		if _, err := st.Ingest(ctx, def.Name, "edge", "b1", bs, 0, 0, t0.Add(20*time.Minute)); err != nil {
			t.Fatal(err)
		}
		sink := &sinkRec{}
		newSvc := func() *Service {
			svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return []*Definition{def} }, Sink: sink})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		}
		svc := newSvc()
		page := func(at time.Time) Alert {
			t.Helper()
			sts, err := svc.EvaluateOnce(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			return sts[0].Alerts.Page
		}
		// The condition holds from t0: pending, nothing raised.
		if a := page(t0); a.Firing || a.PendingSince == nil || !a.PendingSince.Equal(t0) || len(sink.events) != 0 {
			t.Fatalf("at t0: %+v, %d events", a, len(sink.events))
		}
		if a := page(t0.Add(5 * time.Minute)); a.Firing || a.PendingSince == nil || !a.PendingSince.Equal(t0) {
			t.Fatalf("at 5m: %+v", a)
		}
		// A restart keeps the start: at 10 minutes it fires.
		svc = newSvc()
		if s, err := svc.Status(ctx, def.Name, t0.Add(9*time.Minute)); err != nil || s.Alerts.Page.Firing {
			t.Fatalf("at 9m: %+v %v", s.Alerts.Page, err)
		}
		a := page(t0.Add(10 * time.Minute))
		if !a.Firing || a.PendingSince != nil || a.Reason != "1h and 5m burn rates 200 and 200 above 13.44 for 10m" {
			t.Fatalf("at 10m: %+v", a)
		}
		if len(sink.events) != 1 || sink.events[0].Status != "firing" || sink.events[0].Severity != "page" {
			t.Fatalf("events %+v", sink.events)
		}
		// The traffic ends at 20 min: the condition stops holding (and its
		// hold is forgotten), the page resolves.
		if a := page(t0.Add(90 * time.Minute)); a.Firing || a.PendingSince != nil {
			t.Fatalf("after the burn: %+v", a)
		}
		if len(sink.events) != 2 || sink.events[1].Status != "resolved" {
			t.Fatalf("events %+v", sink.events)
		}
		if h, err := st.AllHolds(ctx); err != nil || len(h) != 0 {
			t.Fatalf("holds left: %v %v", h, err)
		}
	})
}

// seriesSource serves a fixed Series as an SLO's data, whatever its
// source kind says.
type seriesSource struct{ s Series }

func (f seriesSource) Data(context.Context, *Definition, time.Time) (Data, error) { return &f.s, nil }
func (f seriesSource) Hours(context.Context, *Definition, time.Time, time.Time) ([]Bucket, error) {
	return nil, nil
}

// The evaluator raises page and ticket alerts, labelled as the rules of
// `tandem slo rules` label theirs; with slo_settings.evaluator prometheus a
// Prometheus-backed SLO's alerts are computed but left to Prometheus, and
// one raised before is resolved.
func TestEvaluatorRaises(t *testing.T) {
	ctx := context.Background()
	def := def28d(0.999)
	def.Indicator.Source = SourcePrometheus
	def.Labels = map[string]string{"team": "payments"}
	// A day of 100 requests a minute, a tenth failing: burn 100, page and
	// ticket.
	ser := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, minutes(t0.Add(-24*time.Hour), t0, 100, func(time.Time) float64 { return 10 }))
	st := NewStore(dbtest.SQLite(t))
	sink := &sinkRec{}
	svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return []*Definition{def} }, Prometheus: seriesSource{ser}, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EvaluateOnce(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if len(sink.events) != 2 {
		t.Fatalf("events %+v", sink.events)
	}
	for i, want := range []struct{ sev, name, title string }{
		{"page", "SLOBurnRatePage", "SLO api is burning its error budget fast"},
		{"ticket", "SLOBurnRateTicket", "SLO api is burning its error budget steadily"},
	} {
		e := sink.events[i]
		l := e.Labels
		if e.Severity != want.sev || e.Title != want.title || l["alertname"] != want.name || l["severity"] != want.sev || l["slo"] != "api" || l["service"] != "checkout" || l["team"] != "payments" {
			t.Errorf("event %d: %+v", i, e)
		}
	}

	def.Evaluator = EvaluatorPrometheus
	sts, err := svc.EvaluateOnce(ctx, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !sts[0].Alerts.Page.Firing || !sts[0].Alerts.Ticket.Firing {
		t.Errorf("the status still says what fires: %+v", sts[0].Alerts)
	}
	if len(sink.events) != 4 || sink.events[2].Status != "resolved" || sink.events[3].Status != "resolved" {
		t.Fatalf("raised alerts not handed over to Prometheus: %+v", sink.events)
	}
	if _, err := svc.EvaluateOnce(ctx, t0.Add(2*time.Minute)); err != nil || len(sink.events) != 4 {
		t.Fatalf("raised under evaluator prometheus: %+v %v", sink.events, err)
	}
	// Native SLOs have no rules: tandem raises their alerts whatever the
	// setting.
	def.Indicator.Source = SourceNative
	if !def.RaisesAlerts() {
		t.Error("a native SLO left to Prometheus")
	}
}

// An SLO's own labels (OpenSLO metadata.labels) reach /metrics on
// tandem_slo_info, one series per SLO of the config; an SLO without a
// label has it empty (absent, for Prometheus).
func TestInfoLabels(t *testing.T) {
	a, b := def28d(0.999), def28d(0.99)
	a.Labels = map[string]string{"team": "payments", "tier": "gold,eu"}
	b.Name, b.Labels = "web", map[string]string{"team": "web"}
	reg := prometheus.NewRegistry()
	if _, err := NewService(Options{Definitions: func() []*Definition { return []*Definition{a, b} }, Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if v := gaugeValue(t, reg, "tandem_slo_info", map[string]string{"slo": "api", "service": "checkout", "team": "payments", "tier": "gold,eu"}); v != 1 {
		t.Errorf("api: %v", v)
	}
	if v := gaugeValue(t, reg, "tandem_slo_info", map[string]string{"slo": "web", "team": "web", "tier": ""}); v != 1 {
		t.Errorf("web: %v", v)
	}
}
