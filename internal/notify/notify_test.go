package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem/internal/notify"
)

var sentAt = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

var msg = notify.Message{
	DeliveryID: "incident:7:g0:page:0:0:alice:slack", Event: "incident.triggered",
	Title: "Checkout <5xx> & timeouts", Text: "error rate 12%", Severity: "sev1", Service: "checkout",
	IncidentID: 7, Status: "triggered", URL: "https://tandem.example/incidents/7",
	AckURL: "https://tandem.example/api/v1/actions/A", ResolveURL: "https://tandem.example/api/v1/actions/R",
	Recipient: "alice", SentAt: sentAt,
}

// The Slack request, checked byte for byte: an incoming-webhook POST with
// a Block Kit body whose mrkdwn is escaped, mentioning the member ID in
// both texts.
func TestSlackRequest(t *testing.T) {
	const want = `{"text":"<@U012AB3CD> [SEV1] Checkout &lt;5xx&gt; &amp; timeouts (incident #7)","blocks":[` +
		`{"type":"section","text":{"type":"mrkdwn","text":"<@U012AB3CD> *[SEV1] Checkout &lt;5xx&gt; &amp; timeouts (incident #7)*\nerror rate 12%"}},` +
		`{"type":"section","fields":[{"type":"mrkdwn","text":"*Service*\ncheckout"},{"type":"mrkdwn","text":"*Status*\ntriggered"}]},` +
		`{"type":"actions","elements":[` +
		`{"type":"button","text":{"type":"plain_text","text":"Acknowledge"},"url":"https://tandem.example/api/v1/actions/A","style":"primary"},` +
		`{"type":"button","text":{"type":"plain_text","text":"Resolve"},"url":"https://tandem.example/api/v1/actions/R"},` +
		`{"type":"button","text":{"type":"plain_text","text":"Open"},"url":"https://tandem.example/incidents/7"}]}]}`
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/services/T0/B0/XXX" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		got, _ = io.ReadAll(r.Body)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s := notify.NewSender(notify.SMTP{}, nil)
	if err := s.Send(context.Background(), notify.Channel{Type: notify.Slack, URL: srv.URL + "/services/T0/B0/XXX", Mention: "U012AB3CD"}, msg); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("body\n%s\nwant\n%s", got, want)
	}
}

// Slack notifies a person only for <@MEMBERID>. Every way of writing a
// member ID becomes that mention; anything else stays readable as text but
// says that nobody was notified, instead of passing for a mention.
func TestSlackMention(t *testing.T) {
	const notNotified = " (not notified: not a Slack member ID)"
	for _, c := range []struct {
		mention, want string
		id            bool
	}{
		{"U012AB3CD", "<@U012AB3CD>", true},
		{"U01234ABCDE", "<@U01234ABCDE>", true}, // newer, eleven characters
		{"W0123ABCD", "<@W0123ABCD>", true},     // Enterprise Grid
		{"@U012AB3CD", "<@U012AB3CD>", true},
		{"<@W0123ABCD>", "<@W0123ABCD>", true},
		{"  U012AB3CD\n", "<@U012AB3CD>", true},
		{"@alice", "@alice" + notNotified, false},
		{"alice", "@alice" + notNotified, false},
		{"Ursula", "@Ursula" + notNotified, false}, // starts with U, was <@Ursula>
		{"Walter", "@Walter" + notNotified, false},
		{"u012ab3cd", "@u012ab3cd" + notNotified, false}, // IDs are upper case
		{"U012AB3C", "@U012AB3C" + notNotified, false},   // too short
		{"C012AB3CD", "@C012AB3CD" + notNotified, false}, // a channel, not a person
		{"<@U012AB3CD|alice>", "@&lt;@U012AB3CD|alice&gt;" + notNotified, false},
		{"<b>", "@&lt;b&gt;" + notNotified, false},
	} {
		id, ok := notify.SlackMemberID(c.mention)
		if ok != c.id || (ok && "<@"+id+">" != c.want) {
			t.Errorf("SlackMemberID(%q) = %q, %v", c.mention, id, ok)
		}
		p := notify.SlackPayload(notify.Message{Title: "api down", Severity: "sev2"}, c.mention)
		if got := p.Blocks[0].Text.Text; got != c.want+" *[SEV2] api down*" {
			t.Errorf("mention %q: section text %q, want %q", c.mention, got, c.want+" *[SEV2] api down*")
		}
		if p.Text != c.want+" [SEV2] api down" {
			t.Errorf("mention %q: text %q", c.mention, p.Text)
		}
	}
	// No mention, no prefix.
	for _, m := range []string{"", "  "} {
		if p := notify.SlackPayload(notify.Message{Title: "api down"}, m); p.Text != "api down" || p.Blocks[0].Text.Text != "*api down*" {
			t.Errorf("mention %q: %+v", m, p)
		}
	}
}

// FuzzSlackMemberID: an accepted ID has the member ID shape, is part of
// the input and is accepted again as itself; and whatever the mention, the
// only markup it puts into the message is <@ID> for an accepted ID.
func FuzzSlackMemberID(f *testing.F) {
	for _, s := range []string{"U012AB3CD", "@W0123ABCD", "<@U01234ABCDE>", "<@>", "@alice", "Ursula", "<@U012AB3CD|alice>", "<!channel>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := notify.SlackMemberID(s)
		if ok {
			if len(id) < 9 || (id[0] != 'U' && id[0] != 'W') || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" || !strings.Contains(s, id) {
				t.Fatalf("SlackMemberID(%q) = %q", s, id)
			}
			if again, ok := notify.SlackMemberID(id); !ok || again != id {
				t.Fatalf("SlackMemberID(%q) = %q, %v", id, again, ok)
			}
		} else if id != "" {
			t.Fatalf("SlackMemberID(%q) = %q, false", s, id)
		}
		text := notify.SlackPayload(notify.Message{Title: "t"}, s).Blocks[0].Text.Text
		if ok {
			text = strings.Replace(text, "<@"+id+">", "", 1)
		}
		if strings.ContainsAny(text, "<>") {
			t.Fatalf("mention %q rendered as %q", s, text)
		}
	})
}

// The generic webhook: the message as JSON, its delivery id and event in
// headers, and X-Tandem-Signature-256 = sha256=HMAC(secret, timestamp "." body).
func TestWebhookRequest(t *testing.T) {
	var body []byte
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		hdr = r.Header.Clone()
	}))
	defer srv.Close()
	s := notify.NewSender(notify.SMTP{}, nil)
	if err := s.Send(context.Background(), notify.Channel{Type: notify.Webhook, URL: srv.URL, Secret: "whsec"}, msg); err != nil {
		t.Fatal(err)
	}
	var back notify.Message
	if err := json.Unmarshal(body, &back); err != nil || back.DeliveryID != msg.DeliveryID || back.AckURL != msg.AckURL || !back.SentAt.Equal(sentAt) {
		t.Fatalf("body %s (%v)", body, err)
	}
	ts := hdr.Get("X-Tandem-Timestamp")
	if ts != "1772438400" { // 2026-03-02T08:00:00Z
		t.Fatalf("timestamp %q", ts)
	}
	if hdr.Get("X-Tandem-Delivery") != msg.DeliveryID || hdr.Get("X-Tandem-Event") != "incident.triggered" {
		t.Fatalf("headers %v", hdr)
	}
	if !notify.VerifySignature("whsec", ts, body, hdr.Get("X-Tandem-Signature-256")) {
		t.Fatalf("signature %q does not verify", hdr.Get("X-Tandem-Signature-256"))
	}
	if notify.VerifySignature("other", ts, body, hdr.Get("X-Tandem-Signature-256")) {
		t.Fatal("signature verifies with the wrong secret")
	}
}

// Known-answer: HMAC-SHA256("whsec", "1.{}") computed independently with
// `printf '1.{}' | openssl dgst -sha256 -hmac whsec`.
func TestSignKnownAnswer(t *testing.T) {
	got := notify.Sign("whsec", "1", []byte("{}"))
	const want = "sha256=6ab13b5991724d5a0c7f02d7989ba3425b580e39d5b9a0a6258a7f5d0419173a"
	if got != want {
		t.Fatalf("Sign = %q", got)
	}
}

func TestHTTPErrors(t *testing.T) {
	for _, c := range []struct {
		status     int
		retryAfter string
		permanent  bool
		held       time.Duration // the provider's Retry-After, bounded
	}{
		{500, "", false, 0}, {429, "", false, 0}, {429, "30", false, 30 * time.Second},
		{429, "0", false, time.Second}, {429, "86400", false, 10 * time.Minute}, {429, "soon", false, 0},
		{408, "", false, 0}, {404, "", true, 0}, {400, "", true, 0},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.retryAfter != "" {
				w.Header().Set("Retry-After", c.retryAfter)
			}
			w.WriteHeader(c.status)
			io.WriteString(w, "no_service")
		}))
		err := notify.NewSender(notify.SMTP{}, nil).Send(context.Background(), notify.Channel{Type: notify.Webhook, URL: srv.URL}, msg)
		srv.Close()
		var ne *notify.Error
		if !errors.As(err, &ne) || ne.Status != c.status || ne.Permanent != c.permanent || ne.HeldFor != c.held {
			t.Errorf("HTTP %d Retry-After %q: %+v, want permanent=%v held %s", c.status, c.retryAfter, err, c.permanent, c.held)
		}
	}
	// Retry-After as an HTTP date.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	err := notify.NewSender(notify.SMTP{}, nil).Send(context.Background(), notify.Channel{Type: notify.Webhook, URL: srv.URL}, msg)
	srv.Close()
	if ne := (*notify.Error)(nil); !errors.As(err, &ne) || ne.HeldFor < 85*time.Second || ne.HeldFor > 91*time.Second {
		t.Errorf("Retry-After as a date: %v", err)
	}
	// An unreachable Slack URL must not leak into the error text.
	err = notify.NewSender(notify.SMTP{}, nil).Send(context.Background(), notify.Channel{Type: notify.Slack, URL: "http://127.0.0.1:1/services/SECRET"}, msg)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error %v", err)
	}
}

// The Slack default rate limit is one message per second per webhook: three
// sends take at least two seconds.
func TestSlackRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes two seconds")
	}
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n++ }))
	defer srv.Close()
	s := notify.NewSender(notify.SMTP{}, nil)
	start := time.Now()
	for i := 0; i < 3; i++ {
		if err := s.Send(context.Background(), notify.Channel{Type: notify.Slack, URL: srv.URL}, msg); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 1900*time.Millisecond || n != 3 {
		t.Fatalf("3 Slack messages in %s (%d sent), want ≥2s", d, n)
	}
}

// A send whose turn under the rate limit is more than MaxWait away sends
// nothing and says when its turn is; sent again then, it goes out without
// queueing behind the messages held back after it, and they keep their
// turns in order.
func TestRateLimitHoldsBack(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Tandem-Delivery"))
		mu.Unlock()
	}))
	defer srv.Close()
	const every = 300 * time.Millisecond
	s := notify.NewSender(notify.SMTP{}, map[string]notify.Limit{notify.Webhook: {Every: every, Burst: 1}})
	s.MaxWait = 50 * time.Millisecond
	ch := notify.Channel{Type: notify.Webhook, URL: srv.URL}
	send := func(id string) (time.Duration, error) {
		m := msg
		m.DeliveryID = id
		err := s.Send(context.Background(), ch, m)
		var ne *notify.Error
		if errors.As(err, &ne) && ne.HeldFor > 0 {
			if ne.RetryAfter() != ne.HeldFor || ne.Permanent {
				t.Fatalf("held back: %+v", ne)
			}
			return ne.HeldFor, nil
		}
		return 0, err
	}
	start := time.Now()
	if held, err := send("a"); err != nil || held != 0 {
		t.Fatalf("a: held %s, %v", held, err)
	}
	heldB, err := send("b")
	if err != nil || heldB < every-100*time.Millisecond || heldB > every {
		t.Fatalf("b: held %s, %v; want about %s", heldB, err, every)
	}
	heldC, err := send("c")
	if err != nil || heldC < 2*every-100*time.Millisecond || heldC > 2*every {
		t.Fatalf("c: held %s, %v; want about %s", heldC, err, 2*every)
	}
	// b sent again before its turn keeps its turn (not behind c).
	if held, err := send("b"); err != nil || held > heldB {
		t.Fatalf("b again: held %s, %v; want at most %s", held, err, heldB)
	}
	time.Sleep(time.Until(start.Add(every)))
	if held, err := send("b"); err != nil || held != 0 {
		t.Fatalf("b at its turn: held %s, %v", held, err)
	}
	// d, new, queues behind c.
	if held, err := send("d"); err != nil || held < every {
		t.Fatalf("d: held %s, %v; want behind c", held, err)
	}
	time.Sleep(time.Until(start.Add(2 * every)))
	if held, err := send("c"); err != nil || held != 0 {
		t.Fatalf("c at its turn: held %s, %v", held, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("delivered %v, want a, b, c", got)
	}
}

// smtpBackend is an in-process SMTP server that requires STARTTLS before
// AUTH PLAIN and keeps what it receives.
type smtpBackend struct {
	mu   sync.Mutex
	user string
	from string
	to   []string
	data string
}

func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &smtpSession{b: b, tls: isTLS}, nil
}

type smtpSession struct {
	b    *smtpBackend
	tls  bool
	auth bool
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "tandem" || password != "hunter2" {
			return errors.New("bad credentials")
		}
		s.auth = true
		s.b.mu.Lock()
		s.b.user = username
		s.b.mu.Unlock()
		return nil
	}), nil
}
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.auth {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	s.b.mu.Lock()
	s.b.from = from
	s.b.mu.Unlock()
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !strings.HasSuffix(to, "@example.com") {
		return &smtp.SMTPError{Code: 550, Message: "no such user"}
	}
	s.b.mu.Lock()
	s.b.to = append(s.b.to, to)
	s.b.mu.Unlock()
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.data = string(b)
	s.b.mu.Unlock()
	return err
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp.test"}, DNSNames: []string{"smtp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func startSMTP(t *testing.T) (*smtpBackend, string) {
	be := &smtpBackend{}
	srv := smtp.NewServer(be)
	srv.Domain = "smtp.test"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	srv.AllowInsecureAuth = false // AUTH only after STARTTLS
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return be, ln.Addr().String()
}

// Email goes over STARTTLS with AUTH PLAIN to a real (in-process) SMTP
// server; a rejected recipient is a permanent error.
func TestEmail(t *testing.T) {
	be, addr := startSMTP(t)
	s := notify.NewSender(notify.SMTP{Addr: addr, From: "tandem@example.com", Username: "tandem", Password: "hunter2",
		StartTLS: true, TLSServerName: "smtp.test", InsecureSkipVerify: true}, nil)
	if err := s.Send(context.Background(), notify.Channel{Type: notify.Email, To: "alice@example.com"}, msg); err != nil {
		t.Fatal(err)
	}
	be.mu.Lock()
	data, from, to, user := be.data, be.from, be.to, be.user
	be.mu.Unlock()
	if user != "tandem" || from != "tandem@example.com" || len(to) != 1 || to[0] != "alice@example.com" {
		t.Fatalf("envelope user=%q from=%q to=%v", user, from, to)
	}
	for _, want := range []string{"Subject: [SEV1] Checkout <5xx> & timeouts\r\n", "Message-Id: <incident:7:g0:page:0:0:alice:slack@tandem>\r\n",
		"Acknowledge: https://tandem.example/api/v1/actions/A\r\n", "Date: Mon, 02 Mar 2026 08:00:00 +0000\r\n"} {
		if !strings.Contains(data, want) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}
	err := s.Send(context.Background(), notify.Channel{Type: notify.Email, To: "mallory@evil.test"}, msg)
	var ne *notify.Error
	if !errors.As(err, &ne) || !ne.Permanent || ne.Status != 550 {
		t.Fatalf("rejected recipient: %v", err)
	}
	// Wrong password: the server refuses; the error says so.
	bad := notify.NewSender(notify.SMTP{Addr: addr, From: "tandem@example.com", Username: "tandem", Password: "nope",
		StartTLS: true, TLSServerName: "smtp.test", InsecureSkipVerify: true}, nil)
	if err := bad.Send(context.Background(), notify.Channel{Type: notify.Email, To: "alice@example.com"}, msg); err == nil || strings.Contains(err.Error(), "nope") {
		t.Fatalf("bad password: %v", err)
	}
}

// Header injection through a title is impossible: line breaks are removed.
func TestEmailHeaderInjection(t *testing.T) {
	m := msg
	m.Title = "x\r\nBcc: victim@example.com"
	b := string(notify.EmailBody("a@example.com", "b@example.com", m))
	head := b[:strings.Index(b, "\r\n\r\n")]
	if strings.Contains(head, "\r\nBcc:") {
		t.Fatalf("header injected:\n%s", head)
	}
}

func TestActionTokens(t *testing.T) {
	sg := notify.Signer{Key: []byte("0123456789abcdef")}
	exp := sentAt.Add(time.Hour)
	tok := sg.Token(notify.Action{Verb: "ack", IncidentID: 7, Person: "jane.doe", Expires: exp})
	a, err := sg.Verify(tok, sentAt)
	if err != nil || a.Verb != "ack" || a.IncidentID != 7 || a.Person != "jane.doe" || !a.Expires.Equal(exp) {
		t.Fatalf("verify: %+v %v", a, err)
	}
	if _, err := sg.Verify(tok, exp); err == nil {
		t.Error("expired token accepted")
	}
	if _, err := (notify.Signer{Key: []byte("another key 1234")}).Verify(tok, sentAt); err == nil {
		t.Error("token accepted under another key")
	}
	forged := strings.Replace(tok, tok[:4], "YWNr", 1)
	if forged != tok {
		if _, err := sg.Verify(forged, sentAt); err == nil {
			t.Error("forged token accepted")
		}
	}
}

func FuzzVerifyToken(f *testing.F) {
	sg := notify.Signer{Key: []byte("0123456789abcdef")}
	f.Add(sg.Token(notify.Action{Verb: "resolve", IncidentID: 1, Person: "a", Expires: sentAt.Add(time.Hour)}))
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, tok string) {
		if a, err := sg.Verify(tok, sentAt); err == nil && (a.IncidentID <= 0 || (a.Verb != "ack" && a.Verb != "resolve")) {
			t.Fatalf("accepted %+v", a)
		}
	})
}
