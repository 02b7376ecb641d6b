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

// schedule returns the loaded schedule of that name.
func schedule(t *testing.T, cfg *config.Config, name string) *oncall.Schedule {
	t.Helper()
	for _, s := range cfg.Oncall.Schedules {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no schedule %s", name)
	return nil
}

// policy returns the loaded escalation policy of that name.
func policy(t *testing.T, cfg *config.Config, name string) oncall.Policy {
	t.Helper()
	for _, p := range cfg.Oncall.Policies {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no escalation policy %s", name)
	return oncall.Policy{}
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

func TestBackstage(t *testing.T) {
	files := fixtures(t, "testdata/backstage", "*.yaml")
	r, err := Backstage(files, NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	if s, _ := cfg.Catalog.Service("checkout"); s.Team != "team-payments" || !reflect.DeepEqual(s.DependsOn, []string{"payments-db", "ledger"}) || s.Repository != "https://github.com/example/checkout" {
		t.Errorf("checkout = %+v", s)
	}
	// Owned by a user: the service belongs to the user's team.
	if s, _ := cfg.Catalog.Service("ledger"); s.Team != "team-payments" || s.Repository != "https://github.com/example/ledger" {
		t.Errorf("ledger = %+v", s)
	}
	if tm, _ := cfg.Catalog.Team("team-payments"); !reflect.DeepEqual(tm.Members, []string{"alice", "bob"}) || tm.DisplayName != "Payments" {
		t.Errorf("team = %+v", tm)
	}
	if tool, ok := cfg.Catalog.Tool("Payments Platform"); !ok || tool.PrimaryOwner != "team-payments" || tool.URL != "https://wiki.example.com/payments" {
		t.Errorf("tool = %+v", tool)
	}
	w := warnings(r)
	for _, p := range []string{"documents[3].metadata.annotations.pagerduty.com/service-id", "documents[3].metadata.annotations.opsgenie.com/component-selector",
		"documents[3].spec.dependsOn: component:gone", "documents[6]: kind API", "documents[3].spec.lifecycle", "documents[3].metadata.tags",
		"documents[7].spec.providesApis", "documents[7].spec.subcomponentOf", "documents[7].metadata.labels", "documents[8]: kind Domain",
		"documents[9]: kind Location", "documents[7].metadata.annotations.pagerduty.com/escalation-policy-id"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
	// An earlier PagerDuty import recorded PSV1's policy, and the people:
	// the service gets the policy and alice is matched by email.
	ex := NewExisting()
	ex.IDs["pagerduty_service_policy"] = map[string]string{"PSV1": "SRE Escalation"}
	ex.IDs["pagerduty_escalation_policy"] = map[string]string{"PE1": "Payments Escalation"}
	ex.People["alice@example.com"] = "akowalski"
	ex.add("entity", "akowalski")
	r, err = Backstage(files, NewNamer(ex))
	if err != nil {
		t.Fatal(err)
	}
	if r.Services[0].EscalationPolicy != "SRE Escalation" || r.Services[2].EscalationPolicy != "Payments Escalation" || r.Teams[0].Members[0] != "akowalski" || len(r.People) != 1 {
		t.Errorf("with an earlier import: services %+v teams %+v people %+v", r.Services, r.Teams, r.People)
	}
}
