package cli_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/incident"
)

// The incident commands against a real server: open, list, show, ack,
// note, resolve and close, in text and as JSON, and clear errors for bad
// input that change nothing.
func TestIncidentCommands(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Manual: true})
	conn := []string{"--url", s.URL, "--token", s.AdminToken}
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append(args, conn...)...)
		if code != 0 {
			t.Fatalf("tandem %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	var inc incident.Incident
	out := run("incident", "open", "--service", "checkout", "--sev", "1", "--title", "Checkout returns 500s",
		"--summary", "5% of requests fail", "--started", "15m", "--format", "json")
	if err := json.Unmarshal([]byte(out), &inc); err != nil || inc.ID == 0 || inc.Severity != "sev1" || inc.Status != incident.Triggered {
		t.Fatalf("open: %v\n%s", err, out)
	}
	id := strconv.FormatInt(inc.ID, 10)

	if out := run("incident", "list", "--status", "open"); !strings.Contains(out, "Checkout returns 500s") || !strings.Contains(out, "sev1") {
		t.Fatalf("list:\n%s", out)
	}
	var list []incident.Incident
	if err := json.Unmarshal([]byte(run("incident", "list", "--service", "checkout", "--format", "json")), &list); err != nil || len(list) != 1 || list[0].ID != inc.ID {
		t.Fatalf("list as JSON: %v %+v", err, list)
	}
	if out := run("incident", "ack", id); !strings.Contains(out, "#"+id+" is acknowledged") {
		t.Fatalf("ack: %s", out)
	}
	if out := run("incident", "note", id, "rolling", "back", "v42"); !strings.Contains(out, "noted on #"+id) {
		t.Fatalf("note: %s", out)
	}
	if out := run("incident", "resolve", id, "--note", "rolled back"); !strings.Contains(out, "is resolved") {
		t.Fatalf("resolve: %s", out)
	}
	out = run("incident", "show", id)
	for _, want := range []string{"Checkout returns 500s", "resolved", "rolling back v42", "rolled back"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// As JSON: the incident's fields and its timeline.
	var shown struct {
		incident.Incident
		Timeline []incident.Event `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(run("incident", "show", id, "--format", "json")), &shown); err != nil || shown.Status != incident.Resolved || len(shown.Timeline) < 4 {
		t.Fatalf("show as JSON: %v %+v", err, shown)
	}
	if out := run("incident", "close", id, "--format", "json"); !strings.Contains(out, `"status": "closed"`) && !strings.Contains(out, `"status":"closed"`) {
		t.Fatalf("close as JSON: %s", out)
	}

	// Bad input: a clear error, exit 1, and no incident opened.
	for _, bad := range [][]string{
		{"incident", "open", "--service", "chekout", "--sev", "1", "--title", "x"},
		{"incident", "open", "--service", "checkout", "--sev", "9", "--title", "x"},
		{"incident", "ack", "nope"},
		{"incident", "ack", "999999"},
		{"incident", "list", "--format", "yaml"},
	} {
		code, _, errOut := runCLI(t, append(bad, conn...)...)
		if code == 0 || strings.TrimSpace(errOut) == "" {
			t.Errorf("tandem %s: exit %d, stderr %q; want an error", strings.Join(bad, " "), code, errOut)
		}
	}
	if err := json.Unmarshal([]byte(run("incident", "list", "--format", "json")), &list); err != nil || len(list) != 1 {
		t.Fatalf("after the bad commands: %v, %d incidents", err, len(list))
	}
}

// The reassign and responders commands against a real server, and an
// unknown person or policy refused by name with nothing changed.
func TestIncidentReassignAndRespondersCommands(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Manual: true})
	conn := []string{"--url", s.URL, "--token", s.AdminToken}
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append(args, conn...)...)
		if code != 0 {
			t.Fatalf("tandem %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	var inc incident.Incident
	out := run("incident", "open", "--service", "checkout", "--sev", "2", "--title", "Card declines", "--format", "json")
	if err := json.Unmarshal([]byte(out), &inc); err != nil || inc.ID == 0 {
		t.Fatalf("open: %v\n%s", err, out)
	}
	id := strconv.FormatInt(inc.ID, 10)
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"incident", "reassign", id, "--to", "nobody-here"}, "nobody-here"},
		{[]string{"incident", "reassign", id, "--policy", "No Such Policy"}, "No Such Policy"},
		{[]string{"incident", "reassign", id}, "to"},
		{[]string{"incident", "reassign", id, "--to", "bob", "--policy", "payments"}, "policy"},
		{[]string{"incident", "responders", "add", id, "bob", "nobody-here"}, "nobody-here"},
		{[]string{"incident", "responders", "add", id}, "arg"},
	} {
		code, _, errOut := runCLI(t, append(bad.args, conn...)...)
		if code == 0 || !strings.Contains(errOut, bad.want) {
			t.Errorf("tandem %s: exit %d, stderr %q; want an error naming %q", strings.Join(bad.args, " "), code, errOut, bad.want)
		}
	}
	if out := run("incident", "show", id); !strings.Contains(out, "assigned:  "+inc.Policy+" (escalation policy)") || strings.Contains(out, "responder:") {
		t.Fatalf("bad input changed the incident:\n%s", out)
	}
	if out := run("incident", "reassign", id, "--to", "bob"); !strings.Contains(out, "#"+id+" is assigned to bob and triggered") {
		t.Fatalf("reassign: %s", out)
	}
	if out := run("incident", "responders", "add", id, "carol", "dave"); !strings.Contains(out, "#"+id+" responders: carol, dave") {
		t.Fatalf("responders add: %s", out)
	}
	var got incident.Incident
	if err := json.Unmarshal([]byte(run("incident", "reassign", id, "--policy", inc.Policy, "--format", "json")), &got); err != nil || got.Assignee != "" || got.Policy != inc.Policy || len(got.Responders) != 2 {
		t.Fatalf("reassign to the policy as JSON: %v %+v", err, got)
	}
	out = run("incident", "show", id)
	for _, want := range []string{"responder: carol", "responder: dave", "reassigned from " + inc.Policy + " to bob", "carol asked to respond"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
}
