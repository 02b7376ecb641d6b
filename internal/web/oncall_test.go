package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/oncall"
)

func TestOncallPage(t *testing.T) {
	d := dbtest.SQLite(t)
	// A weekly rotation of ann and bob handing off Mondays 09:00 UTC, from
	// Monday Nov 16: ann has Nov 16-23, bob Nov 23-30 (testNow is Wed Nov 25).
	sched := &oncall.Schedule{Name: "payments-primary", Location: time.UTC, Layers: []oncall.Layer{{
		Name: "weekly", Users: []string{"ann", "bob"}, Location: time.UTC,
		Start:    time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC),
		Rotation: oncall.Rotation{Days: 7},
	}}}
	cfg := oncall.Config{
		Schedules: []*oncall.Schedule{sched},
		Policies: []oncall.Policy{{Name: "payments", Rules: []oncall.Rule{
			{EscalationDelayInMinutes: 15, Targets: []oncall.Target{{Type: "schedule_reference", ID: "payments-primary"}}},
			{EscalationDelayInMinutes: 15, Targets: []oncall.Target{{Type: "user_reference", ID: "carol"}}},
		}}},
	}
	store := oncall.NewStore(d)
	// carol covers Thursday for bob.
	if _, err := store.Add(context.Background(), oncall.Override{Schedule: "payments-primary", Person: "carol",
		Start: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
		Reason: "swap", Source: oncall.SourceAPI}, testNow); err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(nil, nil, []catalog.Service{{Name: "checkout", Team: "payments", EscalationPolicy: "payments"}}, nil)
	svc := &oncall.Service{Store: store, Source: func() (oncall.Config, *catalog.Catalog) { return cfg, cat }}
	s := newTestServer(t, d, Deps{PublicRead: true, Oncall: svc})
	s.h.deps.Config.Get().Catalog = cat

	_, body := get(t, http.DefaultClient, s.URL+"/oncall")
	for _, want := range []string{
		"payments-primary", "bob", // on call now
		"until <time datetime=\"2026-11-26T00:00:00Z\">Nov 26 00:00 UTC</time>",                       // carol's override ends bob's shift
		"<strong>carol</strong> from <time datetime=\"2026-11-26T00:00:00Z\">Nov 26 00:00 UTC</time>", // and is next
		`class="override"`, "carol", // the override in the calendar
		"swap",                 // and in the list
		"Pages for checkout",   // the policy's services
		"<strong>bob</strong>", // rule 1 resolves to bob now
	} {
		if !strings.Contains(body, want) {
			t.Errorf("on-call page lacks %q", want)
		}
	}
	// The overview says who is on call for checkout.
	_, body = get(t, http.DefaultClient, s.URL+"/")
	if !strings.Contains(body, `<td data-label="On call now">bob</td>`) {
		t.Errorf("overview does not show bob on call for checkout")
	}
	if res, _ := get(t, http.DefaultClient, s.URL+"/oncall?weeks=99"); res.StatusCode != 400 {
		t.Errorf("weeks=99: status %d, want 400", res.StatusCode)
	}
}

func TestShiftSpan(t *testing.T) {
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		start, end time.Time
		want       string
	}{
		{at(-5), at(30), "all day"},
		{at(9), at(30), "from 09:00"},
		{at(-5), at(17), "until 17:00"},
		{at(9), at(17), "09:00–17:00"},
	}
	for _, tt := range tests {
		if got := shiftSpan(oncall.Shift{Start: tt.start, End: tt.end}, day); got != tt.want {
			t.Errorf("shiftSpan(%v–%v) = %q, want %q", tt.start, tt.end, got, tt.want)
		}
	}
}

// The on-call page lists the maintenance windows not over yet, with End now
// and Cancel for a writer, and the heartbeat monitors with their last call.
func TestOncallMaintenanceAndHeartbeats(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	m := newIncidents(t, d)
	active, err := m.AddWindow(ctx, incident.Window{Service: "checkout", StartsAt: testNow.Add(-time.Hour), EndsAt: testNow.Add(time.Hour), Reason: "db upgrade"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddWindow(ctx, incident.Window{Service: "search-api", StartsAt: testNow.Add(24 * time.Hour), EndsAt: testNow.Add(26 * time.Hour), Reason: "reindex"}); err != nil {
		t.Fatal(err)
	}
	beats := []incident.Heartbeat{
		{Name: "nightly-backup", Service: "checkout", Interval: 25 * time.Hour, Severity: "sev3"},
		{Name: "hourly-export", Service: "search-api", Interval: time.Hour, Severity: "sev3"},
	}
	if err := m.Beat(ctx, beats[0]); err != nil {
		t.Fatal(err)
	}
	cfg := oncall.Config{}
	svc := &oncall.Service{Store: oncall.NewStore(d), Source: func() (oncall.Config, *catalog.Catalog) { return cfg, testCatalog() }}
	s := newTestServer(t, d, Deps{PublicRead: true, Oncall: svc, Incidents: m})
	s.h.deps.Config.Get().Incident.Heartbeats = beats

	_, body := get(t, http.DefaultClient, s.URL+"/oncall")
	for _, want := range []string{`id="windows"`, "db upgrade", "in progress", "reindex", "upcoming",
		`id="heartbeat-table"`, "nightly-backup", "hourly-export", "waiting for the first call"} {
		if !strings.Contains(body, want) {
			t.Errorf("on-call page lacks %q", want)
		}
	}
	if strings.Contains(body, "End now") {
		t.Errorf("an anonymous reader is offered to end a window")
	}
	c := signIn(t, s, s.token(t, "writer", auth.ScopeWrite))
	_, body = get(t, c, s.URL+"/oncall")
	if !strings.Contains(body, "End now") || !strings.Contains(body, "Cancel") {
		t.Fatalf("a writer is not offered to end or cancel the windows")
	}
	res, _ := post(t, c, s.URL+"/maintenance/"+itoa(active.ID)+"/end", s.URL, url.Values{"csrf": {csrfIn(t, body)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("end now: %d", res.StatusCode)
	}
	_, body = get(t, c, s.URL+"/oncall?done=maintenance-ended")
	if strings.Contains(body, "db upgrade") || !strings.Contains(body, "Maintenance window ended") {
		t.Errorf("after End now the window is still listed, or no notice")
	}
	if ws, _ := m.Windows(ctx, testNow); len(ws) != 1 || ws[0].Reason != "reindex" {
		t.Errorf("windows after End now: %+v", ws)
	}
}
