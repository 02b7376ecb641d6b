package chatops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/slack"
	"github.com/tandemhq/tandem/internal/slack/slacktest"
)

// fakeStatuspage checks each call as Statuspage's API documents it:
// POST /v1/pages/{page_id}/incidents and PATCH
// /v1/pages/{page_id}/incidents/{incident_id}, "Authorization: OAuth
// <key>", a JSON body {"incident": {...}} with name (on create), status
// and body.
type fakeStatuspage struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string // "POST investigating: msg"
}

func newFakeStatuspage(t *testing.T, page, key string) *fakeStatuspage {
	f := &fakeStatuspage{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "OAuth "+key {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":"Could not authenticate"}`)
			return
		}
		var body struct {
			Incident map[string]any `json:"incident"`
		}
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil || body.Incident == nil {
			t.Errorf("statuspage: bad body")
			w.WriteHeader(400)
			return
		}
		st, _ := body.Incident["status"].(string)
		msg, _ := body.Incident["body"].(string)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/pages/"+page+"/incidents":
			if name, _ := body.Incident["name"].(string); name == "" {
				t.Errorf("statuspage: create without a name")
			}
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"id":"sp0incident1","name":"x","status":"`+st+`"}`)
		case r.Method == http.MethodPatch && r.URL.Path == "/v1/pages/"+page+"/incidents/sp0incident1":
			_, _ = io.WriteString(w, `{"id":"sp0incident1","status":"`+st+`"}`)
		default:
			t.Errorf("statuspage: unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(404)
			return
		}
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+st+": "+msg)
		f.mu.Unlock()
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// TestStatusUpdates: tandem incident update's three stages reach the
// generic status webhook (signed, once each) and Statuspage (created, then
// updated, in order), go on the timeline, and the "resolved" update
// resolves the incident.
func TestStatusUpdates(t *testing.T) {
	sp := newFakeStatuspage(t, "pg0page01", "statuspage-api-key")
	var mu sync.Mutex
	var hooks []notify.Message
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !notify.VerifySignature("status-hook-secret", r.Header.Get("X-Tandem-Timestamp"), b, r.Header.Get("X-Tandem-Signature-256")) {
			t.Errorf("status webhook: bad signature")
		}
		var m notify.Message
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		hooks = append(hooks, m)
		mu.Unlock()
	}))
	defer hook.Close()
	t.Setenv("TEST_STATUS_URL", hook.URL)
	t.Setenv("TEST_STATUS_SECRET", "status-hook-secret")
	t.Setenv("TEST_STATUSPAGE_KEY", "statuspage-api-key")
	dir := writeConfig(t, map[string]string{"catalog.yaml": catalogYAML, "incidents.yaml": `incidents: {base_url: https://tandem.example}
notifications:
  status_page:
    webhook: {url_env: TEST_STATUS_URL, secret_env: TEST_STATUS_SECRET}
    statuspage: {page_id: pg0page01, api_key_env: TEST_STATUSPAGE_KEY, api_url: ` + sp.srv.URL + `}
`})
	clk := clock.NewFake(t0)
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir, Clock: clk, Manual: true})
	ctx := context.Background()
	inc, err := srv.Client.OpenIncident(ctx, client.NewIncident{Title: "Checkout returns 500s", Services: []string{"checkout"}, Severity: "sev1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.PostIncidentUpdate(ctx, inc.ID, "fixed", "x"); err == nil {
		t.Fatal("an unknown status was accepted")
	}
	for _, u := range [][2]string{{"investigating", "Checkout fails for some customers"}, {"identified", "A bad deploy; rolling back"}, {"resolved", "Checkout is healthy"}} {
		if _, err := srv.Client.PostIncidentUpdate(ctx, inc.ID, u[0], u[1]); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	for range 3 {
		runDue(t, srv)
		clk.Advance(3 * time.Second)
	}
	want := []string{"POST investigating: Checkout fails for some customers", "PATCH identified: A bad deploy; rolling back", "PATCH resolved: Checkout is healthy"}
	if strings.Join(sp.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("statuspage calls = %q", sp.calls)
	}
	mu.Lock()
	if len(hooks) != 3 || hooks[0].Event != "incident.status_update" || hooks[1].Status != "identified" || hooks[1].Text != "A bad deploy; rolling back" || hooks[2].IncidentID != inc.ID {
		t.Fatalf("status webhook got %+v", hooks)
	}
	mu.Unlock()
	got, _ := srv.Client.Incident(ctx, inc.ID)
	if got.Status != incident.Resolved {
		t.Fatalf("after a resolved update the incident is %s", got.Status)
	}
	tl, _ := srv.Client.IncidentTimeline(ctx, inc.ID)
	n := 0
	for _, e := range tl {
		if e.Kind == incident.EvStatusUpdate {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("status updates on the timeline: %d", n)
	}
}

// TestSlackCommandsAndPreviews: /tandem who, status, declare, ack and an
// unknown user; a tandem service link shared in Slack is previewed with
// its SLO status, with no number standing in for missing data.
func TestSlackCommandsAndPreviews(t *testing.T) {
	fake := slacktest.New(t, botToken)
	t.Setenv("TEST_SLACK_BOT_TOKEN", botToken)
	t.Setenv("TEST_SLACK_SIGNING_SECRET", signingSecret)
	dir := writeConfig(t, map[string]string{"catalog.yaml": catalogYAML, "slos.yaml": `apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-availability}
spec:
  service: checkout
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
  timeWindow: [{duration: 28d, isRolling: true}]
  indicator:
    metadata: {name: checkout-good}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: tandem, spec: {source: ingest, maxStatus: 499}}}
        total: {metricSource: {type: tandem, spec: {source: ingest}}}
`, "incidents.yaml": `incidents: {base_url: https://tandem.example}
notifications:
  slack:
    bot_token_env: TEST_SLACK_BOT_TOKEN
    signing_secret_env: TEST_SLACK_SIGNING_SECRET
    api_url: ` + fake.URL() + `
`})
	clk := clock.NewFake(t0)
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir, Clock: clk, Manual: true})
	cmd := func(user, text string) map[string]any {
		st, body := slacktest.Post(t, srv.URL+"/api/v1/webhooks/slack/commands", signingSecret, "application/x-www-form-urlencoded",
			slacktest.SlashCommand(user, "CGENERAL1", "/tandem", text), clk.Now())
		var out map[string]any
		if st != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("/tandem %s: %d %s", text, st, body)
		}
		return out
	}
	if out := cmd("UALICE001", "who"); !strings.Contains(strOf(out["text"]), "checkout-primary: <@UALICE001>") || out["response_type"] != "ephemeral" {
		t.Fatalf("who = %v", out)
	}
	if out := cmd("UALICE001", "who nosuch"); !strings.Contains(strOf(out["text"]), "No schedule `nosuch`") {
		t.Fatalf("who nosuch = %v", out)
	}
	status := strOf(cmd("UALICE001", "status checkout")["text"])
	if !strings.Contains(status, "checkout-availability: no data") || strings.Contains(status, "100%") || !strings.Contains(status, "Release freeze: off") {
		t.Fatalf("status = %s", status)
	}
	if out := cmd("UALICE001", "status nosuch"); !strings.Contains(strOf(out["text"]), "No service `nosuch`") {
		t.Fatalf("status nosuch = %v", out)
	}
	out := cmd("UNOBODY01", "incident declare sev2 checkout Checkout is slow")
	if !strings.Contains(strOf(out["text"]), "does not know who you are") {
		t.Fatalf("declare by a stranger = %v", out)
	}
	if list, _ := srv.Client.Incidents(context.Background(), clientQuery()); len(list) != 0 {
		t.Fatalf("a stranger declared %+v", list)
	}
	out = cmd("UALICE001", "incident declare sev2 checkout Checkout is slow")
	if out["response_type"] != "in_channel" || !strings.Contains(strOf(out["text"]), "declared by alice") {
		t.Fatalf("declare = %v", out)
	}
	list, _ := srv.Client.Incidents(context.Background(), clientQuery())
	if len(list) != 1 || list[0].Title != "Checkout is slow" || list[0].Severity != "sev2" {
		t.Fatalf("incidents = %+v", list)
	}
	id := strconv.FormatInt(list[0].ID, 10)
	runDue(t, srv) // rule 1 pages alice
	if out := cmd("UNOBODY01", "ack "+id); !strings.Contains(strOf(out["text"]), "nothing was changed") {
		t.Fatalf("ack by a stranger = %v", out)
	}
	if out := cmd("UCAROL001", "ack "+id); !strings.Contains(strOf(out["text"]), "acknowledged by carol") {
		t.Fatalf("ack = %v", out)
	}
	if out := cmd("UCAROL001", "ack "+id); !strings.Contains(strOf(out["text"]), "already acknowledged") {
		t.Fatalf("second ack = %v", out)
	}
	// Escalate from a page's button: the next rule (bob) is paged now.
	st, _ := slacktest.Post(t, srv.URL+"/api/v1/webhooks/slack/interactions", signingSecret, "application/x-www-form-urlencoded",
		slacktest.ButtonClick("UCAROL001", "T0TEST", "CGENERAL1", "1700000000.000001", "tandem_escalate", id), clk.Now())
	if st != 200 {
		t.Fatalf("escalate click: %d", st)
	}
	runDue(t, srv)
	tl, _ := srv.Client.IncidentTimeline(context.Background(), list[0].ID)
	escalated, pagedBob := false, false
	for _, e := range tl {
		escalated = escalated || (e.Kind == incident.EvStatus && e.Actor == "carol (slack)" && strings.Contains(e.Message, "escalated by carol (slack): paging loop 1 rule 2 now"))
		pagedBob = pagedBob || (e.Kind == incident.EvEscalation && strings.Contains(e.Message, "loop 1 rule 2: paging bob"))
	}
	if !escalated || !pagedBob {
		t.Fatalf("escalate: %+v", tl)
	}
	if out := cmd("UCAROL001", "bogus"); !strings.Contains(strOf(out["text"]), "Unknown command") {
		t.Fatalf("bogus = %v", out)
	}
	// A bad signature is refused before anything is read.
	if st, _ := slacktest.Post(t, srv.URL+"/api/v1/webhooks/slack/commands", "wrong", "application/x-www-form-urlencoded",
		slacktest.SlashCommand("UCAROL001", "C1", "/tandem", "resolve "+id), clk.Now()); st != 401 {
		t.Fatalf("bad signature: %d", st)
	}

	// Previews.
	ev := slacktest.LinkShared("Ev0LINK", "CGENERAL1", "1700000200.000100", "https://tandem.example/services/checkout", "https://elsewhere.example/x")
	if st, _ := slacktest.Post(t, srv.URL+"/api/v1/webhooks/slack/events", signingSecret, "application/json", ev, clk.Now()); st != 200 {
		t.Fatalf("link_shared: %d", st)
	}
	runDue(t, srv)
	unf := fake.Calls("chat.unfurl")
	if len(unf) != 1 || unf[0].Str("channel") != "CGENERAL1" || unf[0].Str("ts") != "1700000200.000100" {
		t.Fatalf("unfurls = %+v", unf)
	}
	u, _ := unf[0].Args["unfurls"].(map[string]any)
	if _, ok := u["https://elsewhere.example/x"]; ok || !strings.Contains(jsonOf(u["https://tandem.example/services/checkout"]), "checkout-availability: no data") {
		t.Fatalf("unfurl = %s", jsonOf(u))
	}
}

// TestMattermostButtons: a Mattermost page's Acknowledge button, posted
// back by Mattermost with its signed context, acknowledges as the person
// whose Mattermost username clicked, and the answer updates the post; a
// stranger or a forged token changes nothing. The page itself went out
// through the incoming webhook with the buttons, and a Teams page with
// the ack link.
func TestMattermostButtons(t *testing.T) {
	var mu sync.Mutex
	posts := map[string][]byte{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts[r.URL.Path] = b
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	t.Setenv("TEST_MM_URL", hook.URL+"/mattermost")
	t.Setenv("TEST_MM_SECRET", "mattermost-shared-secret-0123")
	t.Setenv("TEST_TEAMS_URL", hook.URL+"/teams")
	t.Setenv("TEST_ACTION_KEY", "test-action-key-0123456789")
	dir := writeConfig(t, map[string]string{"catalog.yaml": catalogYAML, "incidents.yaml": `incidents: {base_url: https://tandem.example}
notification_rules:
  - person: alice
    contact_methods:
      - {type: mattermost, address: alice.m}
      - {type: teams, address: alice@example.com}
    rules:
      - {start_delay_in_minutes: 0, contact_method: mattermost}
      - {start_delay_in_minutes: 0, contact_method: teams}
notifications:
  action_links: {key_env: TEST_ACTION_KEY}
  mattermost: {webhook_url_env: TEST_MM_URL, action_secret_env: TEST_MM_SECRET}
  teams: {webhook_url_env: TEST_TEAMS_URL}
`})
	clk := clock.NewFake(t0)
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir, Clock: clk, Manual: true})
	ctx := context.Background()
	inc, err := srv.Client.OpenIncident(ctx, client.NewIncident{Title: "Checkout returns 500s", Services: []string{"checkout"}, Severity: "sev1"})
	if err != nil {
		t.Fatal(err)
	}
	runDue(t, srv)
	mu.Lock()
	var mm notify.MattermostMessage
	_ = json.Unmarshal(posts["/mattermost"], &mm)
	teams := string(posts["/teams"])
	mu.Unlock()
	if !strings.Contains(teams, `"type":"Action.OpenUrl","url":"https://tandem.example/api/v1/actions/`) || !strings.Contains(teams, "<at>alice@example.com</at>") {
		t.Fatalf("teams page = %s", teams)
	}
	if len(mm.Attachments) != 1 || len(mm.Attachments[0].Actions) != 2 {
		t.Fatalf("mattermost page = %+v", mm)
	}
	ack := mm.Attachments[0].Actions[0]
	if ack.Integration.URL != "https://tandem.example/api/v1/webhooks/mattermost/actions" {
		t.Fatalf("button posts to %s", ack.Integration.URL)
	}
	click := func(user string, ctxv map[string]any) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{"user_id": "mm-" + user, "user_name": user, "channel_id": "c1", "channel_name": "oncall",
			"team_id": "t1", "team_domain": "acme", "post_id": "p1", "trigger_id": "tr1", "type": "", "data_source": "", "context": ctxv})
		resp, err := http.Post(srv.URL+"/api/v1/webhooks/mattermost/actions", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, _ := click("alice.m", map[string]any{"token": "forged.token"}); st != http.StatusUnauthorized {
		t.Fatalf("forged token: %d", st)
	}
	if st, out := click("mallory", ack.Integration.Context); st != 200 || !strings.Contains(strOf(out["ephemeral_text"]), "does not know who you are") {
		t.Fatalf("stranger: %d %v", st, out)
	}
	if got, _ := srv.Client.Incident(ctx, inc.ID); got.Status != incident.Triggered {
		t.Fatalf("after refused clicks: %s", got.Status)
	}
	st, out := click("alice.m", ack.Integration.Context)
	if st != 200 || !strings.Contains(jsonOf(out["update"]), "acknowledged by alice") {
		t.Fatalf("click: %d %v", st, out)
	}
	got, _ := srv.Client.Incident(ctx, inc.ID)
	tl, _ := srv.Client.IncidentTimeline(ctx, inc.ID)
	if got.Status != incident.Acknowledged || !hasStatus(tl, "alice (mattermost)", incident.Acknowledged) {
		t.Fatalf("incident %s, timeline %+v", got.Status, tl)
	}
}

func clientQuery() client.IncidentQuery { return client.IncidentQuery{} }

// TestSlackDirectPagesAndTakenNames: without a pages channel a Slack page
// goes to the person's direct message with the app; an incident channel
// whose name is taken gets a suffix.
func TestSlackDirectPagesAndTakenNames(t *testing.T) {
	fake := slacktest.New(t, botToken)
	t.Setenv("TEST_SLACK_BOT_TOKEN", botToken)
	t.Setenv("TEST_SLACK_SIGNING_SECRET", signingSecret)
	dir := writeConfig(t, map[string]string{"catalog.yaml": catalogYAML, "incidents.yaml": `incidents: {base_url: https://tandem.example}
notifications:
  slack:
    bot_token_env: TEST_SLACK_BOT_TOKEN
    signing_secret_env: TEST_SLACK_SIGNING_SECRET
    api_url: ` + fake.URL() + `
    incident_channels: {min_severity: sev2}
`})
	if _, err := (&slack.Client{BaseURL: fake.URL(), Token: botToken}).CreateConversation(context.Background(), "inc-1-checkout", false); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir, Clock: clk, Manual: true})
	inc, err := srv.Client.OpenIncident(context.Background(), client.NewIncident{Title: "Checkout slow", Services: []string{"checkout"}, Severity: "sev2"})
	if err != nil || inc.ID != 1 {
		t.Fatalf("open = %+v, %v", inc, err)
	}
	runDue(t, srv)
	dm := false
	for _, c := range fake.Calls("chat.postMessage") {
		dm = dm || (c.Str("channel") == "UALICE001" && len(buttons(c.Args["blocks"])) == 4)
	}
	if !dm {
		t.Fatalf("no page to alice's DM: %+v", fake.Calls("chat.postMessage"))
	}
	creates := fake.Calls("conversations.create")
	if len(creates) != 3 || creates[1].Str("name") != "inc-1-checkout" || creates[2].Str("name") != "inc-1-checkout-2" {
		t.Fatalf("creates = %+v", creates)
	}
}
