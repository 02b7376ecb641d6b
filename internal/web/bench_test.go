package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/slo"
)

// bigOrg is a catalog of n services in n/10 teams, each with two SLOs in
// the evaluator's cache, a deploy a day for 60 days, and an open incident
// on every tenth service.
type bigOrg struct {
	cat      *catalog.Catalog
	statuses []slo.Status
	defs     []*slo.Definition
	inputs   dora.Inputs
	open     []incident.Incident
}

func newBigOrg(n int, now time.Time) *bigOrg {
	o := &bigOrg{}
	var teams []catalog.Team
	var svcs []catalog.Service
	var dsvcs []dora.Service
	for i := 0; i < n; i++ {
		team := fmt.Sprintf("team-%02d", i/10)
		if i%10 == 0 {
			teams = append(teams, catalog.Team{Name: team})
		}
		name := fmt.Sprintf("service-%03d", i)
		svcs = append(svcs, catalog.Service{Name: name, Team: team, Tier: 1 + i%3, Environments: []string{"production", "staging"}})
		dsvcs = append(dsvcs, dora.Service{Name: name, Team: team})
		for j, kind := range []string{"availability", "latency"} {
			remaining := 1 - float64((i*7+j*13)%120)/100 // spread over -0.2..1
			st := slo.Status{Name: name + "-" + kind, Service: name, Objective: 0.999, Window: "28d",
				SLI: slo.Float(0.9995), ErrorBudget: slo.Budget{Remaining: slo.Float(remaining)}, EvaluatedAt: now,
				BurnRates: map[string]*float64{"1h": slo.Float(float64(i%20) / 4)}, Status: slo.StatusOf(remaining, true)}
			st.Freeze.Active = remaining < 0.1
			st.Freeze.Reason = "budget low"
			o.statuses = append(o.statuses, st)
			o.defs = append(o.defs, &slo.Definition{Name: st.Name, Service: name})
		}
		for d := 0; d < 60; d++ {
			o.inputs.Deploys = append(o.inputs.Deploys, dora.Deploy{ID: int64(len(o.inputs.Deploys) + 1),
				At: now.Add(-time.Duration(d)*24*time.Hour - time.Duration(i)*time.Minute).UnixMilli(), Service: int32(i)})
		}
		if i%10 == 0 {
			o.open = append(o.open, incident.Incident{ID: int64(i + 1), Title: "errors", Services: []string{name}, Severity: "sev2", Status: incident.Triggered, StartedAt: now.Add(-time.Hour)})
		}
	}
	o.inputs.Services = dsvcs
	o.cat = catalog.New(teams, nil, svcs, nil)
	return o
}

// The fakes below stand in for the capabilities so the benchmark measures
// the dashboard's own work: gathering, sorting, filtering, rendering.
func (o *bigOrg) Definitions() []*slo.Definition { return o.defs }
func (o *bigOrg) StatusAll(context.Context, time.Time) ([]slo.Status, error) {
	return o.statuses, nil
}
func (o *bigOrg) Last() []slo.Status { return o.statuses }
func (o *bigOrg) Status(context.Context, string, time.Time) (slo.Status, error) {
	return slo.Status{}, nil
}
func (o *bigOrg) History(context.Context, string, time.Time, time.Time) ([]slo.HistoryPoint, error) {
	return nil, nil
}
func (o *bigOrg) Load(context.Context, *catalog.Catalog, dora.Query) (dora.Inputs, error) {
	return o.inputs, nil
}

type bigIncidents struct {
	Incidents
	open []incident.Incident
}

func (b bigIncidents) List(context.Context, incident.Filter) ([]incident.Incident, error) {
	return b.open, nil
}

func bigHandler(tb testing.TB, n int) (*Handler, *bigOrg) {
	o := newBigOrg(n, testNow)
	h := New(Deps{
		Config: config.NewHolder(&config.Config{LoadedAt: testNow, Catalog: o.cat}),
		Log:    slog.New(slog.DiscardHandler), Clock: clock.NewFake(testNow), PublicRead: true,
		SLOs: o, DORA: o, Incidents: bigIncidents{open: o.open},
	})
	return h, o
}

// serve renders GET path with gzip and returns the compressed body.
func serve(tb testing.TB, h http.Handler, path string) []byte {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET %s: %d\n%s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// TestBigOverviewUnder300KB checks the wire size target on the 500-service
// overview, and that it is sorted worst first.
func TestBigOverviewUnder300KB(t *testing.T) {
	h, _ := bigHandler(t, 500)
	body := serve(t, h, "/")
	if len(body) > 300<<10 {
		t.Fatalf("overview with 500 services is %d bytes gzipped, want under 300 KB", len(body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(zr)
	first := bytes.Index(page, []byte(`data-status="`))
	if first < 0 || !bytes.HasPrefix(page[first:], []byte(`data-status="exhausted"`)) {
		t.Fatalf("the first row is not an exhausted service")
	}
	t.Logf("500 services: %d bytes gzipped, %d bytes plain", len(body), len(page))
}

// BenchmarkOverview500Services renders the overview of 500 services with
// 1000 SLOs, DORA tiers and open incidents, gzip on. "cold" recomputes the
// DORA tiers (30,000 deploys) every time; "warm" uses the one-minute tier
// cache, as the 30-second refresh does. Target: under 150 ms.
func BenchmarkOverview500Services(b *testing.B) {
	h, _ := bigHandler(b, 500)
	for _, mode := range []string{"warm", "cold"} {
		b.Run(mode, func(b *testing.B) {
			var size int
			for b.Loop() {
				if mode == "cold" {
					h.tiers.mu.Lock()
					h.tiers.reports = nil
					h.tiers.mu.Unlock()
				}
				size = len(serve(b, h, "/"))
			}
			b.ReportMetric(float64(size), "gzip-bytes")
		})
	}
}
