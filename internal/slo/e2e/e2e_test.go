// Package e2e tests the SLO capability end to end: API, CLI, /metrics and
// ingest throughput on a real server.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/cli"
	"github.com/tandemhq/tandem/internal/clock"
)

func ptr[T any](v T) *T { return &v }

// val is *p, or -1 for nil (no number a test expects).
func val(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// TestEndToEnd drives the SLO API, CLI and /metrics of a real server on
// both engines.
func TestEndToEnd(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			now := time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)
			clk := clock.NewFake(now)
			srv := apptest.Start(t, apptest.Options{Postgres: pg, Clock: clk})
			ctx := context.Background()
			c := srv.Client
			const name = "search-query-failures" // objective 99.5 % over 7 d

			// Counts: 6 hours of 1000 queries a minute, 2 failing (0.2 %).
			var evs []client.SLOEvent
			for m := now.Truncate(time.Minute).Add(-6 * time.Hour); m.Before(now.Truncate(time.Minute)); m = m.Add(time.Minute) {
				evs = append(evs, client.SLOEvent{Time: m, Good: ptr[int64](998), Total: ptr[int64](1000)})
			}
			res, err := c.PostSLOEvents(ctx, name, client.SLOBatch{Source: "edge", BatchID: "b1", Events: evs})
			if err != nil || res.Status != "accepted" || res.Minutes != 360 {
				t.Fatalf("ingest: %+v %v", res, err)
			}
			res, err = c.PostSLOEvents(ctx, name, client.SLOBatch{Source: "edge", BatchID: "b1", Events: evs})
			if err != nil || res.Status != "duplicate" {
				t.Fatalf("duplicate batch: %+v %v", res, err)
			}
			// The same batch id with other content is a 409 naming it.
			other := append([]client.SLOEvent(nil), evs...)
			other[0].Good = ptr[int64](1)
			_, err = c.PostSLOEvents(ctx, name, client.SLOBatch{Source: "edge", BatchID: "b1", Events: other})
			var ce *tandem.Error
			if !errors.As(err, &ce) || ce.Code != tandem.EConflict || !strings.Contains(ce.Message, `"b1"`) {
				t.Fatalf("batch id reused with other content: %v", err)
			}
			// Raw observations in the last minute: 3 of 10 are 5xx.
			var obs []client.SLOEvent
			for i := range 10 {
				st := 200
				if i < 3 {
					st = 503
				}
				obs = append(obs, client.SLOEvent{Time: now.Truncate(time.Minute).Add(-time.Minute), Status: ptr(st), LatencyMs: ptr(float64(20 + i))})
			}
			if _, err := c.PostSLOEvents(ctx, name, client.SLOBatch{Events: obs}); err != nil {
				t.Fatal(err)
			}

			st, err := c.SLO(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			// Window: 360,010 queries, 720 + 3 failed. SLI = 1 - 723/360010.
			if val(st.Total) != 360010 || val(st.Good) != 360010-723 {
				t.Errorf("counts %v/%v", st.Good, st.Total)
			}
			// 5m: (5×2 + 3) bad of 5×1000 + 10 → 0.0025948/0.005 = 0.518962.
			if b := val(st.BurnRates["5m"]); b < 0.51896 || b > 0.51897 {
				t.Errorf("burn 5m = %v, want 0.518962", b)
			}
			// Consumed 723/360010/0.005 = 0.401655; remaining 0.598345 → healthy.
			if r := val(st.ErrorBudget.Remaining); r < 0.59834 || r > 0.59835 || st.Status != "healthy" {
				t.Errorf("remaining %v status %s", r, st.Status)
			}
			// Latencies 20..29 ms: the p95 is the observation of rank
			// ⌊0.95 × 9⌋ = 8, 28 ms, within 1 %.
			if st.P95Ms == nil || *st.P95Ms < 27.72 || *st.P95Ms > 28.28 {
				t.Errorf("p95 from observations: %v, want 28 ms ± 1%%", st.P95Ms)
			}

			// List, filter, unknown names.
			all, err := c.SLOs(ctx, "")
			if err != nil || len(all) < 5 {
				t.Fatalf("list: %d %v", len(all), err)
			}
			for _, s := range all {
				if s.Source == "prometheus" && (s.Error == "" || s.Total != nil || s.SLI != nil || s.Status != "no_data" || !strings.HasPrefix(s.Reason, "source unreadable: ")) {
					t.Errorf("prometheus SLO %s has data without a Prometheus: %+v", s.Name, s)
				}
				// identity-login-latency has had no event: no data, no number.
				if s.Name == "identity-login-latency" && (s.Status != "no_data" || s.Reason != "no events in the window" || s.SLI != nil || s.ErrorBudget.Remaining != nil || s.BurnRates["1h"] != nil) {
					t.Errorf("idle SLO: %+v", s)
				}
			}
			one, err := c.SLOs(ctx, "search-api")
			if err != nil || len(one) != 1 {
				t.Fatalf("filtered list: %+v %v", one, err)
			}
			_, err = c.SLO(ctx, "search-query-failure")
			var te *tandem.Error
			if !errors.As(err, &te) || te.Code != tandem.ENotFound || !strings.Contains(te.Message, "did you mean search-query-failures") {
				t.Errorf("unknown SLO: %v", err)
			}
			if _, err := c.SLOs(ctx, "serch-api"); !errors.As(err, &te) || te.Code != tandem.ENotFound {
				t.Errorf("unknown service: %v", err)
			}

			// Bad input: 400 naming the field, never 500.
			for body, field := range map[string]string{
				`{"events":[{"time":"2026-11-25T12:00:00Z","good":5,"total":3}]}`:       "events[0].good",
				`{"events":[{"time":"2026-11-25T12:00:00Z","good":1,"total":1,"x":1}]}`: "x",
				`{"events":[]}`: "events",
				`{"events":[{"time":"1999-01-01T00:00:00Z","good":1,"total":1}]}`: "events[0].time",
			} {
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/slos/"+name+"/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"`+field+`"`) {
					t.Errorf("%s: %d %s", body, resp.StatusCode, b)
				}
			}
			// Posting to a Prometheus-backed SLO is refused.
			if _, err := c.PostSLOEvents(ctx, "checkout-availability", client.SLOBatch{Events: evs[:1]}); !errors.As(err, &te) || te.Code != tandem.EInvalid {
				t.Errorf("ingest into a Prometheus SLO: %v", err)
			}

			// History: hourly points of the last 6 hours.
			h, err := c.SLOHistory(ctx, name, now.Add(-6*time.Hour), now)
			if err != nil || len(h) != 6 {
				t.Fatalf("history: %d %v", len(h), err)
			}
			if h[0].Total != 60000 || h[0].Good != 59880 {
				t.Errorf("history point %+v", h[0])
			}

			// A reversed or unparsable range is a 400 naming the parameter.
			for q, field := range map[string]string{"from=2026-11-25T12:00:00Z&to=2026-11-24T00:00:00Z": "from", "to=yesterday": "to"} {
				req, _ := http.NewRequest("GET", srv.URL+"/api/v1/slos/"+name+"/history?"+q, nil)
				req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"`+field+`"`) {
					t.Errorf("history?%s: %d %s", q, resp.StatusCode, b)
				}
			}

			// Exhaust checkout-api-availability's budget: freeze.
			var bad []client.SLOEvent
			for m := now.Truncate(time.Minute).Add(-2 * time.Hour); m.Before(now.Truncate(time.Minute)); m = m.Add(time.Minute) {
				bad = append(bad, client.SLOEvent{Time: m, Good: ptr[int64](900), Total: ptr[int64](1000)})
			}
			if _, err := c.PostSLOEvents(ctx, "checkout-api-availability", client.SLOBatch{Events: bad}); err != nil {
				t.Fatal(err)
			}
			fz, err := c.Freeze(ctx, "checkout")
			if err != nil || !fz.Active || !strings.Contains(fz.Reason, "checkout-api-availability") {
				t.Errorf("freeze: %+v %v", fz, err)
			}

			// Migration success from change events: 3 of 4 migrations of
			// postgres-main succeeded this quarter (one in progress does not count).
			var migs []change.Event
			for i, st := range []string{"success", "success", "failed", "success", "in_progress"} {
				e := change.Event{Service: "postgres-main", Kind: "migration", Status: st, Source: "test", ExternalID: fmt.Sprint("m", i),
					StartedAt: now.Add(-time.Duration(10-i) * time.Hour)}
				if st != "in_progress" {
					e.FinishedAt = e.StartedAt.Add(time.Minute)
				}
				migs = append(migs, e)
			}
			if _, err := change.NewStore(srv.Main.DB).Record(ctx, migs, now); err != nil {
				t.Fatal(err)
			}
			ms, err := c.SLO(ctx, "postgres-migrations")
			if err != nil || val(ms.Total) != 4 || val(ms.Good) != 3 || ms.Status != "exhausted" {
				t.Errorf("migration SLO: %+v %v", ms, err)
			}

			// The background evaluation fills /metrics.
			if _, err := srv.Main.API.SLO.Service.EvaluateOnce(ctx, clk.Now()); err != nil {
				t.Logf("evaluation (Prometheus SLOs have no server here): %v", err)
			}
			// The page on checkout-api-availability (10 % errors: burn 100)
			// opened an incident; seven hours later it is resolved.
			type inc struct {
				Title, Status string
			}
			findInc := func() (inc, bool) {
				var l client.List[inc]
				if err := c.Do(ctx, "GET", "/api/v1/incidents", nil, nil, &l); err != nil {
					t.Fatal(err)
				}
				for _, i := range l.Items {
					if strings.Contains(i.Title, "checkout-api-availability") {
						return i, true
					}
				}
				return inc{}, false
			}
			if i, ok := findInc(); !ok || i.Status != "triggered" {
				t.Errorf("incident for the page: %+v %v", i, ok)
			}
			clk.Advance(7 * time.Hour)
			if _, err := srv.Main.API.SLO.Service.EvaluateOnce(ctx, clk.Now()); err != nil {
				t.Logf("evaluation: %v", err)
			}
			if i, ok := findInc(); !ok || i.Status != "resolved" {
				t.Errorf("incident after the burn stopped: %+v %v", i, ok)
			}
			clk.Set(now)
			if _, err := srv.Main.API.SLO.Service.EvaluateOnce(ctx, clk.Now()); err != nil {
				t.Logf("evaluation: %v", err)
			}

			resp, err := http.Get(srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{
				`tandem_slo_burn_rate{service="search-api",slo="search-query-failures",window="5m"} 0.518962`,
				`tandem_slo_objective_ratio{service="search-api",slo="search-query-failures"} 0.995`,
				`tandem_slo_error_budget_remaining_ratio{service="checkout",slo="checkout-api-availability"}`,
				`tandem_slo_sli_ratio{service="search-api",slo="search-query-failures"}`,
				`tandem_slo_status{service="identity-api",slo="identity-login-latency",status="no_data"} 1`,
				`tandem_slo_status{service="search-api",slo="search-query-failures",status="healthy"} 1`,
			} {
				if !bytes.Contains(metrics, []byte(want)) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			for _, no := range []string{`tandem_slo_sli_ratio{service="identity-api",slo="identity-login-latency"}`, `tandem_slo_error_budget_remaining_ratio{service="identity-api",slo="identity-login-latency"}`,
				`tandem_slo_burn_rate{service="identity-api",slo="identity-login-latency"`} {
				if bytes.Contains(metrics, []byte(no)) {
					t.Errorf("/metrics exports %s for an SLO without data", no)
				}
			}
			if bytes.Contains(metrics, []byte("NaN")) {
				t.Error("/metrics holds NaN")
			}

			// The CLI reads the same numbers.
			var out, errOut bytes.Buffer
			code := cli.Execute(ctx, []string{"slo", "status", name, "--url", srv.URL, "--token", srv.AdminToken, "--format", "json"}, nil, &out, &errOut)
			if code != 0 {
				t.Fatalf("slo status: %d %s", code, errOut.String())
			}
			var cst struct {
				BurnRates map[string]float64 `json:"burn_rates"`
			}
			if err := json.Unmarshal(out.Bytes(), &cst); err != nil || cst.BurnRates["5m"] != val(st.BurnRates["5m"]) {
				t.Errorf("cli json: %v %s", err, out.String())
			}
			out.Reset()
			if code := cli.Execute(ctx, []string{"slo", "list", "--url", srv.URL, "--token", srv.AdminToken}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "search-query-failures") {
				t.Errorf("slo list: %d %s %s", code, out.String(), errOut.String())
			}
			// An SLO without data prints "no data" and why, never 100 %.
			for _, line := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(line, "identity-login-latency ") && (!strings.Contains(line, "no data") || !strings.Contains(line, "no_data (no events in the window)") || strings.Contains(line, "100.0")) {
					t.Errorf("slo list, idle SLO: %q", line)
				}
				if strings.HasPrefix(line, "checkout-availability ") && (!strings.Contains(line, "source unreadable") || strings.Contains(line, "%\t") || strings.Contains(line, "100.0")) {
					t.Errorf("slo list, unreadable SLO: %q", line)
				}
			}
			out.Reset()
			if code := cli.Execute(ctx, []string{"slo", "status", "identity-login-latency", "--url", srv.URL, "--token", srv.AdminToken}, nil, &out, &errOut); code != 0 ||
				!strings.Contains(out.String(), "Attainment      no data") || !strings.Contains(out.String(), "1h no data") || !strings.Contains(out.String(), "no_data: no events in the window") {
				t.Errorf("slo status, idle SLO: %d %s", code, out.String())
			}
		})
	}
}

// BenchmarkIngestObservations posts batches of 10,000 raw observations to a
// real server (target: at least 50,000 observations a second).
func BenchmarkIngestObservations(b *testing.B) {
	srv := apptest.Start(b, apptest.Options{})
	now := time.Now().UTC()
	const per = 10000
	batch := client.SLOBatch{Source: "bench"}
	for i := range per {
		batch.Events = append(batch.Events, client.SLOEvent{
			Time: now.Add(-time.Duration(i%600) * time.Second), LatencyMs: ptr(float64(i % 400)), Status: ptr(200 + (i%50)/49*300),
		})
	}
	body, _ := json.Marshal(batch)
	if len(body) > 1<<20 {
		b.Fatalf("batch of %d bytes is over the body limit", len(body))
	}
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		batch.BatchID = fmt.Sprint(i)
		if _, err := srv.Client.PostSLOEvents(ctx, "identity-login-latency", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(per*i)/b.Elapsed().Seconds(), "obs/s")
}

// TestGeneratorCommands runs `tandem slo rules` and `tandem grafana
// dashboard` on the example config.
func TestGeneratorCommands(t *testing.T) {
	dir := apptest.ExamplesDir(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := cli.Execute(ctx, []string{"slo", "rules", "--config", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("slo rules: %d %s", code, errOut.String())
	}
	for _, want := range []string{`- name: "tandem-slo-checkout-availability"`, `alert: "SLOBurnRatePage"`, `record: "slo:sli_error:ratio_rate3d"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rules lack %s", want)
		}
	}
	if strings.Contains(out.String(), "search-query-failures") {
		t.Error("rules for an ingest SLO")
	}
	out.Reset()
	if code := cli.Execute(ctx, []string{"grafana", "dashboard", "--config", dir, "--service", "checkout"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("grafana dashboard: %d %s", code, errOut.String())
	}
	var d struct {
		Panels []struct{ Title string }
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	gauges := 0
	for _, p := range d.Panels {
		if p.Title == "Error Budget Remaining" {
			gauges++
		}
	}
	if gauges != 3 { // checkout-availability, checkout-latency, checkout-api-availability
		t.Errorf("%d gauges for checkout, want 3", gauges)
	}
	errOut.Reset()
	if code := cli.Execute(ctx, []string{"slo", "rules"}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--config") {
		t.Errorf("rules without --config: %d %s", code, errOut.String())
	}
}
