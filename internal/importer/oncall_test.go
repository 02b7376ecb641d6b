package importer

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

func who(t *testing.T, cfg *config.Config, schedule string, at time.Time) string {
	t.Helper()
	for _, s := range cfg.Oncall.Schedules {
		if s.Name == schedule {
			if w := s.Who(at); len(w) > 0 {
				return w[0]
			}
			return ""
		}
	}
	t.Fatalf("no schedule %s", schedule)
	return ""
}

// pages lists minute and targets of every step of a policy.
func pages(p oncall.Policy) []string {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var out []string
	for _, st := range oncall.Plan(p, t0, time.Time{}) {
		var ts []string
		for _, tg := range st.Targets {
			ts = append(ts, tg.ID)
		}
		out = append(out, pageKey(int(st.At.Sub(t0)/time.Minute), ts))
	}
	return out
}

func warnings(r *Result) string {
	var b strings.Builder
	for _, w := range r.Warnings {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

func TestOpsgenie(t *testing.T) {
	r, err := Opsgenie(fixtures(t, "testdata/opsgenie", "*.json"), NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// By hand, from Opsgenie's rules: "Weekly" hands off Mondays 09:00
	// Berlin from 2 March (alice, bob, …); "Business hours" turns of two
	// days from the same start (bob, alice, …), on call Monday
	// 09:00-17:30 and Friday 22:00 to Saturday 06:00; the override puts
	// bob on from 28 March 18:00Z to 30 March 06:00Z (across DST).
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 2, 10, 0, 0, 0, berlin), "bob"},    // business hours, turn 0
		{time.Date(2026, 3, 3, 10, 0, 0, 0, berlin), "alice"},  // weekly, week 0
		{time.Date(2026, 3, 7, 5, 0, 0, 0, berlin), "bob"},     // Friday night window, turn 2
		{time.Date(2026, 3, 9, 8, 59, 0, 0, berlin), "alice"},  // before the handoff
		{time.Date(2026, 3, 10, 9, 0, 0, 0, berlin), "bob"},    // weekly, week 1
		{time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC), "bob"}, // override
		{time.Date(2026, 3, 30, 8, 30, 0, 0, berlin), "bob"},   // week 3 until 09:00 CEST
		{time.Date(2026, 3, 31, 9, 30, 0, 0, berlin), "alice"}, // week 4, after DST
		{time.Date(2026, 3, 30, 17, 29, 0, 0, berlin), "bob"},  // business hours, day 28: turn 14
	} {
		if got := who(t, cfg, "ops_schedule", c.at); got != c.want {
			t.Errorf("at %s: %q, want %q", c.at.Format(time.RFC3339), got, c.want)
		}
	}
	// Opsgenie: the schedule at 0, bob and alice at 5 (next at 10 and the
	// team at 15 cannot be expressed), the last rule at 15, so the repeat
	// starts 10 minutes later, at 25, then 50.
	want := []string{"0s ops_schedule", "5m0s alice,bob", "25m0s ops_schedule", "30m0s alice,bob", "50m0s ops_schedule", "55m0s alice,bob"}
	if got := pages(cfg.Oncall.Policies[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("pages %v, want %v", got, want)
	}
	w := warnings(r)
	for _, p := range []string{"schedules.json: data[0].rotations[2].participants[0].type", "escalations.json: data[0].rules[3].notifyType",
		"escalations.json: data[0].rules[4].recipient.type", "escalations.json: data[0].rules[2].condition", "overrides.json: data[0].rotations",
		"are both on call", "users.json: data[1].skypeUsername"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
}

func TestGrafanaOnCall(t *testing.T) {
	r, err := GrafanaOnCall(fixtures(t, "testdata/grafana-oncall", "*.json"), NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// By hand: the rolling shift hands off Mondays 09:00 Berlin from 2
	// March starting at index 1 (bob, alex, …); the level-1 event puts
	// alex on Mondays, Wednesdays and Fridays 16:00-19:00; the override
	// alex from 28 March 20:00 for a day.
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 2, 10, 0, 0, 0, berlin), "bob"},
		{time.Date(2026, 3, 2, 17, 0, 0, 0, berlin), "alex"},
		{time.Date(2026, 3, 3, 17, 0, 0, 0, berlin), "bob"},
		{time.Date(2026, 3, 9, 10, 0, 0, 0, berlin), "alex"},
		{time.Date(2026, 3, 18, 18, 59, 0, 0, berlin), "alex"},
		{time.Date(2026, 3, 18, 19, 0, 0, 0, berlin), "bob"},
		{time.Date(2026, 3, 29, 12, 0, 0, 0, berlin), "alex"},
		{time.Date(2026, 3, 30, 10, 0, 0, 0, berlin), "bob"},
	} {
		if got := who(t, cfg, "demo-schedule-calendar", c.at); got != c.want {
			t.Errorf("at %s: %q, want %q", c.at.Format(time.RFC3339), got, c.want)
		}
	}
	// OnCall: the schedule at once, bob after 5 minutes, the webhook (not
	// carried) after 15 more, then the chain repeats 5 times: six passes
	// of 20 minutes, the last bob at 100 + 5 minutes.
	got := pages(cfg.Oncall.Policies[0])
	if len(got) != 12 || got[0] != "0s demo-schedule-calendar" || got[1] != "5m0s bob" || got[2] != "20m0s demo-schedule-calendar" || got[11] != "1h45m0s bob" {
		t.Errorf("pages %v", got)
	}
	if p, _ := cfg.Catalog.Person("alex"); p.Slack != "UALEXSLACKD" {
		t.Errorf("alex = %+v", p)
	}
	w := warnings(r)
	for _, p := range []string{"schedules.json: results[1].ical_url_primary", "escalation_policies.json: results[4].type"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
}

func TestBackstage(t *testing.T) {
	files := fixtures(t, "testdata/backstage", "*.yaml")
	r, err := Backstage(files, NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	if s, _ := cfg.Catalog.Service("checkout"); s.Team != "team-payments" || !reflect.DeepEqual(s.DependsOn, []string{"payments-db"}) || s.Repository != "https://github.com/example/checkout" {
		t.Errorf("checkout = %+v", s)
	}
	if tm, _ := cfg.Catalog.Team("team-payments"); !reflect.DeepEqual(tm.Members, []string{"alice", "bob"}) || tm.DisplayName != "Payments" {
		t.Errorf("team = %+v", tm)
	}
	if tool, ok := cfg.Catalog.Tool("Payments Platform"); !ok || tool.PrimaryOwner != "team-payments" || tool.URL != "https://wiki.example.com/payments" {
		t.Errorf("tool = %+v", tool)
	}
	w := warnings(r)
	for _, p := range []string{"documents[3].metadata.annotations.pagerduty.com/service-id", "documents[3].metadata.annotations.opsgenie.com/component-selector",
		"documents[3].spec.dependsOn", "documents[6]: kind API", "documents[3].spec.lifecycle"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
	// An earlier PagerDuty import recorded PSV1's policy, and the people:
	// the service gets the policy and alice is matched by email.
	ex := NewExisting()
	ex.IDs["pagerduty_service_policy"] = map[string]string{"PSV1": "SRE Escalation"}
	ex.People["alice@example.com"] = "akowalski"
	ex.add("entity", "akowalski")
	r, err = Backstage(files, NewNamer(ex))
	if err != nil {
		t.Fatal(err)
	}
	if r.Services[0].EscalationPolicy != "SRE Escalation" || r.Teams[0].Members[0] != "akowalski" || len(r.People) != 1 {
		t.Errorf("with an earlier import: services %+v teams %+v people %+v", r.Services, r.Teams, r.People)
	}
}
