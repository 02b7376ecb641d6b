package importer

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

// pdWho is PagerDuty's own rule for who is on call, computed straight from
// the source data: an override wins; otherwise the highest layer (the last
// one in Terraform order) with someone. A layer has someone from start to
// end, inside a restriction window when it has restrictions; its user is
// users[k mod n] for the turn k that holds t, turns counted from
// rotation_virtual_start in calendar days of the schedule's zone when the
// turn length is whole days (handoffs keep their wall-clock time across
// DST), else in elapsed seconds. It walks boundaries one by one rather
// than computing them.
func pdWho(s PDSchedule, t time.Time) string {
	for i := len(s.Overrides) - 1; i >= 0; i-- {
		o := s.Overrides[i]
		if !t.Before(o.Start) && t.Before(o.End) {
			return o.User
		}
	}
	loc, _ := time.LoadLocation(s.TimeZone)
	for i := len(s.Layers) - 1; i >= 0; i-- {
		l := s.Layers[i]
		if t.Before(l.Start) || (!l.End.IsZero() && !t.Before(l.End)) {
			continue
		}
		if len(l.Restrictions) > 0 && !pdRestricted(l.Restrictions, t, loc) {
			continue
		}
		step := func(b time.Time, n int) time.Time {
			if l.TurnSeconds%86400 == 0 {
				return b.In(loc).AddDate(0, 0, n*l.TurnSeconds/86400)
			}
			return b.Add(time.Duration(n*l.TurnSeconds) * time.Second)
		}
		k, b := 0, l.VirtualStart
		for b.After(t) {
			b, k = step(b, -1), k-1
		}
		for !step(b, 1).After(t) {
			b, k = step(b, 1), k+1
		}
		n := len(l.Users)
		return l.Users[((k%n)+n)%n]
	}
	return ""
}

func pdRestricted(rs []PDRestriction, t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	for _, r := range rs {
		var h, m, sec int
		parts := strings.Split(r.StartTimeOfDay, ":")
		h, m = atoi(parts[0]), atoi(parts[1])
		if len(parts) == 3 {
			sec = atoi(parts[2])
		}
		for back := 0; back <= 8; back++ {
			day := time.Date(lt.Year(), lt.Month(), lt.Day()-back, h, m, sec, 0, loc)
			if r.Type == oncall.WeeklyRestriction && (int(day.Weekday())+6)%7+1 != r.StartDayOfWeek {
				continue
			}
			if !t.Before(day) && t.Before(day.Add(time.Duration(r.DurationSeconds)*time.Second)) {
				return true
			}
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// checkPDEquivalence compares tandem's answer for the imported schedules
// with pdWho at the instants.
func checkPDEquivalence(t *testing.T, d *PDData, r *Result, cfg *config.Config, at []time.Time) {
	t.Helper()
	users := r.IDs["pagerduty_user"]
	for _, s := range d.Schedules {
		name := r.IDs["pagerduty_schedule"][s.ID]
		var sched *oncall.Schedule
		for _, x := range cfg.Oncall.Schedules {
			if x.Name == name {
				sched = x
			}
		}
		if sched == nil {
			t.Fatalf("schedule %s (%s) not imported", s.ID, name)
		}
		for _, ti := range at {
			want := ""
			if u := pdWho(s, ti); u != "" {
				want = users[u]
			}
			got := ""
			if w := sched.Who(ti); len(w) > 0 {
				got = w[0]
			}
			if got != want {
				t.Errorf("%s at %s: tandem says %q, PagerDuty %q", name, ti.Format(time.RFC3339), got, want)
			}
		}
	}
}

// pdPages is PagerDuty's documented escalation: rule 1's targets at 0, each
// rule's delay later the next, num_loops more passes after the first.
func pdPages(p PDPolicy) []string {
	var out []string
	minute := 0
	for pass := 0; pass <= p.NumLoops; pass++ {
		for _, r := range p.Rules {
			var ts []string
			for _, t := range r.Targets {
				ts = append(ts, t.ID)
			}
			out = append(out, pageKey(minute, ts))
			minute += r.Delay
		}
	}
	return out
}

// tandemPages is what oncall.Plan pages for a policy, targets mapped back
// to source ids through back.
func tandemPages(p oncall.Policy, back map[string]string) []string {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var out []string
	for _, st := range oncall.Plan(p, t0, time.Time{}) {
		var ts []string
		for _, tg := range st.Targets {
			ts = append(ts, back[tg.Type+":"+tg.ID])
		}
		out = append(out, pageKey(int(st.At.Sub(t0)/time.Minute), ts))
	}
	return out
}

func reverse(r *Result) map[string]string {
	back := map[string]string{}
	for id, n := range r.IDs["pagerduty_user"] {
		back[oncall.UserReference+":"+n] = id
	}
	for id, n := range r.IDs["pagerduty_schedule"] {
		back[oncall.ScheduleReference+":"+n] = id
	}
	return back
}

func TestPagerDutyTerraformEquivalence(t *testing.T) {
	files, err := readDir("testdata/pagerduty-terraform", "*.tf", "terraform.tfvars")
	if err != nil {
		t.Fatal(err)
	}
	r, err := PagerDutyTerraform("testdata/pagerduty-terraform", NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	d, err := readPagerDutyHCL(files, &Result{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	ny, _ := time.LoadLocation("America/New_York")
	// Terraform has no overrides: the test adds the same one on both
	// sides, so the comparison covers it.
	ov := PDOverride{User: "pagerduty_user.sre1", Start: time.Date(2026, 3, 7, 18, 0, 0, 0, ny), End: time.Date(2026, 3, 9, 9, 0, 0, 0, ny)}
	d.Schedules[0].Overrides = append(d.Schedules[0].Overrides, ov)
	for _, s := range cfg.Oncall.Schedules {
		*s = *s.WithOverrides([]oncall.Override{{Person: r.IDs["pagerduty_user"][ov.User], Start: ov.Start, End: ov.End}})
	}
	at := instants(time.Date(2026, 2, 23, 0, 0, 0, 0, ny),
		time.Date(2026, 3, 8, 1, 59, 0, 0, ny), time.Date(2026, 3, 8, 3, 0, 0, 0, ny), // DST starts 8 March
		time.Date(2026, 3, 9, 8, 59, 0, 0, ny), time.Date(2026, 3, 9, 9, 0, 0, 0, ny), // weekly handoff after DST
		time.Date(2026, 3, 8, 12, 0, 0, 0, ny),                                            // inside the override
		time.Date(2026, 2, 25, 12, 59, 0, 0, ny), time.Date(2026, 2, 25, 13, 0, 0, 0, ny), // layer 2 starts mid-turn
		time.Date(2026, 3, 11, 23, 0, 0, 0, ny), time.Date(2026, 3, 12, 5, 59, 0, 0, ny), // nights, after DST
		time.Date(2026, 4, 10, 23, 0, 0, 0, ny), // nights ended
	)
	checkPDEquivalence(t, d, r, cfg, at)

	back := reverse(r)
	for _, p := range d.Policies {
		name := r.IDs["pagerduty_escalation_policy"][p.ID]
		for _, pol := range cfg.Oncall.Policies {
			if pol.Name != name {
				continue
			}
			src := p
			if p.ID == "pagerduty_escalation_policy.legacy" {
				// The data source target cannot be evaluated (a warning);
				// PagerDuty would page it, tandem cannot know who it is.
				src.Rules = []PDRule{{Delay: 5, Targets: p.Rules[0].Targets[:2]}}
			}
			if got, want := tandemPages(pol, back), pdPages(src); !reflect.DeepEqual(got, want) {
				t.Errorf("%s pages\n%v\nPagerDuty pages\n%v", name, got, want)
			}
		}
	}
	// The payments policy by hand: num_loops 2 is three passes of
	// 10 + 15 minutes: dev1+dev2 at 0, 25, 50; the schedule at 10, 35, 60.
	var payments oncall.Policy
	for _, p := range cfg.Oncall.Policies {
		if p.Name == "Payments Escalation" {
			payments = p
		}
	}
	if got := tandemPages(payments, back); len(got) != 6 || !strings.HasPrefix(got[5], "1h0m0s pagerduty_schedule.primary") {
		t.Errorf("payments policy pages %v", got)
	}

	wantWarn := []string{
		`: cannot evaluate "data.pagerduty_user.external.id" from the files alone`,
		`main.tf:17: cannot evaluate "upper(\"payments\")"`,
		"(pagerduty_service.checkout.incident_urgency_rule): block not imported",
		"(pagerduty_service.checkout.alert_grouping_parameters): block not imported",
		"(pagerduty_user.interns.count): count is not evaluated",
		"(pagerduty_user.contractors.for_each): for_each is not evaluated",
		"(pagerduty_escalation_policy.generated.dynamic): dynamic blocks are not evaluated",
		"(pagerduty_service_dependency.checkout_reports): resource type pagerduty_service_dependency not imported",
		"(pagerduty_team.payments.parent)", "(pagerduty_team_membership.alice.role)", "(pagerduty_schedule.primary.teams)",
		"(pagerduty_user.dev1.job_title)", "(pagerduty_user.sre1.color)",
		"(pagerduty_schedule.primary.layer[2]): the source does not document how turns counted in hours",
		"pagerduty_escalation_policy.legacy.rule[0].escalation_rule_assignment_strategy[0]",
		"pagerduty_service.checkout.auto_resolve_timeout",
		`role "admin"`,
	}
	all := ""
	for _, w := range r.Warnings {
		all += w.String() + "\n"
	}
	for _, w := range wantWarn {
		if !strings.Contains(all, w) {
			t.Errorf("no warning mentions %q; warnings:\n%s", w, all)
		}
	}
	s := r.Summary()
	if s.Users != 3 || s.Teams != 3 || s.Schedules != 1 || s.Policies != 2 || s.Services != 3 || s.Warnings != len(r.Warnings) {
		t.Errorf("summary %v (teams: engineering, payments and unowned)", s)
	}
	if cfg.Oncall.ServiceAckTimeouts["checkout-api"] != 10 || cfg.Oncall.ServiceAckTimeouts["reports"] != 30 {
		t.Errorf("ack timeouts %v: want checkout-api 10 (600 s), reports 30 (the provider's default 1800 s), none for nightly-batch", cfg.Oncall.ServiceAckTimeouts)
	}
}

func TestPagerDutyAPIEquivalence(t *testing.T) {
	files := fixtures(t, "testdata/pagerduty-api", "*.json")
	r, err := PagerDutyJSON(files, NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	d, err := readPagerDutyJSON(files, &Result{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	// The GET order is reversed: Layer 1 ("Base") is lowest.
	if d.Schedules[0].Layers[0].Name != "Base" || cfg.Oncall.Schedules[0].Layers[0].Name != "base" {
		t.Errorf("layers not in priority order: %+v", cfg.Oncall.Schedules[0].Layers)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := instants(time.Date(2026, 3, 2, 0, 0, 0, 0, berlin),
		time.Date(2026, 3, 29, 1, 59, 0, 0, berlin), time.Date(2026, 3, 29, 3, 0, 0, 0, berlin), // DST 29 March (overridden)
		time.Date(2026, 3, 30, 8, 59, 0, 0, berlin), time.Date(2026, 3, 30, 9, 0, 0, 0, berlin), // override ends, day layer
		time.Date(2026, 4, 6, 0, 0, 0, 0, berlin), time.Date(2026, 3, 31, 17, 59, 0, 0, berlin), time.Date(2026, 3, 31, 18, 0, 0, 0, berlin),
	)
	checkPDEquivalence(t, d, r, cfg, at)
	back := reverse(r)
	for _, p := range d.Policies {
		pol := policy(t, cfg, r.IDs["pagerduty_escalation_policy"][p.ID])
		if got, want := tandemPages(pol, back), pdPages(p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s pages %v, PagerDuty %v", pol.Name, got, want)
		}
	}
	if p, ok := cfg.Catalog.Person("niaj"); !ok || p.Team != "sre" || p.TimeZone != "Europe/London" {
		t.Errorf("niaj = %+v", p)
	}
	if s, _ := cfg.Catalog.Service("search-api"); s.Team != "sre" || s.EscalationPolicy != "SRE Escalation" {
		t.Errorf("search-api = %+v", s)
	}
	w := warnings(r)
	for _, p := range []string{"services.json: services[0].alert_grouping_parameters", "services.json: services[1].integrations",
		"services.json: services[1].status", "services.json: services[1].auto_resolve_timeout", "services.json: services[1].incident_urgency_rule",
		"users.json: users[1].contact_methods", "users.json: users[1].job_title", "teams.json: teams[0].parent"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
	// acknowledgement_timeout null: no ack timeout.
	if _, ok := cfg.Oncall.ServiceAckTimeouts["search-indexer"]; ok || cfg.Oncall.ServiceAckTimeouts["search-api"] != 30 {
		t.Errorf("ack timeouts %v: want search-api 30, none for search-indexer", cfg.Oncall.ServiceAckTimeouts)
	}
}
