package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tandemhq/tandem/internal/alerting"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/testenv"
)

// sink records the alerts the evaluator raises.
type sink struct {
	mu  sync.Mutex
	got []slo.AlertEvent
}

func (s *sink) Send(_ context.Context, e slo.AlertEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, e)
	return nil
}

func (s *sink) firing() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.got {
		if e.Status == "firing" {
			out = append(out, e.SLO+"/"+e.Severity)
		}
	}
	sort.Strings(out)
	return out
}

// TestIdleExporter runs a real Prometheus that scrapes an exporter whose
// latency histogram and request counters never move, with the rules of
// `tandem slo rules` loaded, and evaluates the SLOs on them with tandem's
// evaluator: no traffic spends no budget, in the evaluator (status no_data,
// no burn, no alert raised) and in the rules (no error ratio recorded, no
// alert). Then traffic starts, failing and slow: both page. Windows are
// scaled to seconds (5-second time slices, alerts over 30 s and 10 s).
func TestIdleExporter(t *testing.T) {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idle_requests_total", Help: "requests"}, []string{"code"})
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idle_request_duration_seconds", Help: "latency", Buckets: []float64{0.1, 0.3, 0.5, 1}})
	reg.MustRegister(reqs, lat)
	reqs.WithLabelValues("200") // the series exist from the first scrape, at 0
	reqs.WithLabelValues("500")
	var busy atomic.Bool
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if busy.Load() {
			// Per scrape: 90 good and 10 failed requests, all at 0.8 s.
			reqs.WithLabelValues("200").Add(90)
			reqs.WithLabelValues("500").Add(10)
			for range 100 {
				lat.Observe(0.8)
			}
		}
		metrics.ServeHTTP(w, r)
	}))
	defer exporter.Close()

	policy := slo.AlertPolicy{
		Page:      []slo.BurnCondition{{Long: 30 * time.Second, Short: 10 * time.Second, Threshold: 2, Op: "gt"}},
		MinEvents: 3,
	}
	latency := &slo.Definition{
		Name: "idle-latency", Service: "checkout", Objective: 0.99, Method: slo.Timeslices,
		Window: slo.Window{Rolling: 10 * time.Minute}, TimeSliceWindow: 5 * time.Second, TimeSliceTarget: 1, Alerting: policy,
		// {{.window}} is the slice: the p95 of each 5 seconds.
		Indicator: slo.Indicator{Source: slo.SourcePrometheus, Op: "lte", Threshold: 0.3,
			Query: `histogram_quantile(0.95, sum by (le) (rate(idle_request_duration_seconds_bucket[{{.window}}])))`},
	}
	errorsDef := &slo.Definition{
		Name: "idle-errors", Service: "checkout", Objective: 0.99, Method: slo.Occurrences,
		Window: slo.Window{Rolling: 10 * time.Minute}, Alerting: policy,
		Indicator: slo.Indicator{Source: slo.SourcePrometheus, Good: `idle_requests_total{code="200"}`, Total: `idle_requests_total`},
	}
	defs := []*slo.Definition{latency, errorsDef}
	rules, err := alerting.Rules(defs)
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesFile, rules, 0o644); err != nil {
		t.Fatal(err)
	}
	promURL := testenv.Prometheus(t, exporter.URL, rulesFile)
	for _, d := range defs {
		d.Indicator.PrometheusURL = promURL
	}

	store := slo.NewStore(dbtest.SQLite(t))
	alerts := &sink{}
	svc, err := slo.NewService(slo.Options{Store: store, Definitions: func() []*slo.Definition { return defs },
		Prometheus: sli.NewPrometheus(&http.Client{Timeout: 10 * time.Second}), Sink: alerts, QueryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q := func(expr string) []promSample {
		t.Helper()
		return query(t, promURL, expr)
	}

	// Idle for longer than the alert's long window: 35 scrapes of the
	// histogram and counters at zero, and the rules evaluated over them
	// (an idle slice counted as bad would page: 6 slices of 30 s hold
	// more than the 3 the guard wants).
	waitFor(t, 60*time.Second, "35 idle scrapes", func() bool {
		s := q(`count_over_time(idle_request_duration_seconds_bucket{le="+Inf"}[1m])`)
		return len(s) == 1 && s[0].Value >= 35
	})
	if n := evaluatedRules(t, promURL); n != 2*(len(alerting.Windows(latency))+1) {
		t.Fatalf("%d rules evaluated without error, want %d", n, 2*(len(alerting.Windows(latency))+1))
	}
	sts, err := svc.EvaluateOnce(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Error != "" || st.Status != slo.StatusNoData || st.Total == nil || *st.Total != 0 || st.Alerts.Page.Firing || st.Alerts.Ticket.Firing {
			total := "null"
			if st.Total != nil {
				total = fmt.Sprint(*st.Total)
			}
			t.Errorf("idle %s: status %s, total %s, alerts %+v, error %q", st.Name, st.Status, total, st.Alerts, st.Error)
		}
		for w, b := range st.BurnRates {
			if b != nil {
				t.Errorf("idle %s burns at %v over %s, want null", st.Name, *b, w)
			}
		}
	}
	if got := alerts.firing(); len(got) != 0 {
		t.Errorf("idle SLOs raised %v", got)
	}
	if s := q(`{__name__=~"slo:sli_error:ratio_rate.+"}`); len(s) != 0 {
		t.Errorf("the rules recorded error ratios while idle: %v", s)
	}
	if s := q(`ALERTS`); len(s) != 0 {
		t.Errorf("the rules alert while idle: %v", s)
	}

	// Traffic: a tenth fails (burn 10 against 1 %) and every request takes
	// 0.8 s (every slice bad): both SLOs page, in tandem and in the rules.
	busy.Store(true)
	waitFor(t, 60*time.Second, "the rules' pages", func() bool {
		return len(q(`ALERTS{alertname="SLOBurnRatePage", alertstate="firing"}`)) == 2
	})
	waitFor(t, 30*time.Second, "the evaluator's pages", func() bool {
		_, err := svc.EvaluateOnce(ctx, time.Now())
		return err == nil && fmt.Sprint(alerts.firing()) == "[idle-errors/page idle-latency/page]"
	})
	for _, st := range svc.Last() {
		if st.Status == slo.StatusNoData || st.BurnRates["5m"] == nil || *st.BurnRates["5m"] <= 0 || !st.Alerts.Page.Firing {
			t.Errorf("busy %s: status %s, burn %v, alerts %+v", st.Name, st.Status, st.BurnRates, st.Alerts)
		}
	}
	if s := q(`slo:sli_error:ratio_rate10s{slo="idle-latency"}`); len(s) != 1 || s[0].Value != 1 {
		t.Errorf("the latency SLO's recorded 10s error ratio: %v, want 1", s)
	}
}

type promSample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant query on the Prometheus HTTP API.
func query(t *testing.T, base, expr string) []promSample {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query %s: %v %s", expr, err, body.Error)
	}
	var out []promSample
	for _, r := range body.Data.Result {
		var v float64
		if s, ok := r.Value[1].(string); ok {
			fmt.Sscan(s, &v)
		}
		out = append(out, promSample{Metric: r.Metric, Value: v})
	}
	return out
}

// evaluatedRules counts the loaded rules that Prometheus has evaluated
// without error: an idle rule that records nothing must still be one that
// runs.
func evaluatedRules(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name, Health, LastError string
					LastEvaluation          time.Time
				}
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			if r.Health == "ok" && !r.LastEvaluation.IsZero() && r.LastEvaluation.Year() > 2000 {
				n++
			} else {
				t.Logf("rule %s: health %s, error %q", r.Name, r.Health, r.LastError)
			}
		}
	}
	return n
}

// waitFor polls cond (a real server is being watched: nothing signals)
// until it holds, or fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, limit)
		}
		time.Sleep(500 * time.Millisecond) // polling a real server; nothing to wait on
	}
}
