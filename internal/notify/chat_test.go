package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/notify"
)

func page() notify.Message {
	return notify.Message{DeliveryID: "incident:12:g0:page:0:0:alice:teams", Event: "incident.triggered", Title: "Checkout returns 500s",
		Severity: "sev1", Service: "checkout", IncidentID: 12, Status: "triggered", Recipient: "alice",
		URL: "https://tandem.example/incidents/12", AckURL: "https://tandem.example/api/v1/actions/ack-token",
		ResolveURL: "https://tandem.example/api/v1/actions/resolve-token", SentAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
}

// TestTeamsAdaptiveCard posts a page to a fake Teams Workflows webhook that
// checks the message as Teams documents it: a "message" with one
// attachment of contentType application/vnd.microsoft.card.adaptive whose
// content is an AdaptiveCard, the mention as <at>…</at> with a matching
// msteams entity, and the ack link as an Action.OpenUrl.
func TestTeamsAdaptiveCard(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("teams: %s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("teams: %v", err)
		}
		w.WriteHeader(http.StatusAccepted) // Workflows answer 202
	}))
	defer srv.Close()
	s := notify.NewSender(notify.SMTP{}, nil)
	if err := s.Send(context.Background(), notify.Channel{Type: notify.Teams, URL: srv.URL, Mention: "alice@example.com"}, page()); err != nil {
		t.Fatal(err)
	}
	atts, _ := got["attachments"].([]any)
	if got["type"] != "message" || len(atts) != 1 {
		t.Fatalf("message = %v", got)
	}
	att := atts[0].(map[string]any)
	card, _ := att["content"].(map[string]any)
	if att["contentType"] != "application/vnd.microsoft.card.adaptive" || card["type"] != "AdaptiveCard" || card["version"] != "1.4" {
		t.Fatalf("attachment = %v", att)
	}
	raw, _ := json.Marshal(card)
	for _, want := range []string{`"text":"\u003cat\u003ealice@example.com\u003c/at\u003e"`, `"mentioned":{"id":"alice@example.com"`,
		`{"title":"Acknowledge","type":"Action.OpenUrl","url":"https://tandem.example/api/v1/actions/ack-token"}`,
		`[SEV1] Checkout returns 500s (incident #12)`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("card lacks %s: %s", want, raw)
		}
	}
}

// TestMattermostButtons posts a page to a fake Mattermost incoming webhook
// and checks the buttons: integration actions posting to tandem with a
// token that verifies under the shared secret and names the incident.
func TestMattermostButtons(t *testing.T) {
	var got notify.MattermostMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("mattermost: %v", err)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s := notify.NewSender(notify.SMTP{}, nil)
	ch := notify.Channel{Type: notify.Mattermost, URL: srv.URL, Mention: "alice", Secret: "mattermost-shared-secret",
		ActionURL: "https://tandem.example/api/v1/webhooks/mattermost/actions", ActionTTL: time.Hour}
	m := page()
	if err := s.Send(context.Background(), ch, m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Text, "@alice [SEV1] Checkout returns 500s") || len(got.Attachments) != 1 || len(got.Attachments[0].Actions) != 2 {
		t.Fatalf("message = %+v", got)
	}
	for i, verb := range []string{"ack", "resolve"} {
		a := got.Attachments[0].Actions[i]
		tok, _ := a.Integration.Context["token"].(string)
		act, err := notify.Signer{Key: []byte("mattermost-shared-secret")}.Verify(tok, m.SentAt.Add(time.Minute))
		if err != nil || act.Verb != verb || act.IncidentID != 12 || a.Integration.URL != ch.ActionURL || a.Type != "button" {
			t.Errorf("action %d = %+v (%v)", i, a, err)
		}
		if _, err := (notify.Signer{Key: []byte("other")}).Verify(tok, m.SentAt); err == nil {
			t.Error("token verified under another secret")
		}
		if _, err := (notify.Signer{Key: []byte("mattermost-shared-secret")}).Verify(tok, m.SentAt.Add(2*time.Hour)); err == nil {
			t.Error("token works after its TTL")
		}
	}
}
