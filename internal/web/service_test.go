package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/slo"
)

func TestServicePageChangesAndGates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		changes := change.NewStore(d)
		evs, err := changes.Record(ctx, []change.Event{
			{Service: "checkout", Kind: change.KindDeploy, Version: "v1.4.2", FinishedAt: testNow.Add(-3 * time.Hour), Actor: "ci", Verify: true},
			{Service: "checkout", Kind: change.KindRollback, Version: "v1.4.1", FinishedAt: testNow.Add(-2 * time.Hour), Status: change.StatusSuccess},
			{Service: "checkout", Kind: change.KindDeploy, Version: "v1.5.0", Environment: "staging", FinishedAt: testNow.Add(-time.Hour)},
			{Service: "search-api", Kind: change.KindDeploy, Version: "v9", FinishedAt: testNow.Add(-time.Hour)},
		}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		gates := gate.NewStore(d)
		if _, err := gates.Record(ctx, gate.Result{Kind: gate.KindVerify, Service: "checkout", Verdict: gate.Fail, ChangeID: evs[0].ID,
			Message: "error ratio doubled", Checks: []gate.Check{{Name: "error_ratio", Value: gate.Measured(0.02), Op: "<=", Threshold: 0.01, Verdict: gate.Fail}}}, testNow); err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, d, Deps{PublicRead: true, Changes: changes, Gates: gates})
		res, body := get(t, http.DefaultClient, s.URL+"/services/checkout?range=24h")
		if res.StatusCode != 200 {
			t.Fatalf("status %d\n%s", res.StatusCode, body)
		}
		for _, want := range []string{
			`id="change-` + itoa(evs[0].ID) + `"`, "v1.4.2", "v1.5.0", // every environment in the table
			"verify gate", "error ratio doubled", `id="gate-runs"`, "error_ratio",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("service page lacks %q", want)
			}
		}
		if strings.Contains(body, "v9") {
			t.Errorf("another service's change is listed")
		}
		if !strings.Contains(body, "SLOs are not available") {
			t.Errorf("the page does not say SLOs are unavailable")
		}
		// A wrong name answers 404 with suggestions.
		res, body = get(t, http.DefaultClient, s.URL+"/services/chekout")
		if res.StatusCode != 404 || !strings.Contains(body, "did you mean checkout") {
			t.Errorf("unknown service: %d\n%s", res.StatusCode, body)
		}
		if res, _ := get(t, http.DefaultClient, s.URL+"/services/checkout?range=zz"); res.StatusCode != 400 {
			t.Errorf("bad range: %d", res.StatusCode)
		}
	})
}

func TestSLODrillDownLinks(t *testing.T) {
	def := &slo.Definition{Name: "checkout-availability", Indicator: slo.Indicator{Source: slo.SourcePrometheus,
		PrometheusURL: "http://prom.internal:9090", Bad: `http_requests_total{code=~"5.."}`, Total: "http_requests_total"}}
	tr := timeRange{From: testNow.Add(-7 * 24 * time.Hour), To: testNow, Range: "7d"}
	dc := config.DashboardConfig{PrometheusURL: "https://prom.example.com", GrafanaURL: "https://grafana.example.com", GrafanaDatasource: "prom-uid",
		AlertRunbooks: map[string]string{"checkout-availability": "https://runbooks.example.com/checkout-burn"}}
	links := sloLinks(dc, def, tr)
	if len(links) != 3 {
		t.Fatalf("links: %+v", links)
	}
	prom, err := url.Parse(links[0].Href)
	if err != nil || prom.Host != "prom.example.com" || prom.Path != "/graph" ||
		prom.Query().Get("g0.expr") != `1 - sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))` ||
		prom.Query().Get("g0.range_input") != "7d" {
		t.Errorf("Prometheus link %s", links[0].Href)
	}
	graf, err := url.Parse(links[1].Href)
	if err != nil || graf.Path != "/explore" || !strings.Contains(graf.Query().Get("left"), `"datasource":"prom-uid"`) ||
		!strings.Contains(graf.Query().Get("left"), `"from":"`+strconv.FormatInt(tr.From.UnixMilli(), 10)+`"`) {
		t.Errorf("Grafana link %s", links[1].Href)
	}
	if links[2].Href != "https://runbooks.example.com/checkout-burn" {
		t.Errorf("runbook link %+v", links[2])
	}
	// Without the dashboard's URLs the Prometheus link uses the SLO's own
	// server; a native SLI has no query to link.
	if l := sloLinks(config.DashboardConfig{}, def, tr); len(l) != 1 || !strings.HasPrefix(l[0].Href, "http://prom.internal:9090/graph?") {
		t.Errorf("fallback links %+v", l)
	}
	if l := sloLinks(dc, &slo.Definition{Name: "x", Indicator: slo.Indicator{Source: slo.SourceNative}}, tr); len(l) != 0 {
		t.Errorf("a native SLI links %+v", l)
	}
}
