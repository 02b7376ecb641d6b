package chatops_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/slack/slacktest"
)

// t0 is shortly after the test Alertmanager payload's alert started.
var t0 = time.Date(2026, 11, 25, 21, 45, 0, 0, time.UTC)

const (
	botToken      = "xoxb-test-bot-token"
	signingSecret = "e2e-signing-secret-0123456789abcdef"
)

const catalogYAML = `teams: [{name: payments, members: [alice, bob, carol]}]
people:
  - {name: alice, email: alice@example.com, slack: UALICE001, phone: "+15551230001"}
  - {name: bob, email: bob@example.com}
  - {name: carol, email: carol@example.com, slack: UCAROL001}
services:
  - {name: checkout, team: payments, escalation_policy: Checkout}
schedules:
  - name: checkout-primary
    layers: [{users: [alice], rotation: weekly, start: "2026-11-01"}]
escalation_policies:
  - name: Checkout
    rules:
      - {escalation_delay_in_minutes: 10, targets: [{type: schedule_reference, id: checkout-primary}]}
      - {escalation_delay_in_minutes: 10, targets: [{type: user_reference, id: bob}]}
`

// writeConfig writes a tandem.d with the catalog and the given
// notifications document and returns its directory.
func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runDue(t *testing.T, srv *apptest.Server) {
	t.Helper()
	if _, err := srv.Main.Engine.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func postAlert(t *testing.T, srv *apptest.Server) incident.Incident {
	t.Helper()
	b, err := os.ReadFile("../incident/testdata/alertmanager/1-firing.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/webhooks/alertmanager", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Incident *incident.Incident `json:"incident"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Incident == nil {
		t.Fatalf("alertmanager webhook: %d, %v", resp.StatusCode, err)
	}
	return *out.Incident
}

// buttons returns the action_ids of the buttons in Block Kit blocks.
func buttons(blocks any) []string {
	var out []string
	bs, _ := blocks.([]any)
	for _, b := range bs {
		m, _ := b.(map[string]any)
		if m["type"] != "actions" {
			continue
		}
		els, _ := m["elements"].([]any)
		for _, e := range els {
			em, _ := e.(map[string]any)
			if id, _ := em["action_id"].(string); id != "" {
				out = append(out, id+"="+strOf(em["value"]))
			}
		}
	}
	return out
}

func strOf(v any) string { s, _ := v.(string); return s }

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSlackEndToEnd walks the path with a fake Slack: an
// Alertmanager alert pages alice in Slack with buttons; a signed click
// from the fake Slack acknowledges as alice (a bad signature, an old
// timestamp and an unknown user change nothing); the message is updated in
// place; the sev1 opened a channel that invited the people on call and
// mirrors the timeline both ways; the resolve archives it, and the
// incident links the channel for its postmortem.
func TestSlackEndToEnd(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) { slackEndToEnd(t, pg) })
	}
}

func slackEndToEnd(t *testing.T, postgres bool) {
	fake := slacktest.New(t, botToken)
	fake.Emails["bob@example.com"] = "UBOB00001"
	t.Setenv("TEST_SLACK_BOT_TOKEN", botToken)
	t.Setenv("TEST_SLACK_SIGNING_SECRET", signingSecret)
	t.Setenv("TEST_ACTION_KEY", "test-action-key-0123456789")
	dir := writeConfig(t, map[string]string{"catalog.yaml": catalogYAML, "incidents.yaml": `incidents:
  base_url: https://tandem.example
  alert_mapping: {severities: {page: sev1}}
notification_rules:
  - person: alice
    rules: [{start_delay_in_minutes: 0, contact_method: slack}]
notifications:
  action_links: {key_env: TEST_ACTION_KEY}
  slack:
    bot_token_env: TEST_SLACK_BOT_TOKEN
    signing_secret_env: TEST_SLACK_SIGNING_SECRET
    api_url: ` + fake.URL() + `
    channel: CONCALL01
    incident_channels: {min_severity: sev1, archive_after: 0s}
`})
	clk := clock.NewFake(t0)
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir, Clock: clk, Manual: true, Postgres: postgres})
	runDue(t, srv) // bob's Slack ID by email
	if got := fake.Calls("users.lookupByEmail"); len(got) != 1 || got[0].Str("email") != "bob@example.com" {
		t.Fatalf("lookups = %+v", got)
	}

	inc := postAlert(t, srv)
	if inc.Severity != "sev1" {
		t.Fatalf("incident = %+v", inc)
	}
	runDue(t, srv)
	id := strconv.FormatInt(inc.ID, 10)

	// The page: in the pages channel, mentioning alice, with buttons.
	var page slacktest.Call
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Str("channel") == "CONCALL01" {
			page = c
		}
	}
	if page.Method == "" || !strings.HasPrefix(page.Str("text"), "<@UALICE001> [SEV1]") {
		t.Fatalf("no page to CONCALL01: %+v", fake.Calls("chat.postMessage"))
	}
	pageTS := strOf(page.Answer["ts"])
	if got := strings.Join(buttons(page.Args["blocks"]), " "); got != "tandem_ack="+id+" tandem_resolve="+id+" tandem_escalate="+id+" tandem_open=" {
		t.Fatalf("buttons = %s", got)
	}

	// The channel: created, introduced, on-call people invited.
	creates := fake.Calls("conversations.create")
	if len(creates) != 1 || creates[0].Str("name") != "inc-"+id+"-checkout" {
		t.Fatalf("creates = %+v", creates)
	}
	invites := fake.Calls("conversations.invite")
	if len(invites) != 1 {
		t.Fatalf("invites = %+v", invites)
	}
	chID := invites[0].Str("channel")
	if name, _ := fake.Channel(chID); name != "inc-"+id+"-checkout" {
		t.Fatalf("invited into %q (%s)", chID, name)
	}
	for _, u := range []string{"UALICE001", "UBOB00001"} {
		if !strings.Contains(invites[0].Str("users"), u) {
			t.Errorf("invite %q lacks %s", invites[0].Str("users"), u)
		}
	}
	intro := ""
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Str("channel") == chID {
			intro += jsonOf(c.Args["blocks"])
		}
	}
	if !strings.Contains(intro, "Suspects") || !strings.Contains(intro, "*checkout*") || !strings.Contains(intro, "SLOs") {
		t.Fatalf("channel introduction = %s", intro)
	}

	url := srv.URL + "/api/v1/webhooks/slack/interactions"
	form := "application/x-www-form-urlencoded"
	click := slacktest.ButtonClick("UALICE001", "T0TEST", "CONCALL01", pageTS, "tandem_ack", id)
	// Refused: a bad signature, an old timestamp.
	if st, _ := slacktest.Post(t, url, "not-the-signing-secret", form, click, clk.Now()); st != http.StatusUnauthorized {
		t.Errorf("bad signature: %d", st)
	}
	if st, _ := slacktest.Post(t, url, signingSecret, form, click, clk.Now().Add(-6*time.Minute)); st != http.StatusUnauthorized {
		t.Errorf("old timestamp: %d", st)
	}
	// An unknown user: told so, nothing changed.
	if st, _ := slacktest.Post(t, url, signingSecret, form, slacktest.ButtonClick("UNOBODY01", "T0TEST", "CONCALL01", pageTS, "tandem_ack", id), clk.Now()); st != http.StatusOK {
		t.Errorf("unknown user: %d", st)
	}
	runDue(t, srv)
	if got, _ := srv.Client.Incident(context.Background(), inc.ID); got.Status != incident.Triggered {
		t.Fatalf("after refused clicks the incident is %s", got.Status)
	}
	if eph := fake.Calls("chat.postEphemeral"); len(eph) != 1 || eph[0].Str("user") != "UNOBODY01" {
		t.Fatalf("ephemerals = %+v", eph)
	}

	// Alice's click acknowledges as alice.
	if st, body := slacktest.Post(t, url, signingSecret, form, click, clk.Now()); st != http.StatusOK {
		t.Fatalf("click: %d %s", st, body)
	}
	got, _ := srv.Client.Incident(context.Background(), inc.ID)
	if got.Status != incident.Acknowledged {
		t.Fatalf("after alice's click the incident is %s", got.Status)
	}
	tl, _ := srv.Client.IncidentTimeline(context.Background(), inc.ID)
	acked := false
	for _, e := range tl {
		if e.Kind == incident.EvStatus && e.Actor == "alice (slack)" && e.Data["to"] == incident.Acknowledged {
			acked = true
		}
	}
	if !acked {
		t.Fatalf("no ack by alice (slack) on the timeline: %+v", tl)
	}

	// A note from the API is mirrored into the channel; a note typed in
	// the channel lands on the timeline as its author.
	if _, err := srv.Client.AddIncidentNote(context.Background(), inc.ID, "rolled back checkout to v1.4.2"); err != nil {
		t.Fatal(err)
	}
	evURL := srv.URL + "/api/v1/webhooks/slack/events"
	if st, body := slacktest.Post(t, evURL, signingSecret, "application/json",
		[]byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`), clk.Now()); st != 200 ||
		!strings.Contains(string(body), "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") {
		t.Fatalf("url_verification: %d %s", st, body)
	}
	noteEv := slacktest.MessageEvent("Ev0NOTE", "UBOB00001", chID, "1700000100.000100", "!note bisecting the deploy &amp; its config")
	for range 2 { // Slack retries a delivery it thinks failed: one note
		if st, body := slacktest.Post(t, evURL, signingSecret, "application/json", noteEv, clk.Now()); st != 200 {
			t.Fatalf("message event: %d %s", st, body)
		}
	}
	runDue(t, srv)

	// The page was updated in place: who acknowledged, no ack button.
	updates := fake.Calls("chat.update")
	if len(updates) == 0 {
		t.Fatal("no chat.update")
	}
	up := updates[len(updates)-1]
	if up.Str("channel") != "CONCALL01" || up.Str("ts") != pageTS || !strings.Contains(jsonOf(up.Args["blocks"]), "Acknowledged by alice (slack)") ||
		strings.Contains(jsonOf(up.Args["blocks"]), "tandem_ack") {
		t.Fatalf("update = %+v", up)
	}
	var mirrored []string
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Str("channel") == chID && c.Args["blocks"] == nil {
			mirrored = append(mirrored, c.Str("text"))
		}
	}
	all := strings.Join(mirrored, "\n")
	for _, want := range []string{"acknowledged by alice (slack)", "rolled back checkout to v1.4.2"} {
		if !strings.Contains(all, want) {
			t.Errorf("channel lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "bisecting") {
		t.Errorf("the channel's own note was echoed back:\n%s", all)
	}
	tl, _ = srv.Client.IncidentTimeline(context.Background(), inc.ID)
	notes := 0
	for _, e := range tl {
		if e.Kind == incident.EvNote && e.Actor == "bob (slack)" && e.Message == "bisecting the deploy & its config" {
			notes++
		}
	}
	if notes != 1 {
		t.Fatalf("notes from the channel = %d: %+v", notes, tl)
	}

	// Resolve: the channel is archived (archive_after 0) and linked.
	if _, err := srv.Client.IncidentAction(context.Background(), inc.ID, "resolve", "rolled back"); err != nil {
		t.Fatal(err)
	}
	runDue(t, srv)
	if _, archived := fake.Channel(chID); !archived {
		t.Fatalf("channel %s not archived: %+v", chID, fake.Calls("conversations.archive"))
	}
	got, _ = srv.Client.Incident(context.Background(), inc.ID)
	if got.Links["slack_channel"] != "https://tandem-test.slack.com/archives/"+chID {
		t.Fatalf("links = %v", got.Links)
	}
	// Every outbound call was a job, visible in tandem jobs.
	jobs, err := srv.Client.Jobs(context.Background(), "", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, j := range jobs {
		kinds[j.Kind] = true
		if strings.Contains(string(j.Payload), botToken) || strings.Contains(string(j.Payload), signingSecret) {
			t.Errorf("job %d payload holds a secret", j.ID)
		}
	}
	for _, k := range []string{"incident.page", "chatops.slack_update", "chatops.slack_channel", "chatops.slack_mirror", "chatops.slack_archive", "chatops.slack_lookup", "chatops.slack_ephemeral"} {
		if !kinds[k] {
			t.Errorf("no %s job in %v", k, kinds)
		}
	}
}
