package incident_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
)

const ghOpened = `{"action":"opened","issue":{"number":42,"title":"Checkout returns 500s","body":"Customers report errors.","html_url":"https://github.com/acme/shop/issues/42","state":"open","labels":[{"name":"sev2"},{"name":"service:checkout"}],"user":{"login":"jane"},"created_at":"2026-03-02T07:55:00Z"},"repository":{"full_name":"acme/shop"},"sender":{"login":"jane"}}`
const ghClosed = `{"action":"closed","issue":{"number":42,"title":"Checkout returns 500s","body":"","html_url":"https://github.com/acme/shop/issues/42","state":"closed","labels":[{"name":"sev2"},{"name":"service:checkout"}],"user":{"login":"jane"},"created_at":"2026-03-02T07:55:00Z"},"repository":{"full_name":"acme/shop"},"sender":{"login":"jane"}}`

func TestGitHubSignature(t *testing.T) {
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(ghOpened))
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !incident.VerifyGitHubSignature("s3cret", []byte(ghOpened), sig) {
		t.Fatal("good signature rejected")
	}
	for _, bad := range []string{"", "sha256=", "sha1=" + sig[7:], sig[:len(sig)-1] + "0", "sha256=zz"} {
		if incident.VerifyGitHubSignature("s3cret", []byte(ghOpened), bad) {
			t.Errorf("bad signature %q accepted", bad)
		}
	}
	if incident.VerifyGitHubSignature("", []byte(ghOpened), sig) {
		t.Error("empty secret accepted")
	}
}

// A GitHub issue labelled sev2 opens an incident; the same event again
// mirrors it; closing the issue closes it.
func TestGitHubIssues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		var id int64
		for i := 0; i < 2; i++ {
			a, err := incident.ParseGitHubIssue([]byte(ghOpened), "")
			if err != nil || a.Op != "alert" {
				t.Fatalf("parse: %+v %v", a, err)
			}
			inc, err := h.m.AlertGroup(ctx, a.Group)
			if err != nil {
				t.Fatal(err)
			}
			if id != 0 && inc.ID != id {
				t.Fatalf("second delivery opened #%d, want #%d", inc.ID, id)
			}
			id = inc.ID
			if inc.Severity != "sev2" || inc.Services[0] != "checkout" || inc.Links["github"] == "" {
				t.Fatalf("incident %+v", inc)
			}
		}
		a, err := incident.ParseGitHubIssue([]byte(ghClosed), "")
		if err != nil || a.Op != "close" {
			t.Fatalf("parse closed: %+v %v", a, err)
		}
		inc, err := h.m.CloseGroup(ctx, a.Group.Source, a.Group.GroupKey, "github:jane")
		if err != nil || inc.ID != id || inc.Status != incident.Closed {
			t.Fatalf("close: %+v %v", inc, err)
		}
	})
}

// A later notification updates the open incident: an Alertmanager group
// that turns critical raises it to sev1 (and a calmer one never lowers
// it); an edited or relabelled GitHub issue carries its title and
// severity over, both ways.
func TestLaterNotificationsUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		group := func(sev string) incident.AlertGroup {
			return incident.AlertGroup{Source: "alertmanager", GroupKey: "{}:{alertname=\"HighErrorRate\"}", Service: "checkout", Severity: sev,
				Title: "error rate", Alerts: []incident.GroupAlert{{Fingerprint: "f1", Status: incident.Firing}}}
		}
		inc, err := h.m.AlertGroup(ctx, group("sev2"))
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct{ sev, want string }{{"sev1", "sev1"}, {"sev3", "sev1"}, {"sev1", "sev1"}} {
			got, err := h.m.AlertGroup(ctx, group(step.sev))
			if err != nil || got.ID != inc.ID || got.Severity != step.want {
				t.Fatalf("notification with %s: #%d %s, %v; want #%d %s", step.sev, got.ID, got.Severity, err, inc.ID, step.want)
			}
		}
		tl, _ := h.m.Timeline(ctx, inc.ID)
		var updates []string
		for _, e := range tl {
			if e.Kind == incident.EvUpdate {
				updates = append(updates, e.Message)
			}
		}
		if !slices.Equal(updates, []string{"updated from alertmanager: severity sev2 → sev1"}) {
			t.Fatalf("updates on the timeline %q", updates)
		}
		// A person lowers it; repeats of the group do not undo that, a
		// group that turns critical again does.
		three := "sev3"
		if _, err := h.m.Update(ctx, inc.ID, "alice", incident.Update{Severity: &three}); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct{ sev, want string }{{"sev1", "sev3"}, {"sev1", "sev3"}, {"sev3", "sev3"}, {"sev1", "sev1"}} {
			got, err := h.m.AlertGroup(ctx, group(step.sev))
			if err != nil || got.Severity != step.want {
				t.Fatalf("after the person's change, a notification with %s: %s, %v; want %s", step.sev, got.Severity, err, step.want)
			}
		}

		opened, err := incident.ParseGitHubIssue([]byte(ghOpened), "")
		if err != nil {
			t.Fatal(err)
		}
		gh, err := h.m.AlertGroup(ctx, opened.Group)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.NewReplacer(`"action":"opened"`, `"action":"edited"`, `{"name":"sev2"}`, `{"name":"sev3"}`,
			`"title":"`, `"title":"Renamed: `).Replace(ghOpened)
		a, err := incident.ParseGitHubIssue([]byte(edited), "")
		if err != nil || a.Op != "alert" {
			t.Fatalf("parse edited: %+v %v", a, err)
		}
		got, err := h.m.AlertGroup(ctx, a.Group)
		if err != nil || got.ID != gh.ID || got.Severity != "sev3" || !strings.HasPrefix(got.Title, "Renamed: ") {
			t.Fatalf("after the edit: #%d %s %q, %v; want #%d sev3 renamed", got.ID, got.Severity, got.Title, err, gh.ID)
		}
		// A title set in tandem survives the issue's next event when the
		// issue's title did not change.
		mine := "Card payments: acquirer timeouts"
		if _, err := h.m.Update(ctx, gh.ID, "alice", incident.Update{Title: &mine}); err != nil {
			t.Fatal(err)
		}
		if got, err := h.m.AlertGroup(ctx, a.Group); err != nil || got.Title != mine {
			t.Fatalf("the issue's repeat renamed the incident back: %q, %v", got.Title, err)
		}
	})
}

func TestGenericWebhook(t *testing.T) {
	for _, c := range []struct {
		body, field string
	}{
		{`{"group_key":"g","service":"checkout","title":"t"}`, ""},
		{`{"group_key":"g","service":"checkout","title":"t","severity":"2","status":"resolved"}`, ""},
		{`{"service":"checkout","title":"t"}`, "group_key"},
		{`{"group_key":"g","title":"t"}`, "service"},
		{`{"group_key":"g","service":"s","severity":"urgent"}`, "severity"},
		{`{"group_key":"g","service":"s","status":"open"}`, "status"},
		{`{"group_key":"g","service":"s","colour":"red"}`, "colour"},
		{`{"group_key":1}`, "group_key"},
		{`[`, "body"},
	} {
		_, err := incident.ParseGeneric([]byte(c.body), incident.DefaultMapping())
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.body, err)
			}
			continue
		}
		var e *tandem.Error
		if err == nil || !asErr(err, &e) || e.Code != tandem.EInvalid || e.Field != c.field {
			t.Errorf("%s: got %v, want invalid field %s", c.body, err, c.field)
		}
	}
}

func asErr(err error, e **tandem.Error) bool {
	x, ok := err.(*tandem.Error)
	*e = x
	return ok
}

func TestMapping(t *testing.T) {
	mp := incident.DefaultMapping()
	for _, c := range []struct {
		labels map[string]string
		sev    string
	}{
		{map[string]string{"severity": "page"}, "sev2"},     // default rule
		{map[string]string{"severity": "critical"}, "sev1"}, // default rule
		{map[string]string{"severity": "SEV4"}, "sev4"},     // sevN maps to itself
		{map[string]string{"severity": "warning"}, "sev3"},  // unmapped: default
		{map[string]string{}, "sev3"},                       // missing: default
	} {
		if got := mp.Severity(c.labels); got != c.sev {
			t.Errorf("Severity(%v) = %s, want %s", c.labels, got, c.sev)
		}
	}
}

func FuzzParseAlertmanager(f *testing.F) {
	for _, s := range amSteps {
		if b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", s+".json")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"version":"4","groupKey":"k","alerts":[{"status":"firing","fingerprint":"f","labels":{"service":"a"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := incident.ParseAlertmanager(b, incident.DefaultMapping())
		if err == nil && len(gs) == 0 {
			t.Fatal("accepted a payload without groups")
		}
		for _, g := range gs {
			if err == nil && (g.GroupKey == "" || len(g.Alerts) == 0 || g.Service == "") {
				t.Fatalf("accepted an incomplete payload: %+v", g)
			}
		}
	})
}

func FuzzParseGitHubIssue(f *testing.F) {
	f.Add([]byte(ghOpened))
	f.Add([]byte(ghClosed))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := incident.ParseGitHubIssue(b, "web")
		if err == nil && a.Op != "" && a.Group.GroupKey == "" {
			t.Fatalf("accepted without a group key: %+v", a)
		}
	})
}

func FuzzParseGeneric(f *testing.F) {
	f.Add([]byte(`{"group_key":"g","service":"checkout","title":"t","labels":{"a":"b"},"starts_at":"2026-03-02T07:55:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := incident.ParseGeneric(b, incident.DefaultMapping())
		if err == nil {
			if _, ok := incident.ParseSeverity(g.Severity); !ok || g.Service == "" || g.GroupKey == "" {
				t.Fatalf("accepted an invalid alert: %+v", g)
			}
		}
	})
}

// An alert nobody routes is never dropped: an Alertmanager group without a
// service label opens under "unknown", and an incident none of whose
// services has a policy pages the fallback policy when one is configured
// (and says on its timeline that nobody was paged when none is).
func TestFallbackPolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		var p map[string]any
		if err := json.Unmarshal(storedPayloads(t)[0], &p); err != nil {
			t.Fatal(err)
		}
		delete(p["commonLabels"].(map[string]any), "service")
		delete(p["groupLabels"].(map[string]any), "service")
		for _, a := range p["alerts"].([]any) {
			delete(a.(map[string]any)["labels"].(map[string]any), "service")
		}
		unlabelled, _ := json.Marshal(p)
		g, err := parseOneGroup(unlabelled, incident.DefaultMapping())
		if err != nil || g.Service != incident.UnknownService {
			t.Fatalf("a group without a service label: %q, %v", g.Service, err)
		}
		silent, err := h.m.AlertGroup(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, time.Minute, time.Minute)
		if p := h.rcv.got(); len(p) != 0 {
			t.Fatalf("paged without a policy: %v", p)
		}
		if !timelineHas(t, h, silent.ID, "no fallback policy (incidents.fallback_escalation_policy): nobody paged") {
			t.Fatalf("the timeline does not say nobody was paged")
		}

		h.set.FallbackPolicy = "Dev-SRE Escalation Policy"
		inc, err := h.m.Alert(ctx, incident.AlertInput{Source: "test", GroupKey: "g2", Fingerprint: "f2", Service: "billing-not-in-catalog",
			Severity: "sev1", Title: "billing down", Status: incident.Firing})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, time.Minute, time.Minute)
		if p := h.rcv.got(); len(p) != 1 || p[0].Incident != inc.ID || p[0].To != "dev1" {
			t.Fatalf("pages %v, want dev1 once through the fallback policy", p)
		}
		if !timelineHas(t, h, inc.ID, "no escalation policy for billing-not-in-catalog: paging the fallback policy Dev-SRE Escalation Policy") {
			t.Fatalf("the timeline does not name the fallback policy")
		}
	})
}

func timelineHas(t *testing.T, h *harness, id int64, text string) bool {
	t.Helper()
	tl, err := h.m.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tl {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}
