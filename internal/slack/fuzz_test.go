package slack_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/slack"
	"github.com/tandemhq/tandem/internal/slack/slacktest"
)

// FuzzParseInteraction: any body either fails with an error or gives a
// block_actions interaction with a user and an action.
func FuzzParseInteraction(f *testing.F) {
	f.Add(slacktest.ButtonClick("U0ALICE", "T1", "C1", "1.2", "tandem_ack", "12"))
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%7D"))
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D%2C%22actions%22%3A%5B%7B%7D%5D%7D"))
	f.Add([]byte("%zz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := slack.ParseInteraction(b)
		if err != nil {
			return
		}
		if in.Type != "block_actions" || in.User.ID == "" || len(in.Actions) == 0 {
			t.Fatalf("accepted %+v", in)
		}
	})
}

// FuzzParseCommand: any body either fails or names a command and a user.
func FuzzParseCommand(f *testing.F) {
	f.Add(slacktest.SlashCommand("U1", "C1", "/tandem", "incident declare sev1 checkout is down"))
	f.Add([]byte("command=%2Ftandem&user_id=U1&text=%E2%80%AE"))
	f.Add([]byte("command=&user_id="))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := slack.ParseCommand(b)
		if err == nil && (c.Command == "" || c.UserID == "") {
			t.Fatalf("accepted %+v", c)
		}
	})
}

// FuzzParseEvents: any body either fails or is one of the three envelope
// types with what that type needs.
func FuzzParseEvents(f *testing.F) {
	f.Add(slacktest.MessageEvent("Ev1", "U1", "C1", "1.2", "!note rolled back"))
	f.Add(slacktest.LinkShared("Ev2", "C1", "1.2", "https://tandem.example/services/checkout"))
	f.Add([]byte(`{"type":"url_verification","challenge":"abc"}`))
	f.Add([]byte(`{"type":"app_rate_limited","minute_rate_limited":1518467820}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := slack.ParseEvents(b)
		if err != nil {
			return
		}
		switch e.Type {
		case slack.TypeURLVerification:
			if e.Challenge == "" {
				t.Fatal("url_verification without challenge accepted")
			}
		case slack.TypeEventCallback:
			if e.Event.Type == "" {
				t.Fatal("event_callback without event accepted")
			}
		case slack.TypeAppRateLimited:
		default:
			t.Fatalf("type %q accepted", e.Type)
		}
		_ = slack.Unescape(e.Event.Text)
	})
}

// FuzzVerify: no header or body passes without the right signature.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Add("1700000000", "v0=abc", []byte("x"))
	f.Add("", "", []byte(""))
	f.Add("1699999000", slack.Sign("s", "1699999000", []byte("x")), []byte("x"))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		if slack.Verify("s", h, body, now) == nil && sig != slack.Sign("s", ts, body) {
			t.Fatalf("verified a wrong signature %q", sig)
		}
	})
}
