package slo

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

type sinkRec struct {
	mu     sync.Mutex
	events []AlertEvent
}

func (r *sinkRec) Send(ctx context.Context, e AlertEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func TestStoreAndService(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		def := def28d(0.999)
		def.FreezeBelow = 0.5
		now := t0

		// 2 days of 100 requests a minute, all good, as one batch.
		var bs []NativeBucket
		for m := now.Add(-48 * time.Hour); m.Before(now); m = m.Add(time.Minute) {
			b := NativeBucket{Start: m, Good: 100, Total: 100, Latency: NewLatency()}
			if err := b.Latency.AddN(40, 100); err != nil {
				t.Fatal(err)
			}
			bs = append(bs, b)
		}
		applied, err := st.Ingest(ctx, def.Name, "edge", "b1", bs, 0, 0, now)
		if err != nil || !applied {
			t.Fatalf("ingest: %v %v", applied, err)
		}
		// The same batch again changes nothing.
		applied, err = st.Ingest(ctx, def.Name, "edge", "b1", bs, 0, 0, now)
		if err != nil || applied {
			t.Fatalf("duplicate batch applied: %v %v", applied, err)
		}
		// The last 10 minutes: 20 more requests a minute, all failing.
		var spike []NativeBucket
		for m := now.Add(-10 * time.Minute); m.Before(now); m = m.Add(time.Minute) {
			spike = append(spike, NativeBucket{Start: m, Good: 0, Total: 20})
		}
		if _, err := st.Ingest(ctx, def.Name, "edge", "b2", spike, 0, 0, now); err != nil {
			t.Fatal(err)
		}

		reg := prometheus.NewRegistry()
		sink := &sinkRec{}
		svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return []*Definition{def} }, Registry: reg, Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		sts, err := svc.EvaluateOnce(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		s := sts[0]
		// Window: 2880 min × 100 + 10 × 20 = 288,200 requests, 200 bad.
		near(t, "total", val(s.Total), 288200, 0)
		near(t, "sli", val(s.SLI), 1-200.0/288200, 1e-9)
		// 5m: 100 bad of 600 → 0.16667/0.001 = 166.67; 1h: 200 bad of 6200 → 32.26.
		near(t, "burn 5m", val(s.BurnRates["5m"]), 100.0/600/0.001, 1e-3)
		near(t, "burn 1h", val(s.BurnRates["1h"]), 200.0/6200/0.001, 1e-3)
		// 3d: the whole data, 200/288200/0.001 = 0.69396.
		near(t, "burn 3d", val(s.BurnRates["3d"]), 200.0/288200/0.001, 1e-5)
		near(t, "remaining", val(s.ErrorBudget.Remaining), 1-200.0/288200/0.001, 1e-6)
		if !s.Alerts.Page.Firing {
			t.Errorf("page should fire: %+v", s.Alerts)
		}
		// Every observation took 40 ms: p95 40 ms, within 1 %.
		if s.P95Ms == nil || math.Abs(*s.P95Ms-40) > 0.4 {
			t.Errorf("p95 = %v, want 40 ms ± 1%%", s.P95Ms)
		}
		if frozen, why := svc.Frozen("checkout"); !frozen || !strings.Contains(why, "api") {
			t.Errorf("freeze: %v %q", frozen, why)
		}
		if len(sink.events) != 1 || sink.events[0].Status != "firing" {
			t.Fatalf("sink events: %+v", sink.events)
		}
		// Evaluating again does not raise twice.
		if _, err := svc.EvaluateOnce(ctx, now); err != nil {
			t.Fatal(err)
		}
		if len(sink.events) != 1 {
			t.Fatalf("raised twice: %+v", sink.events)
		}
		if v := gaugeValue(t, reg, "tandem_slo_burn_rate", map[string]string{"slo": "api", "service": "checkout", "window": "5m"}); v < 166 || v > 167 {
			t.Errorf("gauge burn 5m = %v", v)
		}
		// Six hours later the spike has left the page windows: resolved.
		later := now.Add(6*time.Hour + time.Minute)
		if _, err := svc.EvaluateOnce(ctx, later); err != nil {
			t.Fatal(err)
		}
		if len(sink.events) != 2 || sink.events[1].Status != "resolved" {
			t.Fatalf("not resolved: %+v", sink.events)
		}

		// History: hourly points; the last hour holds the spike.
		h, err := svc.History(ctx, "api", now.Add(-3*time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 3 {
			t.Fatalf("history points %d, want 3", len(h))
		}
		near(t, "last hour sli", val(h[2].SLI), 6000.0/6200, 1e-9)
		if _, err := json.Marshal(h); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Status(ctx, "apj", now); err == nil || !strings.Contains(err.Error(), "did you mean api") {
			t.Errorf("unknown SLO: %v", err)
		}

		// Prune keeps 3 d + 2 h of minutes.
		if _, err := st.Prune(ctx, now.Add(30*time.Hour)); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM slo_buckets WHERE res = 60`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 2880-4*60 {
			t.Errorf("minutes left after prune %d, want %d", left, 2880-4*60)
		}
	})
}

func TestTimeslicesNative(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		def := def28d(0.9)
		def.Method, def.TimeSliceWindow, def.TimeSliceTarget = Timeslices, 5*time.Minute, 0.95
		// Two hours ending at t0: slices of 5 minutes; one slice in each
		// hour misses its 95 % target.
		var bs []NativeBucket
		for m := t0.Add(-2 * time.Hour); m.Before(t0); m = m.Add(time.Minute) {
			b := NativeBucket{Start: m, Good: 10, Total: 10}
			if m.Minute() < 5 {
				b.Good = 5
			}
			bs = append(bs, b)
		}
		if _, err := st.Ingest(ctx, def.Name, "x", "1", bs, def.TimeSliceWindow, def.TimeSliceTarget, t0); err != nil {
			t.Fatal(err)
		}
		hours, err := st.Hours(ctx, def, t0.Add(-2*time.Hour), t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(hours) != 2 || hours[0].Good != 11 || hours[0].Total != 12 {
			t.Fatalf("hour slices %+v, want 11 good of 12", hours)
		}
		ser, err := st.Load(ctx, def, t0.Add(-28*24*time.Hour), t0)
		if err != nil {
			t.Fatal(err)
		}
		s := Evaluate(def, &ser, t0)
		// 24 slices, 2 bad: SLI 22/24; 1h burn (1/12)/0.1 = 0.8333.
		near(t, "sli", val(s.SLI), 22.0/24, 1e-9)
		near(t, "burn 1h", val(s.BurnRates["1h"]), 1.0/12/0.1, 1e-6)
	})
}

// gaugeValue reads one gauge from a registry.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("gauge %s%v not found", name, labels)
	return 0
}

// Sum adds up the minute buckets of a span with their latency histogram,
// falls back to the hourly rollups where no minute is kept, and reports an
// SLO without data as not ok.
func TestStoreSum(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		now := t0
		var bs []NativeBucket
		for m := now.Add(-30 * time.Minute); m.Before(now); m = m.Add(time.Minute) {
			b := NativeBucket{Start: m, Good: 9, Total: 10, Latency: NewLatency()}
			if err := errors.Join(b.Latency.AddN(40, 8), b.Latency.AddN(4000, 2)); err != nil {
				t.Fatal(err)
			}
			bs = append(bs, b)
		}
		if _, err := st.Ingest(ctx, "api", "edge", "b1", bs, 0, 0, now); err != nil {
			t.Fatal(err)
		}
		sum, ok, err := st.Sum(ctx, "api", now.Add(-10*time.Minute), now)
		if err != nil || !ok {
			t.Fatalf("sum: %v %v", ok, err)
		}
		// 80 observations at 40 ms, 20 at 4000 ms: the median is 40 ms, the
		// p95 (rank ⌊0.95 × 99⌋ = 94) 4000 ms.
		p50, _ := sum.Quantile(0.5)
		p95, ok95 := sum.Quantile(0.95)
		if sum.Good != 90 || sum.Total != 100 || sum.Latency.Count() != 100 || math.Abs(p50-40) > 0.4 || !ok95 || math.Abs(p95-4000) > 40 {
			t.Fatalf("last 10 minutes: %+v p50 %v p95 %v", sum, p50, p95)
		}
		// Days ago only rollups exist.
		old := now.Add(-10 * 24 * time.Hour).Truncate(time.Hour)
		if err := st.WriteRollups(ctx, "api", []NativeBucket{{Start: old, Good: 500, Total: 600}}); err != nil {
			t.Fatal(err)
		}
		sum, ok, err = st.Sum(ctx, "api", old, old.Add(time.Hour))
		if err != nil || !ok || sum.Good != 500 || sum.Total != 600 {
			t.Fatalf("hour rollup: %+v %v %v", sum, ok, err)
		}
		if _, ok := sum.Quantile(0.95); ok {
			t.Error("a p95 from a rollup without latency data")
		}
		if _, ok, err := st.Sum(ctx, "nothing", now.Add(-time.Hour), now); err != nil || ok {
			t.Fatalf("an SLO without data: ok %v, err %v", ok, err)
		}
	})
}
