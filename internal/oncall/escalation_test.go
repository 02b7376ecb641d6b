package oncall

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
)

// devSRE is the policy of the issue: dev1, then sre-primary's on-call
// person, 10 minutes each, num_loops 2.
var devSRE = Policy{
	Name:     "Dev-SRE Escalation Policy",
	NumLoops: 2,
	Rules: []Rule{
		{EscalationDelayInMinutes: 10, Targets: []Target{{Type: UserReference, ID: "dev1"}}},
		{EscalationDelayInMinutes: 10, Targets: []Target{{Type: ScheduleReference, ID: "sre-primary"}}},
	},
}

// testDirectory has sre-primary with mallory on call, and niaj covering
// from trigger+25min (so the second and fourth steps reach different people).
func testDirectory(t testing.TB, trig time.Time) *Directory {
	sre := &Schedule{Name: "sre-primary", Location: time.UTC, Layers: []Layer{
		{Name: "l", Users: []string{"mallory"}, Start: trig.Add(-24 * time.Hour), Rotation: Rotation{Days: 7}},
	}}
	cat := catalog.New(nil, []catalog.Person{
		{Name: "dev1", Email: "dev1@example.com", Slack: "@dev1"},
		{Name: "mallory", Email: "mallory@example.com", Slack: "@mallory"},
		{Name: "niaj", Email: "niaj@example.com"},
	}, []catalog.Service{{Name: "checkout", Team: "t", EscalationPolicy: devSRE.Name}}, nil)
	cfg := Config{Schedules: []*Schedule{sre}, Policies: []Policy{devSRE},
		People: []PersonRules{{Person: "mallory",
			ContactMethods: []ContactMethod{{Name: "pager", Type: ContactWebhook, Address: "https://pager.example.com/hook"}},
			Rules:          []NotificationRule{{StartDelayInMinutes: 0, ContactMethod: "pager"}, {StartDelayInMinutes: 2, ContactMethod: "slack"}}}},
		ServiceAckTimeouts: map[string]int{}}
	runtime := []Override{{Schedule: "sre-primary", Person: "niaj", Start: trig.Add(25 * time.Minute), End: trig.Add(2 * time.Hour), Source: SourceAPI}}
	return NewDirectory(cfg, cat, runtime)
}

func TestPlanDevSRE(t *testing.T) {
	trig := mustTime(t, "2026-11-25T10:00:00Z")
	dir := testDirectory(t, trig)
	// Offsets: rule 0 at 0; rule 1 after rule 0's 10 min; then the policy
	// repeats num_loops = 2 more times: 20, 30, 40, 50. Exhausted at 60.
	all := []string{
		"0m loop0 rule0 [dev1]",
		"10m loop0 rule1 [mallory]",
		"20m loop1 rule0 [dev1]",
		"30m loop1 rule1 [niaj]", // niaj's override began at 25m
		"40m loop2 rule0 [dev1]",
		"50m loop2 rule1 [niaj]",
	}
	cases := []struct {
		name string
		ack  time.Time
		want []string
	}{
		{"never acknowledged: three passes", time.Time{}, all},
		{"ack at 35m stops after the fourth step", trig.Add(35 * time.Minute), all[:4]},
		{"ack exactly at 30m: the 30m step does not fire", trig.Add(30 * time.Minute), all[:3]},
		{"ack at 5m: only dev1", trig.Add(5 * time.Minute), all[:1]},
		{"ack at trigger: nothing", trig, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, st := range Plan(devSRE, trig, c.ack) {
				got = append(got, fmt.Sprintf("%dm loop%d rule%d %v", int(st.At.Sub(trig).Minutes()), st.Loop, st.Rule, dir.ResolveAll(st.Targets, st.At)))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("steps:\n got %q\nwant %q", got, c.want)
			}
		})
	}
	if got := Exhausted(devSRE, trig); !got.Equal(trig.Add(60 * time.Minute)) {
		t.Errorf("Exhausted = %s, want trigger+60m", got)
	}
	st, ok := NextStep(devSRE, trig, trig.Add(10*time.Minute))
	if !ok || st.Offset != 20*time.Minute || st.Rule != 0 || st.Loop != 1 {
		t.Errorf("NextStep after 10m = %+v %v, want loop 1 rule 0 at 20m", st, ok)
	}
	if _, ok := NextStep(devSRE, trig, trig.Add(50*time.Minute)); ok {
		t.Error("NextStep after the last step found one")
	}
}

func TestPlanEdges(t *testing.T) {
	trig := mustTime(t, "2026-11-25T10:00:00Z")
	if got := Steps(Policy{Name: "empty"}, trig); got != nil {
		t.Errorf("no rules: %v", got)
	}
	// num_loops 0: one pass; zero delays fire together.
	p := Policy{Rules: []Rule{{EscalationDelayInMinutes: 0, Targets: []Target{{UserReference, "a"}}}, {EscalationDelayInMinutes: 5, Targets: []Target{{UserReference, "b"}}}}}
	got := Steps(p, trig)
	if len(got) != 2 || got[0].Offset != 0 || got[1].Offset != 0 {
		t.Errorf("steps = %+v, want two at offset 0", got)
	}
}

func TestDirectoryLookups(t *testing.T) {
	trig := mustTime(t, "2026-11-25T10:00:00Z")
	dir := testDirectory(t, trig)
	if p, ok := dir.PolicyForService("checkout"); !ok || p.Name != devSRE.Name {
		t.Errorf("PolicyForService = %v %v", p.Name, ok)
	}
	if got := dir.Resolve(Target{Type: ScheduleReference, ID: "nope"}, trig); got != nil {
		t.Errorf("unknown schedule resolves to %v", got)
	}
	// dev1: default rules, slack at 0 then email at 5 (from the catalog).
	n := dir.Notifications("dev1", trig)
	want := []Notification{
		{Person: "dev1", At: trig, Method: ContactMethod{Name: "slack", Type: "slack", Address: "@dev1"}},
		{Person: "dev1", At: trig.Add(5 * time.Minute), Method: ContactMethod{Name: "email", Type: "email", Address: "dev1@example.com"}},
	}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("dev1 notifications:\n got %+v\nwant %+v", n, want)
	}
	// mallory: own rules, webhook at once then slack after 2 min.
	n = dir.Notifications("mallory", trig)
	if len(n) != 2 || n[0].Method.Type != ContactWebhook || n[0].Method.Address != "https://pager.example.com/hook" ||
		n[1].Method.Name != "slack" || !n[1].At.Equal(trig.Add(2*time.Minute)) {
		t.Errorf("mallory notifications = %+v", n)
	}
	// niaj has no Slack: the slack rule is skipped, and the email that was
	// to follow 5 minutes later goes at once instead, so niaj is not
	// reached later than the rules mean.
	n = dir.Notifications("niaj", trig)
	if len(n) != 1 || n[0].Method.Type != ContactEmail || !n[0].At.Equal(trig) {
		t.Errorf("niaj notifications = %+v", n)
	}
	if got := dir.AckTimeout("checkout"); got != 0 {
		t.Errorf("AckTimeout without settings = %s", got)
	}
	rules := dir.PolicyOnCall(devSRE, trig.Add(30*time.Minute))
	if len(rules) != 2 || !reflect.DeepEqual(rules[1].People, []string{"niaj"}) {
		t.Errorf("PolicyOnCall = %+v", rules)
	}
}

func TestAckTimeout(t *testing.T) {
	p := devSRE
	p.AckTimeoutMinutes = 30
	cat := catalog.New(nil, nil, []catalog.Service{{Name: "a", EscalationPolicy: p.Name}, {Name: "b", EscalationPolicy: p.Name}}, nil)
	d := NewDirectory(Config{Policies: []Policy{p}, ServiceAckTimeouts: map[string]int{"b": 15}}, cat, nil)
	if got := d.AckTimeout("a"); got != 30*time.Minute {
		t.Errorf("policy ack timeout = %s, want 30m", got)
	}
	if got := d.AckTimeout("b"); got != 15*time.Minute {
		t.Errorf("service ack timeout = %s, want 15m", got)
	}
}

// A person with only a webhook, under the default rules (Slack at once,
// email after 5 minutes), is reached by the webhook at once rather than
// never.
func TestNotificationsWithoutTheRulesMethods(t *testing.T) {
	trig := mustTime(t, "2026-11-25T10:00:00Z")
	cat := catalog.New(nil, []catalog.Person{{Name: "oscar"}}, nil, nil)
	dir := NewDirectory(Config{People: []PersonRules{{Person: "oscar",
		ContactMethods: []ContactMethod{{Name: "pager", Type: ContactWebhook, Address: "https://pager.example.com/oscar"}}}}}, cat, nil)
	n := dir.Notifications("oscar", trig)
	if len(n) != 1 || n[0].Method.Name != "pager" || !n[0].At.Equal(trig) {
		t.Errorf("oscar notifications = %+v, want the pager at once", n)
	}
	// Rules slack at 0, sms at 5 and email at 10 for someone with email
	// only: the email goes at once.
	dir = NewDirectory(Config{DefaultRules: []NotificationRule{{StartDelayInMinutes: 10, ContactMethod: "email"},
		{StartDelayInMinutes: 0, ContactMethod: "slack"}, {StartDelayInMinutes: 5, ContactMethod: "sms"}}},
		catalog.New(nil, []catalog.Person{{Name: "erin", Email: "erin@example.com"}}, nil, nil), nil)
	if n := dir.Notifications("erin", trig); len(n) != 1 || n[0].Method.Type != ContactEmail || !n[0].At.Equal(trig) {
		t.Errorf("erin notifications = %+v, want the email at once", n)
	}
	// A skipped rule at a moment another rule already covers moves
	// nothing: Slack and SMS at 0, email at 10, for someone without SMS.
	dir = NewDirectory(Config{DefaultRules: []NotificationRule{{StartDelayInMinutes: 0, ContactMethod: "slack"},
		{StartDelayInMinutes: 0, ContactMethod: "sms"}, {StartDelayInMinutes: 10, ContactMethod: "email"}}},
		catalog.New(nil, []catalog.Person{{Name: "faye", Email: "faye@example.com", Slack: "U0FAYE0001"}}, nil, nil), nil)
	if n := dir.Notifications("faye", trig); len(n) != 2 || !n[0].At.Equal(trig) || !n[1].At.Equal(trig.Add(10*time.Minute)) {
		t.Errorf("faye notifications = %+v, want Slack at once and email at 10 min", n)
	}
	if n := dir.Notifications("nobody-known", trig); len(n) != 0 {
		t.Errorf("a person with no contact method: %+v", n)
	}
}
