package importer

import (
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	for _, c := range []struct{ in, name, dns string }{
		{"Payments Primary", "payments-primary", "payments-primary"},
		{"Zoë's Team!", "zoe-s-team", "zoe-s-team"},
		{"  ops_schedule ", "ops_schedule", "ops-schedule"},
		{"My.Service v2", "my.service-v2", "my-service-v2"},
		{"---", "", ""},
		{"._lead", "lead", "lead"},
		{strings.Repeat("a", 70), strings.Repeat("a", 63), strings.Repeat("a", 63)},
		{strings.Repeat("a", 62) + "-b", strings.Repeat("a", 62), strings.Repeat("a", 62)},
	} {
		if got := Sanitize(c.in); got != c.name {
			t.Errorf("Sanitize(%q) = %q, want %q", c.in, got, c.name)
		}
		if got := SanitizeDNS(c.in); got != c.dns {
			t.Errorf("SanitizeDNS(%q) = %q, want %q", c.in, got, c.dns)
		}
	}
}

func TestNamerUnique(t *testing.T) {
	ex := NewExisting()
	ex.People["alice@example.com"] = "akowalski"
	ex.add("entity", "akowalski")
	ex.add("entity", "bob")       // a person already named bob
	ex.add("schedule", "primary") // and a schedule
	ex.add("policy", "sre")
	nm := NewNamer(ex)

	// People are matched by email, whatever its case.
	if name, existing := nm.PersonFor("Alice@Example.com", "Alice K", "user"); name != "akowalski" || !existing {
		t.Errorf("alice: %q %v", name, existing)
	}
	// A new person takes the email's local part, made unique among teams
	// and people; the second time the same email is the same person.
	if name, existing := nm.PersonFor("bob@example.org", "Bob", "user"); name != "bob-2" || existing {
		t.Errorf("bob: %q %v", name, existing)
	}
	if name, existing := nm.PersonFor("BOB@example.org", "Bob", "user"); name != "bob-2" || !existing {
		t.Errorf("bob again: %q %v", name, existing)
	}
	// Without an email: the full name; without anything usable: the fallback.
	if name, _ := nm.PersonFor("", "Carol Diaz", "user"); name != "carol-diaz" {
		t.Errorf("carol: %q", name)
	}
	if name, _ := nm.PersonFor("", "!!!", "user"); name != "user" {
		t.Errorf("nameless: %q", name)
	}
	if got := nm.Schedule("schedule", "Primary"); got != "primary-2" {
		t.Errorf("schedule: %q", got)
	}
	// Policy names keep their spaces and case and are unique regardless of
	// case.
	if got := nm.Policy("policy", "  SRE \n"); got != "SRE-2" {
		t.Errorf("policy: %q", got)
	}
	if got := nm.Policy("policy", "Payments  Escalation"); got != "Payments Escalation" {
		t.Errorf("policy: %q", got)
	}
	// A suffix never makes a name longer than 63.
	long := strings.Repeat("x", 63)
	nm.Service("service", long)
	if got := nm.Service("service", long); len(got) != 63 || !strings.HasSuffix(got, "-2") {
		t.Errorf("long service: %q (%d)", got, len(got))
	}
}

func TestNaturalLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"main.tf:9 (x)", "main.tf:10 (y)", true},
		{"results[10].type", "results[2].type", false},
		{"a.json: data[1]", "a.json: data[1].x", true},
		{"b", "a", false},
		{"x07", "x7", false},
	} {
		if got := naturalLess(c.a, c.b); got != c.less {
			t.Errorf("naturalLess(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
