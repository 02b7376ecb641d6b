package chatops_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/twilio"
	"github.com/tandemhq/tandem/internal/twilio/twiliotest"
)

const (
	accountSID  = "AC00000000000000000000000000000001"
	authToken   = "twilio-auth-token-for-tests"
	fromNumber  = "+15550009999"
	aliceNumber = "+15551230001"
)

// walk moves the fake clock by d in steps, running due jobs at each.
func walk(t *testing.T, srv *apptest.Server, clk *clock.Fake, d, step time.Duration) {
	t.Helper()
	end := clk.Now().Add(d)
	for {
		runDue(t, srv)
		if !clk.Now().Before(end) {
			return
		}
		clk.Advance(step)
	}
}

// TestTwilioSMSThenCall: with alice's rules "SMS at 0, call at 5 min", an
// incident sends her an SMS at once and calls her five minutes later
// (walked on a fake clock). "ack N" from another number changes nothing;
// from hers it acknowledges as alice. A second incident's call is
// acknowledged by pressing 1. Every webhook is signed by the fake Twilio
// over the public base URL, as Twilio signs it, while it reaches tandem at
// another address (a proxy's).
func TestTwilioSMSThenCall(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) { twilioSMSThenCall(t, pg) })
	}
}

func twilioSMSThenCall(t *testing.T, postgres bool) {
	clk := clock.NewFake(t0)
	fake := twiliotest.New(t, accountSID, authToken, clk)
	t.Setenv("TEST_TWILIO_AUTH_TOKEN", authToken)
	dir := writeConfig(t, map[string]string{"catalog.yaml": catalogYAML, "incidents.yaml": `incidents:
  base_url: https://tandem.example
notification_rules:
  - person: alice
    rules:
      - {start_delay_in_minutes: 0, contact_method: sms}
      - {start_delay_in_minutes: 5, contact_method: voice}
notifications:
  twilio:
    account_sid: ` + accountSID + `
    auth_token_env: TEST_TWILIO_AUTH_TOKEN
    from: "` + fromNumber + `"
    api_url: ` + fake.URL() + `
`})
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir, Clock: clk, Manual: true, Postgres: postgres})
	ctx := context.Background()
	inc, err := srv.Client.OpenIncident(ctx, client.NewIncident{Title: "Checkout returns 500s", Services: []string{"checkout"}, Severity: "sev1"})
	if err != nil {
		t.Fatal(err)
	}
	walk(t, srv, clk, 6*time.Minute, 30*time.Second)
	sent := fake.Sent()
	if len(sent) != 2 || sent[0].Kind != "sms" || !sent[0].At.Equal(t0) || sent[1].Kind != "call" || !sent[1].At.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("sent = %+v", sent)
	}
	id := strconv.FormatInt(inc.ID, 10)
	if s := sent[0]; s.To != aliceNumber || s.From != fromNumber || !strings.Contains(s.Body, `Reply "ack `+id+`"`) {
		t.Fatalf("sms = %+v", s)
	}
	if c := sent[1]; c.To != aliceNumber || !strings.Contains(c.TwiML, `action="https://tandem.example/api/v1/webhooks/twilio/voice?incident=`+id+`"`) ||
		!strings.Contains(c.TwiML, "Press 1 to acknowledge") {
		t.Fatalf("call = %+v", c)
	}

	smsURL := srv.URL + "/api/v1/webhooks/twilio/sms"
	public := "https://tandem.example/api/v1/webhooks/twilio/sms"
	status := func(id int64) string {
		got, err := srv.Client.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	// Refused: a signature over the address tandem was reached at rather
	// than its public URL, another account's token.
	if st, _ := twiliotest.Webhook(t, smsURL, smsURL, authToken, twiliotest.SMS(accountSID, aliceNumber, fromNumber, "ack "+id)); st != http.StatusUnauthorized {
		t.Errorf("signature over the wrong URL: %d", st)
	}
	if st, _ := twiliotest.Webhook(t, smsURL, public, "another-token", twiliotest.SMS(accountSID, aliceNumber, fromNumber, "ack "+id)); st != http.StatusUnauthorized {
		t.Errorf("signature with another token: %d", st)
	}
	// "ack N" from a number no person has: nothing changes, no reply.
	st, body := twiliotest.Webhook(t, smsURL, public, authToken, twiliotest.SMS(accountSID, "+15557770000", fromNumber, "ack "+id))
	if st != 200 || strings.Contains(body, "<Message>") || status(inc.ID) != incident.Triggered {
		t.Fatalf("stranger: %d %s, incident %s", st, body, status(inc.ID))
	}
	// From alice's number: acknowledged as alice.
	st, body = twiliotest.Webhook(t, smsURL, public, authToken, twiliotest.SMS(accountSID, aliceNumber, fromNumber, "ack "+id))
	if st != 200 || !strings.Contains(body, "<Message>Incident #"+id+" acknowledged.</Message>") || status(inc.ID) != incident.Acknowledged {
		t.Fatalf("alice: %d %s, incident %s", st, body, status(inc.ID))
	}
	tl, _ := srv.Client.IncidentTimeline(ctx, inc.ID)
	if !hasStatus(tl, "alice (sms)", incident.Acknowledged) {
		t.Fatalf("timeline: %+v", tl)
	}

	// A second incident: its call is acknowledged by pressing 1.
	inc2, err := srv.Client.OpenIncident(ctx, client.NewIncident{Title: "Payments slow", Services: []string{"checkout"}, Severity: "sev2"})
	if err != nil {
		t.Fatal(err)
	}
	walk(t, srv, clk, 5*time.Minute, 30*time.Second)
	id2 := strconv.FormatInt(inc2.ID, 10)
	voiceURL := srv.URL + "/api/v1/webhooks/twilio/voice?incident=" + id2
	voicePublic := "https://tandem.example/api/v1/webhooks/twilio/voice?incident=" + id2
	st, body = twiliotest.Webhook(t, voiceURL, voicePublic, authToken, twiliotest.Keypress(accountSID, fromNumber, "+15557770000", "CA1", "1"))
	if st != 200 || !strings.Contains(body, "not known") || status(inc2.ID) != incident.Triggered {
		t.Fatalf("keypress on a call to a stranger: %d %s", st, body)
	}
	st, body = twiliotest.Webhook(t, voiceURL, voicePublic, authToken, twiliotest.Keypress(accountSID, fromNumber, aliceNumber, "CA2", "1"))
	if st != 200 || !strings.Contains(body, "acknowledged") || status(inc2.ID) != incident.Acknowledged {
		t.Fatalf("keypress: %d %s, incident %s", st, body, status(inc2.ID))
	}
	tl, _ = srv.Client.IncidentTimeline(ctx, inc2.ID)
	if !hasStatus(tl, "alice (voice)", incident.Acknowledged) {
		t.Fatalf("timeline: %+v", tl)
	}
	if got := fake.Sent(); len(got) != 4 || got[2].Kind != "sms" || got[3].Kind != "call" {
		t.Fatalf("sent = %+v", got)
	}

	// Two more incidents at once: alice's number takes one SMS a minute,
	// so the second waits for its place, and says so on its timeline.
	start := clk.Now()
	var ids []int64
	for _, title := range []string{"Search down", "Search still down"} {
		inc, err := srv.Client.OpenIncident(ctx, client.NewIncident{Title: title, Services: []string{"checkout"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}
	walk(t, srv, clk, 90*time.Second, 15*time.Second)
	got := fake.Sent()
	if len(got) != 6 || got[4].Kind != "sms" || got[5].Kind != "sms" || got[4].At != start || got[5].At.Sub(start) < time.Minute || got[5].At.Sub(start) > 75*time.Second {
		t.Fatalf("sent = %+v", got[4:])
	}
	held := false
	for _, id := range ids {
		tl, _ := srv.Client.IncidentTimeline(ctx, id)
		for _, e := range tl {
			held = held || strings.Contains(e.Message, "waits for the sms rate limit")
		}
	}
	if !held {
		t.Fatal("the held-back SMS is not on the timeline")
	}
	if !twilio.ValidNumber(aliceNumber) {
		t.Fatal("test number")
	}
}

func hasStatus(tl []client.IncidentEvent, actor, to string) bool {
	for _, e := range tl {
		if e.Kind == incident.EvStatus && e.Actor == actor && e.Data["to"] == to {
			return true
		}
	}
	return false
}
