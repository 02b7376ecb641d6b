package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/db/dbtest"
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
		"until Nov 26 00:00 UTC",                       // carol's override ends bob's shift
		"<strong>carol</strong> from Nov 26 00:00 UTC", // and is next
		`class="override"`, "carol",                    // the override in the calendar
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
	if !strings.Contains(body, "<td>bob</td>") {
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
