package sli

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/testenv"
)

// TestPrometheusSource checks the attainment and burn rates computed by
// PromQL on a real Prometheus against hand-computed values. The exporter
// adds 100 good and 1 failed request on every scrape, so every window's
// good/total is 100/101 however many scrapes it holds.
func TestPrometheusSource(t *testing.T) {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_requests_total", Help: "requests"}, []string{"code"})
	lat := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_latency_p95_seconds", Help: "p95"})
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_request_duration_seconds", Help: "latency", Buckets: []float64{0.1, 0.5, 1}})
	reg.MustRegister(reqs, lat, hist)
	lat.Set(0.2)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.WithLabelValues("200").Add(100)
		reqs.WithLabelValues("500").Add(1)
		// Per scrape: 100 requests in 50 ms and 10 in 800 ms, so the p95
		// (rank 104.5 of 110) is 0.5 + 0.5·4.5/10 = 0.725 s in the
		// (0.5, 1] bucket.
		for i := 0; i < 100; i++ {
			hist.Observe(0.05)
		}
		for i := 0; i < 10; i++ {
			hist.Observe(0.8)
		}
		metrics.ServeHTTP(w, r)
	}))
	defer exporter.Close()
	promURL := testenv.Prometheus(t, exporter.URL)

	src := NewPrometheus(&http.Client{Timeout: 5 * time.Second})
	def := &slo.Definition{
		Name: "api", Service: "checkout", Objective: 0.999, Method: slo.Occurrences,
		Window:   slo.Window{Rolling: 28 * 24 * time.Hour},
		Alerting: slo.DefaultPolicy(28 * 24 * time.Hour),
		Indicator: slo.Indicator{Source: slo.SourcePrometheus, PrometheusURL: promURL,
			Good: `test_requests_total{code!~"5.."}`, Total: `test_requests_total`},
	}
	// Wait (bounded) until Prometheus holds at least four scrapes.
	ctx := context.Background()
	deadline := time.Now().Add(25 * time.Second)
	var st slo.Status
	for {
		data, err := src.Data(ctx, def, time.Now())
		if err == nil {
			st = slo.Evaluate(def, data, time.Now())
			if st.Total != nil && *st.Total >= 300 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no data from Prometheus in time: %v %+v", err, st)
		}
		time.Sleep(500 * time.Millisecond) // polling a real server; nothing to wait on
	}
	// sli = 100/101 = 0.990099; burn = (1/101)/0.001 = 9.90099 in every window.
	const sli, burn = 100.0 / 101, (1.0 / 101) / 0.001
	near := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-6*math.Max(1, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("sli", st.SLI, sli)
	near("attainment", st.Attainment, sli*100)
	// Consumed (1/101)/0.001 = 9.90099: the budget is overspent.
	near("consumed", st.ErrorBudget.Consumed, burn)
	near("remaining", st.ErrorBudget.Remaining, 1-burn)
	if st.Status != slo.StatusExhausted {
		t.Errorf("status %s, want exhausted", st.Status)
	}
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} {
		near("burn "+w, st.BurnRates[w], burn)
	}
	// 9.9 is under the page's 13.44 but over 5.6 (6 h and 30 m): page.
	if !st.Alerts.Page.Firing || !strings.Contains(st.Alerts.Page.Reason, "6h and 30m") {
		t.Errorf("alerts: %+v", st.Alerts)
	}

	if st.P95Ms != nil {
		t.Errorf("p95 %v without a latency histogram", *st.P95Ms)
	}
	// With the latency histogram named, the status has the p95 in ms.
	withLat := *def
	withLat.Indicator.LatencyHistogram, withLat.Indicator.LatencyUnitMs = `test_request_duration_seconds_bucket{job="exporter"}`, 1000
	data, err := src.Data(ctx, &withLat, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ls := slo.Evaluate(&withLat, data, time.Now()); ls.P95Ms == nil || math.Abs(*ls.P95Ms-725) > 0.5 {
		t.Errorf("p95 from the histogram: %v, want 725 ms", ls.P95Ms)
	}
	// A latency query Prometheus refuses costs the p95, not the counts.
	broken := withLat
	broken.Indicator.LatencyHistogram = `x_bucket{`
	if data, err := src.Data(ctx, &broken, time.Now()); err != nil || data.P95Ms() != -1 || data.Sums([]time.Duration{time.Hour})[0].Total == 0 {
		t.Errorf("with a broken latency query: %v, %v", data, err)
	}
	// A histogram with no series gives no p95, not zero.
	none := withLat
	none.Indicator.LatencyHistogram = `nothing_bucket`
	if data, err := src.Data(ctx, &none, time.Now()); err != nil || data.P95Ms() != -1 {
		t.Errorf("p95 of a missing histogram: %v, %v", data, err)
	}

	// The same SLI as Sloth writes it, through CountQuery as config reads
	// it, gives the same numbers.
	sloth := *def
	good, err := CountQuery(`sum(rate(test_requests_total{code!~"5.."}[{{.window}}]))`)
	if err != nil {
		t.Fatal(err)
	}
	total, err := CountQuery(`sum by (code) (test_requests_total)`)
	if err != nil {
		t.Fatal(err)
	}
	sloth.Indicator.Good, sloth.Indicator.Total = good, total
	data, err = src.Data(ctx, &sloth, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	near("sli (Sloth's queries)", slo.Evaluate(&sloth, data, time.Now()).SLI, sli)

	// A bad-based ratio gives the same numbers.
	bad := *def
	bad.Indicator.Good, bad.Indicator.Bad = "", `test_requests_total{code=~"5.."}`
	data, err = src.Data(ctx, &bad, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	near("sli (bad)", slo.Evaluate(&bad, data, time.Now()).SLI, sli)

	// A threshold SLI in time slices: the p95 gauge (0.2) is under 0.3 in
	// every slice, so every slice is good.
	th := *def
	th.Method, th.TimeSliceWindow = slo.Timeslices, 10*time.Second
	th.Window, th.Alerting = slo.Window{Rolling: time.Hour}, slo.DefaultPolicy(time.Hour)
	th.Indicator = slo.Indicator{Source: slo.SourcePrometheus, PrometheusURL: promURL, Query: "test_latency_p95_seconds", Op: "lte", Threshold: 0.3}
	// Slices are aligned to 10 s of wall time: wait (bounded) for the first.
	var ts slo.Status
	for {
		data, err = src.Data(ctx, &th, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if ts = slo.Evaluate(&th, data, time.Now()); (ts.Total != nil && *ts.Total >= 1) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond) // polling a real server; nothing to wait on
	}
	if ts.Total == nil || *ts.Total < 1 || ts.SLI == nil || *ts.SLI != 1 {
		t.Errorf("threshold SLI: %v of %v slices good", ts.Good, ts.Total)
	}
	th.Indicator.Threshold = 0.1 // now every slice is bad
	data, err = src.Data(ctx, &th, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ts := slo.Evaluate(&th, data, time.Now()); ts.Total == nil || *ts.Total < 1 || ts.SLI == nil || *ts.SLI != 0 {
		t.Errorf("threshold SLI over a failing threshold: %v of %v slices good", ts.Good, ts.Total)
	}

	// History runs query_range; under an hour of data it has no full hour.
	if _, err := src.Hours(ctx, def, time.Now().Add(-3*time.Hour), time.Now()); err != nil {
		t.Errorf("hours: %v", err)
	}

	// An unreachable server is an error, not a number.
	off := *def
	off.Indicator.PrometheusURL = "http://127.0.0.1:1"
	if _, err := src.Data(ctx, &off, time.Now()); err == nil {
		t.Error("unreachable Prometheus gave no error")
	}
}

// BucketQuantile interpolates inside the bucket holding the rank, as
// histogram_quantile does, and reports the highest finite bound (not
// +Inf) when the rank is in the overflow bucket.
func TestBucketQuantile(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name    string
		q       float64
		buckets map[float64]float64
		want    float64
		ok      bool
	}{
		{"middle bucket", 0.95, map[float64]float64{0.1: 100, 0.5: 100, 1: 110, inf: 110}, 0.725, true},
		{"first bucket from 0", 0.5, map[float64]float64{0.1: 100, 1: 100, inf: 100}, 0.05, true},
		{"overflow", 0.99, map[float64]float64{0.1: 10, 1: 50, inf: 100}, 1, true},
		{"a bent cumulative count", 0.5, map[float64]float64{0.1: 60, 0.5: 55, 1: 100, inf: 100}, 0.1 * 50 / 60, true},
		{"empty", 0.95, map[float64]float64{0.1: 0, inf: 0}, 0, false},
		{"no buckets", 0.95, nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := BucketQuantile(tt.q, tt.buckets)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v %v, want %v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzBucketQuantile: any buckets Prometheus may send give a finite
// quantile within the bounds, or none.
func FuzzBucketQuantile(f *testing.F) {
	f.Add(0.95, 0.1, 100.0, 0.5, 100.0, 110.0)
	f.Add(0.5, 1.0, -3.0, 2.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, q, b1, c1, b2, c2, cinf float64) {
		if q < 0 || q > 1 || math.IsNaN(q) {
			return
		}
		bs := map[float64]float64{b1: c1, b2: c2, math.Inf(1): cinf}
		v, ok := BucketQuantile(q, bs)
		if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("BucketQuantile(%v, %v) = %v", q, bs, v)
		}
	})
}
