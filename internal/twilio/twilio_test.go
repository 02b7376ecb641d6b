package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/twilio"
	"github.com/tandemhq/tandem/internal/twilio/twiliotest"
)

// TestSignatureKnownVector checks Signature against the vector Twilio's
// own request validators are tested with (auth token 12345).
func TestSignatureKnownVector(t *testing.T) {
	params := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"}}
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	want := "vOEb5UThFn24KEfnOFLQY2AE5FY="
	if got := twilio.Signature("12345", u, params); got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
	if err := twilio.Verify("12345", u, params, want); err != nil {
		t.Fatal(err)
	}
	if err := twilio.Verify("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", params, want); err != nil {
		t.Fatalf("with the default port: %v", err)
	}
	if got := twilio.Signature("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", params); got != "n2xBNyzSW7rfYStDtOFiFMv7qNo=" {
		t.Fatalf("http Signature = %s", got)
	}
}

func TestVerify(t *testing.T) {
	params := twiliotest.SMS("AC1", "+15551230001", "+15550009999", "ack 12")
	u := "https://tandem.example/api/v1/webhooks/twilio/sms"
	sig := twilio.Signature("tok", u, params)
	if err := twilio.Verify("tok", u, params, sig); err != nil {
		t.Fatal(err)
	}
	if err := twilio.Verify("tok", "https://tandem.example:443/api/v1/webhooks/twilio/sms", params, sig); err != nil {
		t.Fatalf("the same URL with its default port: %v", err)
	}
	for name, c := range map[string]struct {
		tok, url, sig string
		p             url.Values
	}{
		"other token": {"other", u, sig, params},
		"other url":   {"tok", "http://10.0.0.5:8080/api/v1/webhooks/twilio/sms", sig, params},
		"other body":  {"tok", u, sig, twiliotest.SMS("AC1", "+15551230001", "+15550009999", "resolve 12")},
		"extra field": {"tok", u, sig, func() url.Values {
			p := twiliotest.SMS("AC1", "+15551230001", "+15550009999", "ack 12")
			p.Set("X", "1")
			return p
		}()},
		"no signature":  {"tok", u, "", params},
		"no auth token": {"", u, sig, params},
	} {
		if err := twilio.Verify(c.tok, c.url, c.p, c.sig); !errors.Is(err, twilio.ErrBadSignature) {
			t.Errorf("%s: Verify = %v", name, err)
		}
	}
}

func TestClientAgainstFake(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	fake := twiliotest.New(t, "AC0123", "tok", clk)
	c := &twilio.Client{BaseURL: fake.URL(), AccountSID: "AC0123", AuthToken: "tok"}
	sid, err := c.SendSMS(context.Background(), "+15550009999", "+15551230001", "[SEV1] checkout down (#12). Reply ack 12")
	if err != nil || !strings.HasPrefix(sid, "SM") {
		t.Fatalf("SendSMS = %q, %v", sid, err)
	}
	tw := twilio.GatherTwiML("Incident 12 <checkout> & more. Press 1 to acknowledge.", "https://tandem.example/api/v1/webhooks/twilio/voice?incident=12&x=1")
	if _, err := c.Call(context.Background(), "+15550009999", "+15551230001", tw); err != nil {
		t.Fatal(err)
	}
	got := fake.Sent()
	if len(got) != 2 || got[1].Kind != "call" || !strings.Contains(got[1].TwiML, `action="https://tandem.example/api/v1/webhooks/twilio/voice?incident=12&amp;x=1"`) ||
		!strings.Contains(got[1].TwiML, "&lt;checkout&gt; &amp; more") {
		t.Fatalf("sent = %+v", got)
	}
	bad := &twilio.Client{BaseURL: fake.URL(), AccountSID: "AC0123", AuthToken: "wrong"}
	var te *twilio.Error
	if _, err := bad.SendSMS(context.Background(), "+15550009999", "+15551230001", "x"); !errors.As(err, &te) || te.Status != 401 || !te.Permanent || te.Code != 20003 {
		t.Fatalf("bad token = %v", err)
	}
}

func TestErrorsSayWhetherToRetry(t *testing.T) {
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"code":20429,"message":"Too Many Requests"}`))
	}))
	defer srv.Close()
	c := &twilio.Client{BaseURL: srv.URL, AccountSID: "AC1", AuthToken: "secret-auth-token"}
	for _, tc := range []struct {
		status    int
		permanent bool
		wait      time.Duration
	}{{429, false, 5 * time.Second}, {400, true, 0}, {500, false, 0}, {503, false, 0}} {
		status = tc.status
		_, err := c.SendSMS(context.Background(), "+15550009999", "+15551230001", "x")
		var te *twilio.Error
		if !errors.As(err, &te) || te.Permanent != tc.permanent || te.RetryAfter() != tc.wait {
			t.Errorf("HTTP %d: %#v", tc.status, err)
		}
	}
	srv.Close()
	_, err := c.SendSMS(context.Background(), "+15550009999", "+15551230001", "x")
	if err == nil || strings.Contains(err.Error(), "secret-auth-token") {
		t.Fatalf("transport failure = %v", err)
	}
}

func TestParseInbound(t *testing.T) {
	in, err := twilio.ParseInbound([]byte(twiliotest.SMS("AC1", "+15551230001", "+15550009999", "ack 12").Encode()))
	if err != nil || in.From != "+15551230001" || in.Body != "ack 12" {
		t.Fatalf("sms = %+v, %v", in, err)
	}
	in, err = twilio.ParseInbound([]byte(twiliotest.Keypress("AC1", "+15550009999", "+15551230001", "CA1", "1").Encode()))
	if err != nil || in.Digits != "1" || in.To != "+15551230001" {
		t.Fatalf("keypress = %+v, %v", in, err)
	}
	for _, bad := range []string{"", "From=%2B1", "AccountSid=AC1", "%zz"} {
		if _, err := twilio.ParseInbound([]byte(bad)); err == nil {
			t.Errorf("ParseInbound(%q) accepted", bad)
		}
	}
	for n, ok := range map[string]bool{"+15551230001": true, "+442071838750": true, "15551230001": false, "+0123456789": false, "+1 555 123": false, "": false} {
		if twilio.ValidNumber(n) != ok {
			t.Errorf("ValidNumber(%q) != %v", n, ok)
		}
	}
}

// FuzzParseInbound: any body either fails or carries an account and a sender,
// and its signature check never panics.
func FuzzParseInbound(f *testing.F) {
	f.Add([]byte(twiliotest.SMS("AC1", "+15551230001", "+15550009999", "ack 12").Encode()))
	f.Add([]byte(twiliotest.Keypress("AC1", "+15550009999", "+15551230001", "CA1", "1").Encode()))
	f.Add([]byte("AccountSid=AC1&From=x&Body=%00%FF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := twilio.ParseInbound(b)
		if err != nil {
			return
		}
		if in.AccountSID == "" || in.From == "" {
			t.Fatalf("accepted %+v", in)
		}
		if twilio.Verify("tok", "https://tandem.example/x", in.Params, "bogus") == nil {
			t.Fatal("a bogus signature verified")
		}
	})
}
