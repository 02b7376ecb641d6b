package chatops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/slack/slacktest"
	"github.com/tandemhq/tandem/internal/twilio/twiliotest"
)

// During a rotation each inbound webhook's secret variable holds
// "new,old": Slack, Twilio and Mattermost requests signed with either are
// accepted and one signed with neither is refused; what tandem signs or
// sends itself (Twilio API calls, Mattermost buttons) uses the new one.
func TestWebhookSecretRotation(t *testing.T) {
	const (
		slackNew, slackOld = "slack-signing-new-0123456789", "slack-signing-old-0123456789"
		twNew, twOld       = "twilio-auth-token-new", "twilio-auth-token-old"
		mmNew, mmOld       = "mattermost-secret-new-0123", "mattermost-secret-old-0123"
	)
	clk := clock.NewFake(t0)
	fakeSlack := slacktest.New(t, botToken)
	// The fake Twilio takes only the new token, as Twilio does once the
	// secondary token is promoted.
	fakeTwilio := twiliotest.New(t, accountSID, twNew, clk)
	hook := newCollector(t)
	t.Setenv("TEST_SLACK_BOT_TOKEN", botToken)
	t.Setenv("TEST_SLACK_SIGNING_SECRET", slackNew+","+slackOld)
	t.Setenv("TEST_TWILIO_AUTH_TOKEN", twNew+", "+twOld)
	t.Setenv("TEST_MM_URL", hook.srv.URL+"/mattermost")
	t.Setenv("TEST_MM_SECRET", mmNew+","+mmOld)
	dir := writeConfig(t, map[string]string{"catalog.yaml": catalogYAML, "incidents.yaml": `incidents: {base_url: https://tandem.example}
notification_rules:
  - person: alice
    contact_methods:
      - {type: mattermost, address: alice.m}
    rules:
      - {start_delay_in_minutes: 0, contact_method: sms}
      - {start_delay_in_minutes: 0, contact_method: mattermost}
notifications:
  slack:
    bot_token_env: TEST_SLACK_BOT_TOKEN
    signing_secret_env: TEST_SLACK_SIGNING_SECRET
    api_url: ` + fakeSlack.URL() + `
  twilio:
    account_sid: ` + accountSID + `
    auth_token_env: TEST_TWILIO_AUTH_TOKEN
    from: "` + fromNumber + `"
    api_url: ` + fakeTwilio.URL() + `
  mattermost: {webhook_url_env: TEST_MM_URL, action_secret_env: TEST_MM_SECRET}
`})
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir, Clock: clk, Manual: true})
	ctx := context.Background()

	for _, tt := range []struct {
		secret string
		want   int
	}{{slackNew, 200}, {slackOld, 200}, {"slack-signing-wrong-012345", 401}, {slackNew + "," + slackOld, 401}} {
		st, body := slacktest.Post(t, srv.URL+"/api/v1/webhooks/slack/commands", tt.secret, "application/x-www-form-urlencoded",
			slacktest.SlashCommand("UALICE001", "CGENERAL1", "/tandem", "who"), clk.Now())
		if st != tt.want {
			t.Errorf("Slack signed with %q: %d %s, want %d", tt.secret, st, body, tt.want)
		}
	}

	inc, err := srv.Client.OpenIncident(ctx, client.NewIncident{Title: "Checkout returns 500s", Services: []string{"checkout"}, Severity: "sev1"})
	if err != nil {
		t.Fatal(err)
	}
	runDue(t, srv)
	if sent := fakeTwilio.Sent(); len(sent) != 1 || sent[0].Kind != "sms" {
		t.Fatalf("Twilio got %+v; want the SMS, sent with the new token", sent)
	}
	id := strconv.FormatInt(inc.ID, 10)
	smsURL, public := srv.URL+"/api/v1/webhooks/twilio/sms", "https://tandem.example/api/v1/webhooks/twilio/sms"
	for _, tt := range []struct {
		token string
		want  int
	}{{twNew, 200}, {twOld, 200}, {"twilio-auth-token-wrong", 401}} {
		// From a number no person has: verified, and changes nothing.
		st, body := twiliotest.Webhook(t, smsURL, public, tt.token, twiliotest.SMS(accountSID, "+15557770000", fromNumber, "ack "+id))
		if st != tt.want {
			t.Errorf("Twilio signed with %q: %d %s, want %d", tt.token, st, body, tt.want)
		}
	}

	var mm notify.MattermostMessage
	if err := json.Unmarshal(hook.last(t, "/mattermost"), &mm); err != nil || len(mm.Attachments) != 1 || len(mm.Attachments[0].Actions) == 0 {
		t.Fatalf("mattermost page: %v %+v", err, mm)
	}
	tok, _ := mm.Attachments[0].Actions[0].Integration.Context["token"].(string)
	if _, err := (notify.Signer{Key: []byte(mmNew)}).Verify(tok, clk.Now()); err != nil {
		t.Errorf("the page's button is not signed with the new secret: %v", err)
	}
	act := notify.Action{Verb: "ack", IncidentID: inc.ID, Person: "alice", Expires: clk.Now().Add(time.Hour)}
	for _, tt := range []struct {
		key  string
		want int
	}{{mmNew, 200}, {mmOld, 200}, {"mattermost-secret-wrong-01", 401}} {
		ctxv := map[string]any{"token": notify.Signer{Key: []byte(tt.key)}.Token(act)}
		b, _ := json.Marshal(map[string]any{"user_id": "mm-mallory", "user_name": "mallory", "channel_id": "c1", "post_id": "p1", "context": ctxv})
		resp, err := http.Post(srv.URL+"/api/v1/webhooks/mattermost/actions", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("Mattermost token signed with %q: %d, want %d", tt.key, resp.StatusCode, tt.want)
		}
	}
	if got, _ := srv.Client.Incident(ctx, inc.ID); got.Status != incident.Triggered {
		t.Errorf("requests from strangers changed the incident: %s", got.Status)
	}
}

// collector is an incoming-webhook endpoint (Mattermost's) that keeps the
// last body posted to each path.
type collector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts map[string][]byte
}

func newCollector(t *testing.T) *collector {
	c := &collector{posts: map[string][]byte{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.posts[r.URL.Path] = b
		c.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) last(t *testing.T, path string) []byte {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posts[path]
}
