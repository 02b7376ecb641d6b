package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestOncallExamples(t *testing.T) {
	cfg, err := Load("../../examples/tandem.d", now)
	if err != nil {
		t.Fatal(err)
	}
	oc := cfg.Oncall
	if len(oc.Schedules) != 4 || len(oc.Policies) != 4 || len(oc.People) != 2 || len(oc.DefaultRules) != 2 {
		t.Fatalf("schedules %d policies %d people %d defaults %d", len(oc.Schedules), len(oc.Policies), len(oc.People), len(oc.DefaultRules))
	}
	byName := map[string]int{}
	for i, s := range oc.Schedules {
		byName[s.Name] = i
	}
	sre := oc.Schedules[byName["sre-primary"]]
	// Wednesday 25 Nov 2026, 10:00 Berlin (09:00Z): the Europe day layer.
	if got := sre.Who(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)); len(got) != 1 || got[0] != "niaj" {
		t.Errorf("sre-primary weekday morning = %v, want niaj", got)
	}
	// Saturday: the base layer.
	if got := sre.Who(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)); len(got) != 1 || got[0] != "mallory" {
		t.Errorf("sre-primary Saturday = %v, want mallory", got)
	}
	pay := oc.Schedules[byName["payments-primary"]]
	// The config override: Bob from 24 Dec 18:00 Berlin (17:00Z).
	if got := pay.Who(time.Date(2026, 12, 24, 17, 0, 0, 0, time.UTC)); len(got) != 1 || got[0] != "bob" {
		t.Errorf("payments-primary Christmas Eve = %v, want bob", got)
	}
	if oc.ServiceAckTimeouts["checkout"] != 20 {
		t.Errorf("ack timeouts = %v", oc.ServiceAckTimeouts)
	}
}

func TestOncallErrors(t *testing.T) {
	files := map[string][]byte{"cat.yaml": []byte(`
teams: [{name: sre, members: [mallory]}]
people: [{name: mallory, team: sre}]
services:
  - {name: api, team: sre, escalation_policy: Nope}
`), "oncall.yaml": []byte(`schedules:
  - name: sre
    time_zone: Mars/Olympus
    layers:
      - users: [malory]
        rotation: fortnightly
        handoff: "25:00"
        start: 2026-13-01
        restrictions:
          - {type: hourly, start_time_of_day: "09:00", duration: 8h}
          - {type: daily_restriction, start_time_of_day: "09:00", duration: 30h, days: [funday]}
escalation_policies:
  - name: P
    num_loops: 12
    rules:
      - escalation_delay_in_minutes: 0
        targets: [{type: schedule_reference, id: sre-primary}, {type: team_reference, id: sre}]
      - escalation_delay_in_minutes: 5
        targets: []
notification_rules:
  - person: mallory
    contact_methods: [{type: webhook, address: "ftp://x"}]
    rules: [{start_delay_in_minutes: 0, contact_method: pager}]
ack_timeouts:
  - {service: apx, ack_timeout_minutes: 5}
`)}
	_, err := Parse(files, now)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`cat.yaml:5:47: services.api.escalation_policy: escalation policy "Nope" does not exist`,
		`oncall.yaml:3:16: schedules.sre.time_zone: unknown time zone "Mars/Olympus"`,
		`oncall.yaml:5:17: schedules.sre.layers[0].users: person "malory" does not exist; did you mean "mallory"?`,
		`oncall.yaml:6:19: schedules.sre.layers[0].rotation: invalid rotation "fortnightly"`,
		`oncall.yaml:7:18: schedules.sre.layers[0].handoff: invalid time of day "25:00"`,
		`oncall.yaml:8:16: schedules.sre.layers[0].start: expected a date YYYY-MM-DD, got "2026-13-01"`,
		`oncall.yaml:10:20: schedules.sre.layers[0].restrictions[0].type: expected daily_restriction or weekly_restriction, got "hourly"`,
		`oncall.yaml:11:88: schedules.sre.layers[0].restrictions[1].days: invalid day of week "funday"`,
		`oncall.yaml:11:77: schedules.sre.layers[0].restrictions[1].duration: expected a duration above 0 and at most 24h0m0s`,
		`oncall.yaml:14:16: escalation_policies.P.num_loops: expected 0 to 9 repeats, got 12`,
		`oncall.yaml:16:38: escalation_policies.P.rules[0].escalation_delay_in_minutes: expected at least 1 minute, got 0`,
		`oncall.yaml:17:50: escalation_policies.P.rules[0].targets[0].id: schedule "sre-primary" does not exist`,
		`oncall.yaml:17:71: escalation_policies.P.rules[0].targets[1].type: expected user_reference or schedule_reference, got "team_reference"`,
		`oncall.yaml:19:18: escalation_policies.P.rules[1].targets: required: at least one target`,
		`oncall.yaml:22:48: notification_rules.mallory.contact_methods[0].address: expected an http(s) URL, got "ftp://x"`,
		`oncall.yaml:23:57: notification_rules.mallory.rules[0].contact_method: mallory has no contact method "pager"; they have: webhook`,
		`oncall.yaml:25:15: ack_timeouts.apx.service: service "apx" does not exist; did you mean "api"?`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing error %q", w)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}

// Slack notifies a person only when a message mentions their member ID, so
// every Slack address (a catalog person's slack, a contact method of type
// slack) must be one; a handle or name is an error at its value.
func TestOncallSlackMemberIDs(t *testing.T) {
	files := map[string][]byte{"cat.yaml": []byte(`teams: [{name: sre, members: [mallory, niaj, ursula, walt, yuki]}]
people:
  - {name: mallory, team: sre, slack: "@mallory"}
  - {name: niaj, team: sre, slack: U012AB3CD}
  - {name: ursula, team: sre, slack: Ursula}
  - {name: walt, team: sre, slack: "<@W0123ABCD>"}
  - {name: yuki, team: sre, slack: "@U01234ABCDE"}
services: [{name: api, team: sre}]
`), "oncall.yaml": []byte(`notification_rules:
  - person: niaj
    contact_methods:
      - {name: slack-dm, type: slack, address: alice}
      - {name: slack-work, type: slack, address: W0123ABCD}
      - {name: slack-empty, type: slack, address: ""}
    rules: [{start_delay_in_minutes: 0, contact_method: slack-work}]
`)}
	_, err := Parse(files, now)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	const hint = `a Slack member ID such as U012AB3CD (Slack pings only member IDs; in Slack: profile → ⋮ → Copy member ID)`
	want := []string{
		`cat.yaml:3:39: people.mallory.slack: expected ` + hint + `, got "@mallory"`,
		`cat.yaml:5:38: people.ursula.slack: expected ` + hint + `, got "Ursula"`,
		`oncall.yaml:4:48: notification_rules.niaj.contact_methods[0].address: expected ` + hint + `, got "alice"`,
		`oncall.yaml:6:51: notification_rules.niaj.contact_methods[2].address: required: ` + hint,
	}
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.String()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
