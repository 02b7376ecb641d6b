package incident_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
)

const actionKey = "an-action-link-key-for-tests"

func apiServer(t *testing.T) (*apptest.Server, *countingReceiver) {
	rcv := newCountingReceiver(t)
	dir := writeConfig(t, rcv.srv.URL)
	t.Setenv("TEST_GH_SECRET", "gh-secret")
	t.Setenv("TEST_ACTION_KEY", actionKey)
	extra := `incidents:
  base_url: https://tandem.example
  github_issues: {secret_env: TEST_GH_SECRET}
heartbeats:
  - {name: nightly-backup, service: checkout, interval: 25h}
`
	if err := os.WriteFile(filepath.Join(dir, "incidents.yaml"), []byte(extra), 0o600); err != nil {
		t.Fatal(err)
	}
	// notifications: lives in tandem.yaml; add the action-link key there.
	b, _ := os.ReadFile(filepath.Join(dir, "tandem.yaml"))
	b = []byte(strings.Replace(string(b), "notifications:\n", "notifications:\n  action_links: {key_env: TEST_ACTION_KEY, ttl: 1h}\n", 1))
	if err := os.WriteFile(filepath.Join(dir, "tandem.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return apptest.Start(t, apptest.Options{ConfigDir: dir}), rcv
}

func appErr(t *testing.T, err error, code, field string) {
	t.Helper()
	var e *tandem.Error
	if !errors.As(err, &e) || e.Code != code || (field != "" && e.Field != field) {
		t.Fatalf("error %v, want %s on %s", err, code, field)
	}
}

func post(t *testing.T, url, token, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIncidentAPI(t *testing.T) {
	srv, rcv := apiServer(t)
	ctx := context.Background()
	c := srv.Client

	_, err := c.OpenIncident(ctx, client.NewIncident{Title: "x", Services: []string{"chekout"}, Severity: "sev1"})
	appErr(t, err, tandem.EUnprocessable, "services[0]")
	if !strings.Contains(err.Error(), "checkout") {
		t.Fatalf("no close name in %v", err)
	}
	_, err = c.OpenIncident(ctx, client.NewIncident{Title: "x", Services: []string{"checkout"}, Severity: "urgent"})
	appErr(t, err, tandem.EInvalid, "severity")

	inc, err := c.OpenIncident(ctx, client.NewIncident{Title: "checkout down", Services: []string{"checkout"}, Severity: "1"})
	if err != nil || inc.Severity != "sev1" || inc.Status != incident.Triggered {
		t.Fatalf("open: %+v %v", inc, err)
	}
	rcv.wait(t, 1, 10*time.Second) // dev1 paged at once
	if _, err := c.AddIncidentNote(ctx, inc.ID, "looking at the load balancer"); err != nil {
		t.Fatal(err)
	}
	list, err := c.Incidents(ctx, client.IncidentQuery{Status: "open"})
	if err != nil || len(list) != 1 {
		t.Fatalf("open incidents: %v %v", list, err)
	}

	// One-click links: GET shows a page and changes nothing; POST acks.
	tok := notify.Signer{Key: []byte(actionKey)}.Token(notify.Action{Verb: "ack", IncidentID: inc.ID, Person: "dev1", Expires: time.Now().Add(time.Hour)})
	resp, err := http.Get(srv.URL + "/api/v1/actions/" + tok)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `<form method="post">`) || !strings.Contains(string(page), "checkout down") {
		t.Fatalf("action page %d:\n%s", resp.StatusCode, page)
	}
	if got, _ := c.Incident(ctx, inc.ID); got.Status != incident.Triggered {
		t.Fatalf("GET changed the incident to %s", got.Status)
	}
	for i, want := range []string{"Done.", "already acknowledged"} {
		code, body := post(t, srv.URL+"/api/v1/actions/"+tok, "", "", nil)
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("action POST %d: %d %s", i, code, body)
		}
	}
	code, _ := post(t, srv.URL+"/api/v1/actions/"+tok[:len(tok)-2]+"xx", "", "", nil)
	if code != http.StatusForbidden {
		t.Fatalf("forged token: %d", code)
	}
	if _, err := c.IncidentAction(ctx, inc.ID, "resolve", "restarted the pods"); err != nil {
		t.Fatal(err)
	}
	closed, err := c.IncidentAction(ctx, inc.ID, "close", "")
	if err != nil || closed.Status != incident.Closed || closed.ClosedAt == nil {
		t.Fatalf("close: %+v %v", closed, err)
	}
	_, err = c.IncidentAction(ctx, inc.ID, "ack", "")
	appErr(t, err, tandem.EConflict, "")
	tl, err := c.IncidentTimeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	got := strings.Join(kinds, ",")
	for _, want := range []string{"opened", "escalation", "page", "note", "status"} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline %s lacks %s", got, want)
		}
	}

	// Jobs are visible by state, to admins only: their payloads hold
	// contact addresses.
	wc, err := client.New(srv.URL, srv.Token(t, "writer", auth.ScopeWrite))
	if err != nil {
		t.Fatal(err)
	}
	_, err = wc.Jobs(ctx, "", "", 0)
	appErr(t, err, tandem.EForbidden, "")
	if _, err := c.Jobs(ctx, "bogus", "", 0); err == nil {
		t.Fatal("bad state accepted")
	}
	if jobs, err := c.Jobs(ctx, "done", "incident.page", 0); err != nil || len(jobs) != 1 {
		t.Fatalf("done page jobs %v %v", jobs, err)
	}
}

func TestInboundWebhooksAPI(t *testing.T) {
	srv, _ := apiServer(t)
	am, _ := os.ReadFile("testdata/alertmanager/1-firing.json")
	url := srv.URL + "/api/v1/webhooks/alertmanager"
	if code, _ := post(t, url, "", string(am), nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := post(t, url, srv.Token(t, "reader", auth.ScopeRead), string(am), nil); code != 403 {
		t.Fatalf("read token: %d", code)
	}
	w := srv.Token(t, "alertmanager", auth.ScopeWrite)
	code, body := post(t, url, w, string(am), nil)
	var res struct {
		Incident incident.Incident `json:"incident"`
	}
	if err := json.Unmarshal([]byte(body), &res); code != 200 || err != nil || res.Incident.ID == 0 {
		t.Fatalf("alertmanager: %d %s", code, body)
	}
	for _, bad := range []string{`{`, `{"version":"3"}`, `{"version":"4","groupKey":"k","alerts":[{"status":"weird","fingerprint":"f","labels":{"service":"checkout"}}]}`} {
		if code, body := post(t, url, w, bad, nil); code != 400 {
			t.Fatalf("bad payload %s: %d %s", bad, code, body)
		}
	}

	gen := srv.URL + "/api/v1/webhooks/generic"
	if code, body := post(t, gen, w, `{"group_key":"db-1","service":"checkout","title":"replica lag","severity":"sev3"}`, nil); code != 200 || !strings.Contains(body, `"severity":"sev3"`) {
		t.Fatalf("generic: %d %s", code, body)
	}
	if code, body := post(t, gen, w, `{"group_key":"db-1","service":"chekout","title":"x"}`, nil); code != 422 {
		t.Fatalf("generic unknown service: %d %s", code, body)
	}

	gh := srv.URL + "/api/v1/webhooks/github/issues"
	sign := func(b string) string {
		m := hmac.New(sha256.New, []byte("gh-secret"))
		m.Write([]byte(b))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	hdr := map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": sign(ghOpened)}
	if code, body := post(t, gh, "", ghOpened, hdr); code != 200 || !strings.Contains(body, `"source":"github"`) {
		t.Fatalf("github opened: %d %s", code, body)
	}
	hdr["X-Hub-Signature-256"] = sign(ghOpened + " ")
	if code, _ := post(t, gh, "", ghOpened, hdr); code != 401 {
		t.Fatalf("bad signature: %d", code)
	}
	hdr["X-Hub-Signature-256"] = sign(ghClosed)
	if code, body := post(t, gh, "", ghClosed, hdr); code != 200 || !strings.Contains(body, `"status":"closed"`) {
		t.Fatalf("github closed: %d %s", code, body)
	}

	hb := srv.URL + "/api/v1/heartbeats/"
	if code, _ := post(t, hb+"nightly-backup", w, "", nil); code != 200 {
		t.Fatalf("heartbeat: %d", code)
	}
	if code, _ := post(t, hb+"nope", w, "", nil); code != 404 {
		t.Fatalf("unknown heartbeat: %d", code)
	}
	mw, err := srv.Client.AddMaintenanceWindow(context.Background(), client.MaintenanceWindow{Service: "checkout", StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour), Reason: "db upgrade"})
	if err != nil || mw.ID == 0 {
		t.Fatalf("maintenance: %+v %v", mw, err)
	}
	_, err = srv.Client.AddMaintenanceWindow(context.Background(), client.MaintenanceWindow{Service: "checkout", StartsAt: time.Now(), EndsAt: time.Now().Add(-time.Hour), Reason: "x"})
	appErr(t, err, tandem.EInvalid, "ends_at")
	// Ending it early: the window is over, named with who ended it.
	ended, err := srv.Client.EndMaintenanceWindow(context.Background(), mw.ID)
	if err != nil || ended.EndedAt == nil || ended.EndedBy != "token:test-admin" {
		t.Fatalf("end the window: %+v %v", ended, err)
	}
	if ws, err := srv.Client.MaintenanceWindows(context.Background()); err != nil || len(ws) != 0 {
		t.Fatalf("windows after the end: %+v %v", ws, err)
	}
	_, err = srv.Client.EndMaintenanceWindow(context.Background(), mw.ID)
	appErr(t, err, tandem.EConflict, "")
	_, err = srv.Client.EndMaintenanceWindow(context.Background(), 424242)
	appErr(t, err, tandem.ENotFound, "")
	if code, _ := post(t, srv.URL+"/api/v1/maintenance-windows/x/end", w, "", nil); code != 400 {
		t.Fatalf("end window x: %d, want 400", code)
	}
}

// TestReassignAndRespondersAPI: both need a write token; an unknown person
// or policy is a 422 naming it and changes nothing; a reassignment and a
// responder page go out and are on the timeline; a responder added twice
// is paged once.
func TestReassignAndRespondersAPI(t *testing.T) {
	srv, rcv := apiServer(t)
	ctx := context.Background()
	c := srv.Client
	inc, err := c.OpenIncident(ctx, client.NewIncident{Title: "checkout down", Services: []string{"checkout"}, Severity: "sev1"})
	if err != nil {
		t.Fatal(err)
	}
	rcv.wait(t, 1, 10*time.Second) // dev1 paged at once
	base := srv.URL + "/api/v1/incidents/" + strconv.FormatInt(inc.ID, 10)
	read := srv.Token(t, "reader", auth.ScopeRead)
	write := srv.Token(t, "writer", auth.ScopeWrite)
	for _, path := range []string{"/reassign", "/responders"} {
		if code, _ := post(t, base+path, "", `{"person":"alice","people":["alice"]}`, nil); code != 401 {
			t.Fatalf("%s without a token: %d", path, code)
		}
		if code, _ := post(t, base+path, read, `{"person":"alice","people":["alice"]}`, nil); code != 403 {
			t.Fatalf("%s with a read token: %d", path, code)
		}
	}
	before, err := c.IncidentTimeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ path, body, name string }{
		{"/reassign", `{"person":"mallory"}`, "mallory"},
		{"/reassign", `{"policy":"Nobody's Policy"}`, "Nobody's Policy"},
		{"/responders", `{"people":["alice","zed"]}`, "zed"},
	} {
		code, body := post(t, base+bad.path, write, bad.body, nil)
		if code != 422 || !strings.Contains(body, bad.name) {
			t.Fatalf("%s %s: %d %s, want 422 naming %q", bad.path, bad.body, code, body, bad.name)
		}
	}
	for _, bad := range []struct{ path, body string }{
		{"/reassign", `{}`}, {"/reassign", `{"person":"alice","policy":"Dev-SRE"}`}, {"/reassign", `{`},
		{"/responders", `{"people":[]}`}, {"/responders", `{"people":"alice"}`},
	} {
		if code, body := post(t, base+bad.path, write, bad.body, nil); code != 400 {
			t.Fatalf("%s %s: %d %s, want 400", bad.path, bad.body, code, body)
		}
	}
	after, _ := c.IncidentTimeline(ctx, inc.ID)
	if got, _ := c.Incident(ctx, inc.ID); len(after) != len(before) || got.Assignee != "" || len(got.Responders) != 0 || got.Policy != "Dev-SRE" {
		t.Fatalf("bad requests changed the incident: %+v, %d → %d timeline entries", got, len(before), len(after))
	}

	got, err := c.ReassignIncident(ctx, inc.ID, client.IncidentAssignment{Person: "alice"})
	if err != nil || got.Assignee != "alice" || got.Status != incident.Triggered {
		t.Fatalf("reassign: %+v %v", got, err)
	}
	rcv.wait(t, 2, 10*time.Second)
	got, err = c.AddIncidentResponders(ctx, inc.ID, []string{"dev1", "dev1"})
	if err != nil || len(got.Responders) != 1 || got.Responders[0].Person != "dev1" || got.Assignee != "alice" {
		t.Fatalf("responders: %+v %v", got, err)
	}
	rcv.wait(t, 3, 10*time.Second)
	if _, err := c.AddIncidentResponders(ctx, inc.ID, []string{"dev1"}); err != nil {
		t.Fatal(err)
	}
	tl, err := c.IncidentTimeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reassigned, asked, again int
	pages := map[string]int{}
	for _, e := range tl {
		switch {
		case e.Kind == incident.EvReassign:
			reassigned++
		case e.Kind == incident.EvResponder && strings.Contains(e.Message, "already"):
			again++
		case e.Kind == incident.EvResponder:
			asked++
		case e.Kind == incident.EvPage:
			pages[e.Data["person"].(string)]++
		}
	}
	if reassigned != 1 || asked != 1 || again != 1 || pages["dev1"] != 2 || pages["alice"] != 1 {
		t.Fatalf("timeline: %d reassign, %d asked, %d again, pages %v", reassigned, asked, again, pages)
	}
	if jobs, err := c.Jobs(ctx, "", "incident.page", 0); err != nil || len(jobs) != 3 {
		t.Fatalf("page jobs %v %v, want 3 (the second request for dev1 pages nobody)", jobs, err)
	}
}
