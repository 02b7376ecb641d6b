package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/slo"
)

// apiGet decodes the JSON answer of GET path on the server.
func apiGet(t *testing.T, srv *apptest.Server, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

type list[T any] struct {
	Items []T `json:"items"`
}

// TestStory generates the demo and reads its story back through the API:
// the bad deploy, the SLI drop it causes and the rollback that ends it, the
// page, the incident's timeline and its postmortem, in that order; gates
// that report the budget the SLO status and the budget chart show; no
// "budget" incident on a service without an SLO. Then it runs the live
// module for a few minutes of a fake clock: traffic keeps arriving, a
// deploy goes out, checkout's current burn pages the on-call engineer
// through the demo's sink, who acknowledges, and the page resolves when the
// burn ends.
func TestStory(t *testing.T) {
	start := time.Now().UTC()
	clk := clock.NewFake(start)
	srv := apptest.Start(t, apptest.Options{Clock: clk, Manual: true})
	ctx := context.Background()
	m := srv.Main
	if err := Seed(ctx, m, start, 30); err != nil {
		t.Fatal(err)
	}
	sc := story(start)

	// The changes: the bad deploy, failed by its verification, then the
	// rollback; no checkout deploy since (release freeze).
	var changes list[change.Event]
	apiGet(t, srv, "/api/v1/changes?service=checkout&kind=deploy,rollback&limit=1000", &changes)
	var bad, rollback *change.Event
	for i, e := range changes.Items {
		switch {
		case e.Kind == change.KindDeploy && e.At().Equal(sc.BadDeploy):
			bad = &changes.Items[i]
		case e.Kind == change.KindRollback && e.At().Equal(sc.Rollback):
			rollback = &changes.Items[i]
		}
	}
	if bad == nil || rollback == nil {
		t.Fatalf("no bad deploy at %s or no rollback at %s among %d checkout changes", sc.BadDeploy, sc.Rollback, len(changes.Items))
	}
	if bad.Status != change.StatusFailed {
		t.Errorf("the bad deploy is %s, want failed (by its verification)", bad.Status)
	}
	for _, e := range changes.Items {
		if e.Kind == change.KindDeploy && e.At().After(bad.At()) {
			t.Errorf("checkout deployed %s at %s, after the bad deploy, during its release freeze", e.Version, e.At())
		}
	}

	// The SLI: hours before the bad deploy and after the rollback are
	// healthy; every hour the drop covers is not.
	var hist struct {
		Items []slo.HistoryPoint `json:"items"`
	}
	from, to := sc.BadDeploy.Add(-6*time.Hour), sc.Rollback.Add(6*time.Hour)
	apiGet(t, srv, fmt.Sprintf("/api/v1/slos/%s/history?from=%s&to=%s", storySLO, from.Format(time.RFC3339), to.Format(time.RFC3339)), &hist)
	if len(hist.Items) < 10 {
		t.Fatalf("history has %d points", len(hist.Items))
	}
	for _, p := range hist.Items {
		hourFrom := p.Time.Add(-time.Hour)
		overlaps := hourFrom.Before(sc.Rollback) && p.Time.After(sc.SLIDrop)
		if p.SLI == nil {
			t.Errorf("hour to %s has no SLI", p.Time)
			continue
		}
		if overlaps && *p.SLI > 0.95 {
			t.Errorf("hour to %s overlaps the drop (%s to %s) but its SLI is %.4f", p.Time, sc.SLIDrop, sc.Rollback, *p.SLI)
		}
		if !overlaps && *p.SLI < 0.99 {
			t.Errorf("hour to %s is outside the drop (%s to %s) but its SLI is %.4f", p.Time, sc.SLIDrop, sc.Rollback, *p.SLI)
		}
	}

	// The incident: opened after the deploy, paged and acknowledged
	// before the rollback, resolved after it, closed, with postmortem 1.
	var incs list[incident.Incident]
	apiGet(t, srv, "/api/v1/incidents?limit=1000", &incs)
	var inc *incident.Incident
	var services list[struct {
		Name string `json:"name"`
	}]
	apiGet(t, srv, "/api/v1/services", &services)
	var slos list[slo.Status]
	apiGet(t, srv, "/api/v1/slos", &slos)
	hasSLO := map[string]bool{}
	for _, s := range slos.Items {
		hasSLO[s.Service] = true
	}
	for i, x := range incs.Items {
		if x.Labels[storyLabel] != "" {
			inc = &incs.Items[i]
		}
		if strings.Contains(strings.ToLower(x.Title), "budget") && (len(x.Services) == 0 || !hasSLO[x.Services[0]]) {
			t.Errorf("incident %d %q is about an error budget on %v, which has no SLO", x.ID, x.Title, x.Services)
		}
	}
	if inc == nil {
		t.Fatal("no scenario incident")
	}
	if inc.Severity != "sev1" || inc.Status != incident.Closed || inc.AcknowledgedAt == nil || inc.ResolvedAt == nil ||
		inc.StartedAt.Before(bad.At()) || !inc.DetectedAt.After(inc.StartedAt) || !inc.AcknowledgedAt.Before(rollback.At()) ||
		inc.ResolvedAt.Before(rollback.At()) {
		t.Errorf("scenario incident out of order: deploy %s, rollback %s, incident %+v", bad.At(), rollback.At(), inc)
	}
	var tl list[incident.Event]
	apiGet(t, srv, fmt.Sprintf("/api/v1/incidents/%d/timeline", inc.ID), &tl)
	var order []string
	for i, e := range tl.Items {
		if i > 0 && e.At.Before(tl.Items[i-1].At) {
			t.Errorf("timeline out of order at %d: %+v", i, e)
		}
		if e.Kind == incident.EvPage || e.Kind == incident.EvStatus || e.Kind == incident.EvAlertFired {
			if len(order) == 0 || order[len(order)-1] != e.Kind+" "+e.Message {
				order = append(order, e.Kind+" "+e.Message)
			}
		}
	}
	joined := strings.Join(order, " | ")
	fired, paged, acked, resolved := strings.Index(joined, "alert_fired"), strings.Index(joined, "page "), strings.Index(joined, "acknowledged"), strings.Index(joined, "→ resolved")
	if fired < 0 || paged < fired || acked < paged || resolved < acked {
		t.Errorf("timeline: want alert, page, ack, resolve in that order: %s", joined)
	}
	var pm postmortem.Postmortem
	apiGet(t, srv, "/api/v1/postmortems/1", &pm)
	if pm.IncidentID != inc.ID {
		t.Errorf("postmortem 1 is of incident %d, want the scenario's %d", pm.IncidentID, inc.ID)
	}

	// The gates: each checkout gate reports the budget the budget chart
	// shows at the hour before it; the verification failed the deploy;
	// the blocked promotion reports the budget the SLO status shows now.
	var gates list[gate.Result]
	apiGet(t, srv, "/api/v1/gates?service=checkout&limit=1000", &gates)
	apiGet(t, srv, fmt.Sprintf("/api/v1/slos/%s/history?from=%s&to=%s", storySLO, start.Add(-8*24*time.Hour).Format(time.RFC3339), start.Format(time.RFC3339)), &hist)
	remainingAt := map[time.Time]float64{}
	for _, p := range hist.Items {
		if p.Remaining != nil {
			remainingAt[p.Time] = *p.Remaining
		}
	}
	var st slo.Status
	apiGet(t, srv, "/api/v1/slos/"+storySLO, &st)
	if st.Status != "exhausted" || st.ErrorBudget.Remaining == nil || !st.Freeze.Active {
		t.Fatalf("status %s, freeze %v: want exhausted and frozen", st.Status, st.Freeze.Active)
	}
	compared, verified, blocked := 0, false, false
	for _, g := range gates.Items {
		if g.Kind == gate.KindVerify && g.ChangeID == bad.ID && g.Verdict == gate.Fail {
			verified = true
		}
		if g.Kind != gate.KindSLO {
			continue
		}
		var left *float64
		for _, c := range g.Checks {
			if c.Name == "budget_remaining "+storySLO {
				left = c.Value
			}
		}
		if left == nil {
			t.Errorf("gate %d %q has no budget check: %+v", g.ID, g.Target, g.Checks)
			continue
		}
		if g.Target == "promote to production" {
			blocked = g.Verdict == gate.Fail
			if math.Abs(*left-*st.ErrorBudget.Remaining) > 0.01 {
				t.Errorf("the blocked promotion reports %.4f of the budget left, the SLO status %.4f", *left, *st.ErrorBudget.Remaining)
			}
			continue
		}
		chart, ok := remainingAt[g.CreatedAt.Truncate(time.Hour)]
		if !ok {
			continue
		}
		compared++
		if math.Abs(*left-chart) > 0.02 {
			t.Errorf("gate %d %q at %s reports %.4f of the budget left, the chart %.4f at %s", g.ID, g.Target, g.CreatedAt, *left, chart, g.CreatedAt.Truncate(time.Hour))
		}
		if g.Target == "deploy "+bad.Version && g.Verdict != gate.Pass {
			t.Errorf("the bad deploy's gate is %s: it should have passed (the budget was not spent yet)", g.Verdict)
		}
	}
	if compared < 5 || !verified || !blocked {
		t.Errorf("%d gates compared with the chart, verification failed the deploy: %v, promotion blocked: %v", compared, verified, blocked)
	}

	// Live: traffic keeps arriving, a deploy goes out, the burn pages.
	sink := &Sink{}
	sink.Register(m.API.Incident.Manager)
	live := NewLive(m, start)
	total := func() float64 {
		var s slo.Status
		apiGet(t, srv, "/api/v1/slos/search-query-failures", &s)
		if s.Total == nil {
			t.Fatal("search-query-failures has no data")
		}
		return *s.Total
	}
	before := total()
	var live0 *incident.Incident
	for i := 1; i <= int((UpstreamFor+8*time.Minute)/time.Minute); i++ {
		clk.Set(start.Add(time.Duration(i) * time.Minute))
		now := clk.Now()
		if err := live.Step(ctx, now); err != nil {
			t.Fatal(err)
		}
		if _, err := m.API.SLO.Service.EvaluateOnce(ctx, now); err != nil && !strings.Contains(err.Error(), "9090") {
			t.Fatal(err)
		}
		if _, err := m.Engine.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			if after := total(); after <= before {
				t.Errorf("search-query-failures counts %.0f events 3 minutes after the start, %.0f at the start", after, before)
			}
		}
	}
	apiGet(t, srv, "/api/v1/incidents?limit=1000", &incs)
	for i, x := range incs.Items {
		if x.Source == "slo" && len(x.Services) == 1 && x.Services[0] == storyService && x.StartedAt.After(start.Add(-time.Second)) {
			live0 = &incs.Items[i]
		}
	}
	if live0 == nil {
		t.Fatal("checkout's current burn opened no incident")
	}
	if live0.AcknowledgedAt == nil || live0.ResolvedAt == nil || live0.ResolvedAt.Before(start.Add(UpstreamFor)) {
		t.Errorf("checkout's live incident: acknowledged %v, resolved %v; want both, resolved after the burn ended at %s", live0.AcknowledgedAt, live0.ResolvedAt, start.Add(UpstreamFor))
	}
	pages := 0
	for _, p := range sink.Pages() {
		if p.Incident.ID == live0.ID {
			pages++
		}
	}
	apiGet(t, srv, fmt.Sprintf("/api/v1/incidents/%d/timeline", live0.ID), &tl)
	onTimeline := 0
	for _, e := range tl.Items {
		if e.Kind == incident.EvPage {
			onTimeline++
		}
	}
	if pages == 0 || onTimeline != pages {
		t.Errorf("the sink received %d pages for incident %d, its timeline shows %d", pages, live0.ID, onTimeline)
	}
	q := url.Values{"kind": {"deploy"}, "limit": {"20"}}
	apiGet(t, srv, "/api/v1/changes?"+q.Encode(), &changes)
	deployed := false
	for _, e := range changes.Items {
		deployed = deployed || (e.Source == "demo" && e.At().After(start))
	}
	if !deployed {
		t.Error("no deploy after the start")
	}
}
