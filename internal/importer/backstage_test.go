package importer

import (
	"reflect"
	"strings"
	"testing"
)

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
