// Package twiliotest is a stand-in for Twilio in tests: an httptest server
// that takes SMS and calls as Twilio's REST API documents them (POST
// /2010-04-01/Accounts/{AccountSid}/Messages.json and Calls.json, HTTP
// Basic auth with the account SID and auth token, form fields To, From and
// Body or Twiml), and helpers that deliver SMS replies and keypresses to
// tandem signed exactly as Twilio signs them.
package twiliotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/twilio"
)

// Sent is one SMS or call the fake took.
type Sent struct {
	Kind     string // "sms" or "call"
	From, To string
	Body     string // the SMS text
	TwiML    string // the call's instructions
	At       time.Time
	SID      string
}

// Server is a fake Twilio account.
type Server struct {
	t          testing.TB
	srv        *httptest.Server
	AccountSID string
	AuthToken  string
	clk        clock.Clock

	mu   sync.Mutex
	sent []Sent
}

// New starts a fake Twilio for one account; clk stamps what it receives.
func New(t testing.TB, accountSID, authToken string, clk clock.Clock) *Server {
	s := &Server{t: t, AccountSID: accountSID, AuthToken: authToken, clk: clk}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API root to configure.
func (s *Server) URL() string { return s.srv.URL }

// Sent returns what was sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code int, format string, args ...any) {
		s.t.Errorf("fake twilio: "+format, args...)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": fmt.Sprintf(format, args...), "status": status})
	}
	prefix := "/2010-04-01/Accounts/" + s.AccountSID + "/"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) {
		fail(404, 20404, "%s %s: not a resource", r.Method, r.URL.Path)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != s.AccountSID || p != s.AuthToken {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		fail(400, 21000, "Content-Type %q", ct)
		return
	}
	b, _ := io.ReadAll(r.Body)
	f, err := url.ParseQuery(string(b))
	if err != nil {
		fail(400, 21000, "bad form: %v", err)
		return
	}
	from, to := f.Get("From"), f.Get("To")
	if !twilio.ValidNumber(from) || !twilio.ValidNumber(to) {
		fail(400, 21211, "From %q or To %q is not an E.164 number", from, to)
		return
	}
	var sent Sent
	switch strings.TrimPrefix(r.URL.Path, prefix) {
	case "Messages.json":
		if f.Get("Body") == "" {
			fail(400, 21602, "Message body is required")
			return
		}
		sent = Sent{Kind: "sms", From: from, To: to, Body: f.Get("Body")}
	case "Calls.json":
		if f.Get("Twiml") == "" && f.Get("Url") == "" {
			fail(400, 21205, "Url or Twiml is required")
			return
		}
		sent = Sent{Kind: "call", From: from, To: to, TwiML: f.Get("Twiml")}
	default:
		fail(404, 20404, "unknown resource %s", r.URL.Path)
		return
	}
	s.mu.Lock()
	sent.At = s.clk.Now()
	prefixSID := map[string]string{"sms": "SM", "call": "CA"}[sent.Kind]
	sent.SID = fmt.Sprintf("%s%032d", prefixSID, len(s.sent)+1)
	s.sent = append(s.sent, sent)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": sent.SID, "account_sid": s.AccountSID, "to": to, "from": from, "status": "queued"})
}

// Webhook posts form to postURL as Twilio does: form-encoded, signed with
// authToken over publicURL (the URL Twilio was configured with, which a
// proxy may forward elsewhere). It returns the status and body.
func Webhook(t testing.TB, postURL, publicURL, authToken string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, postURL, bytes.NewReader([]byte(form.Encode())))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Signature(authToken, publicURL, form))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// SMS is the form of an incoming SMS, as Twilio posts it.
func SMS(accountSID, from, to, body string) url.Values {
	return url.Values{"AccountSid": {accountSID}, "ApiVersion": {"2010-04-01"}, "Body": {body}, "From": {from}, "To": {to},
		"MessageSid": {"SM00000000000000000000000000000099"}, "SmsSid": {"SM00000000000000000000000000000099"},
		"SmsStatus": {"received"}, "NumMedia": {"0"}, "NumSegments": {"1"}, "FromCountry": {"US"}, "ToCountry": {"US"}}
}

// Keypress is the form of a Gather's result in an outbound call from from
// to to.
func Keypress(accountSID, from, to, callSID, digits string) url.Values {
	return url.Values{"AccountSid": {accountSID}, "ApiVersion": {"2010-04-01"}, "CallSid": {callSID}, "CallStatus": {"in-progress"},
		"Called": {to}, "Caller": {from}, "Digits": {digits}, "Direction": {"outbound-api"}, "From": {from}, "To": {to},
		"FinishedOnKey": {""}, "msg": {"Gather End"}}
}
