package slack_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/slack"
	"github.com/tandemhq/tandem/internal/slack/slacktest"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

func header(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	return h
}

// TestSignatureSlackExample checks Sign against the worked example in
// Slack's "Verifying requests from Slack" guide.
func TestSignatureSlackExample(t *testing.T) {
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	got := slack.Sign(secret, "1531420618", body)
	want := "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := slack.Verify(secret, header("1531420618", want), body, time.Unix(1531420618+60, 0)); err != nil {
		t.Fatalf("Verify of Slack's example: %v", err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte("payload=%7B%7D")
	ts := strconv.FormatInt(now.Unix(), 10)
	good := slack.Sign(secret, ts, body)
	old := strconv.FormatInt(now.Add(-5*time.Minute-time.Second).Unix(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	for _, c := range []struct {
		name   string
		secret string
		h      http.Header
		body   []byte
		want   error
	}{
		{"good", secret, header(ts, good), body, nil},
		{"four minutes old", secret, header(strconv.FormatInt(now.Add(-4*time.Minute).Unix(), 10),
			slack.Sign(secret, strconv.FormatInt(now.Add(-4*time.Minute).Unix(), 10), body)), body, nil},
		{"other body", secret, header(ts, good), []byte("payload=%7B%22x%22%7D"), slack.ErrBadSignature},
		{"other secret", "another-secret", header(ts, good), body, slack.ErrBadSignature},
		{"old timestamp, signed right", secret, header(old, slack.Sign(secret, old, body)), body, slack.ErrStale},
		{"future timestamp", secret, header(future, slack.Sign(secret, future, body)), body, slack.ErrStale},
		{"timestamp not a number", secret, header("yesterday", good), body, slack.ErrStale},
		{"no signature", secret, header(ts, ""), body, slack.ErrNoSignature},
		{"no timestamp", secret, header("", good), body, slack.ErrNoSignature},
		{"no secret configured", "", header(ts, good), body, slack.ErrNoSignature},
		{"uppercase hex", secret, header(ts, "v0="+strings.ToUpper(strings.TrimPrefix(good, "v0="))), body, slack.ErrBadSignature},
	} {
		if err := slack.Verify(c.secret, c.h, c.body, now); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestWebAPIAgainstFake(t *testing.T) {
	fake := slacktest.New(t, "xoxb-test")
	fake.Emails["alice@example.com"] = "U0ALICE"
	c := &slack.Client{BaseURL: fake.URL(), Token: "xoxb-test"}
	ctx := context.Background()
	p, err := c.PostMessage(ctx, slack.Message{Channel: "C0ONCALL", Text: "hello", Blocks: []map[string]any{{"type": "section"}}})
	if err != nil || p.Channel != "C0ONCALL" || p.TS == "" {
		t.Fatalf("PostMessage = %+v, %v", p, err)
	}
	if err := c.UpdateMessage(ctx, slack.Message{Channel: p.Channel, TS: p.TS, Text: "acked"}); err != nil {
		t.Fatal(err)
	}
	ch, err := c.CreateConversation(ctx, "inc-12-checkout", false)
	if err != nil || ch.ID == "" {
		t.Fatalf("create = %+v, %v", ch, err)
	}
	var se *slack.Error
	if _, err := c.CreateConversation(ctx, "inc-12-checkout", false); !errors.As(err, &se) || se.Code != "name_taken" || !se.Permanent {
		t.Fatalf("second create = %v, want a permanent name_taken", err)
	}
	if err := c.Invite(ctx, ch.ID, []string{"U0ALICE", "U0BOB"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Archive(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Archive(ctx, ch.ID); err != nil {
		t.Fatalf("archiving an archived channel: %v", err)
	}
	if id, err := c.LookupByEmail(ctx, "alice@example.com"); err != nil || id != "U0ALICE" {
		t.Fatalf("lookup = %q, %v", id, err)
	}
	if _, err := c.LookupByEmail(ctx, "nobody@example.com"); !errors.Is(err, slack.ErrNotFound) {
		t.Fatalf("lookup of unknown = %v, want ErrNotFound", err)
	}
	id, err := c.AuthTest(ctx)
	if err != nil || slack.ChannelURL(id.URL, ch.ID) != "https://tandem-test.slack.com/archives/"+ch.ID {
		t.Fatalf("auth.test = %+v, %v", id, err)
	}
	invites := fake.Calls("conversations.invite")
	if len(invites) != 1 || invites[0].Str("users") != "U0ALICE,U0BOB" || invites[0].Args["force"] != true {
		t.Fatalf("invite calls = %+v", invites)
	}
	bad := &slack.Client{BaseURL: fake.URL(), Token: "xoxb-wrong"}
	if _, err := bad.PostMessage(ctx, slack.Message{Channel: "C1", Text: "x"}); !errors.As(err, &se) || se.Code != "invalid_auth" || !se.Permanent {
		t.Fatalf("bad token = %v, want a permanent invalid_auth", err)
	}
}

func TestErrorsSayWhetherToRetry(t *testing.T) {
	var status int
	var body, retry string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c := &slack.Client{BaseURL: srv.URL, Token: "xoxb-secret-token"}
	for _, tc := range []struct {
		status    int
		body      string
		retry     string
		permanent bool
		wait      time.Duration
	}{
		{429, "", "30", false, 30 * time.Second},
		{429, "", "", false, time.Minute},
		{200, `{"ok":false,"error":"channel_not_found"}`, "", true, 0},
		{200, `{"ok":false,"error":"internal_error"}`, "", false, 0},
		{200, `{"ok":false,"error":"missing_scope","needed":"chat:write"}`, "", true, 0},
		{500, "oops", "", false, 0},
		{503, "", "", false, 0},
		{404, "", "", true, 0},
		{200, "not json", "", false, 0},
	} {
		status, body, retry = tc.status, tc.body, tc.retry
		_, err := c.PostMessage(context.Background(), slack.Message{Channel: "C1", Text: "x"})
		var se *slack.Error
		if !errors.As(err, &se) || se.Permanent != tc.permanent || se.RetryAfter() != tc.wait {
			t.Errorf("HTTP %d %q: err = %#v, want permanent=%v wait=%s", tc.status, tc.body, err, tc.permanent, tc.wait)
		}
		if tc.status == 429 && !se.Attempted() {
			t.Errorf("a 429 must count as an attempt")
		}
	}
	srv.Close()
	_, err := c.PostMessage(context.Background(), slack.Message{Channel: "C1", Text: "x"})
	var se *slack.Error
	if !errors.As(err, &se) || se.Permanent || strings.Contains(err.Error(), "xoxb-secret-token") {
		t.Fatalf("transport failure = %v", err)
	}
}

func TestParsers(t *testing.T) {
	in, err := slack.ParseInteraction(slacktest.ButtonClick("U0ALICE", "T0TEST", "C0ONCALL", "1700000000.000001", "tandem_ack", "12"))
	if err != nil {
		t.Fatal(err)
	}
	if ch, ts := in.MessageRef(); in.User.ID != "U0ALICE" || ch != "C0ONCALL" || ts != "1700000000.000001" || in.Actions[0].ActionID != "tandem_ack" || in.Actions[0].Value != "12" {
		t.Fatalf("interaction = %+v", in)
	}
	for _, bad := range []string{"", "payload=", "payload=%7B", `payload={"type":"view_submission","user":{"id":"U1"}}`, `payload={"type":"block_actions","actions":[]}`} {
		if _, err := slack.ParseInteraction([]byte(bad)); err == nil {
			t.Errorf("ParseInteraction(%q) accepted", bad)
		}
	}
	cmd, err := slack.ParseCommand(slacktest.SlashCommand("U0ALICE", "C0ONCALL", "/tandem", "ack 12"))
	if err != nil || cmd.Command != "/tandem" || cmd.Text != "ack 12" || cmd.UserID != "U0ALICE" {
		t.Fatalf("command = %+v, %v", cmd, err)
	}
	if _, err := slack.ParseCommand([]byte("text=ack")); err == nil {
		t.Error("a command without user was accepted")
	}
	ev, err := slack.ParseEvents([]byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`))
	if err != nil || ev.Challenge == "" {
		t.Fatalf("url_verification = %+v, %v", ev, err)
	}
	ev, err = slack.ParseEvents(slacktest.LinkShared("Ev1", "C1", "1.2", "https://tandem.example/services/checkout"))
	if err != nil || ev.Event.Type != "link_shared" || len(ev.Event.Links) != 1 || ev.Event.MessageTS != "1.2" {
		t.Fatalf("link_shared = %+v, %v", ev, err)
	}
	for _, bad := range []string{"", "{", `{"type":"url_verification"}`, `{"type":"event_callback"}`, `{"type":"other"}`} {
		if _, err := slack.ParseEvents([]byte(bad)); err == nil {
			t.Errorf("ParseEvents(%q) accepted", bad)
		}
	}
	if got := slack.Unescape("note: rolled back &lt;v2&gt; &amp; see <https://ci.example/run/1|the run> <@U0ALICE>"); got != "note: rolled back <v2> & see https://ci.example/run/1 <@U0ALICE>" {
		t.Fatalf("Unescape = %q", got)
	}
}
