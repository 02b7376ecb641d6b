// Package notify delivers messages to people: Slack incoming webhooks (Block
// Kit), Microsoft Teams webhooks (Adaptive Cards), Mattermost incoming
// webhooks (attachments with interactive buttons), generic JSON webhooks
// signed with HMAC-SHA256, and email over SMTP with STARTTLS and
// authentication. It also signs the one-click
// acknowledge/resolve links that messages carry.
//
// A Sender makes one delivery attempt per Send call and returns its error;
// retries with backoff belong to the caller's durable job (internal/engine),
// so every attempt survives a restart and is recorded. Sends to one channel
// are rate limited per channel (Limits), with defaults that respect Slack's
// documented limit of one message per second per incoming webhook. A send
// whose turn is more than MaxWait away is not made to wait: Send books its
// turn and returns an *Error whose RetryAfter says when, so the job is
// requeued for then and a queue of Slack pages holds no worker that an
// email or webhook page needs.
//
// Every Message has a DeliveryID, sent as the X-Tandem-Delivery header on
// webhooks and as the Message-ID of emails, so a receiver can drop the
// duplicate that at-least-once delivery may produce after a crash
// (docs/oncall.md).
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Channel types.
const (
	Slack      = "slack"
	Webhook    = "webhook"
	Email      = "email"
	Teams      = "teams"      // a Microsoft Teams Workflows or incoming webhook
	Mattermost = "mattermost" // a Mattermost incoming webhook
)

// Channel is one destination.
type Channel struct {
	// Type is slack, webhook, email, teams or mattermost.
	Type string `json:"type"`
	// URL is the Slack, Teams or Mattermost incoming webhook or the generic
	// webhook URL.
	URL string `json:"url,omitempty"`
	// Secret signs generic webhook bodies (X-Tandem-Signature-256) and the
	// tokens of Mattermost buttons.
	Secret string `json:"-"`
	// ActionURL is where Mattermost buttons post (empty: no buttons);
	// ActionTTL is how long they work.
	ActionURL string        `json:"-"`
	ActionTTL time.Duration `json:"-"`
	// To is the email address; Mention the person to ping: a Slack member
	// ID (U012AB3CD), a Teams sign-in (alice@example.com) or a Mattermost
	// username.
	To      string `json:"to,omitempty"`
	Mention string `json:"mention,omitempty"`
}

// Key identifies the channel for rate limiting and logs without secrets.
func (c Channel) Key() string {
	switch c.Type {
	case Email:
		return "email"
	default:
		return c.Type + ":" + c.URL
	}
}

// Message is what is sent. Fields left empty are left out.
type Message struct {
	// DeliveryID is unique per logical delivery and stays the same across
	// retries of it.
	DeliveryID string `json:"delivery_id"`
	// Event names what happened: incident.triggered, gate.blocked, …
	Event      string            `json:"event"`
	Title      string            `json:"title"`
	Text       string            `json:"text,omitempty"`
	Severity   string            `json:"severity,omitempty"`
	Service    string            `json:"service,omitempty"`
	IncidentID int64             `json:"incident_id,omitempty"`
	Status     string            `json:"status,omitempty"`
	URL        string            `json:"url,omitempty"`
	AckURL     string            `json:"ack_url,omitempty"`
	ResolveURL string            `json:"resolve_url,omitempty"`
	Recipient  string            `json:"recipient,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
	SentAt     time.Time         `json:"sent_at"`
}

// Limit is a rate for one channel type: Every is the interval between
// messages, Burst how many may go at once.
type Limit struct {
	Every time.Duration
	Burst int
}

// DefaultLimits respect the providers' documented limits: Slack allows one
// message per second per incoming webhook (short bursts tolerated).
var DefaultLimits = map[string]Limit{
	Slack:   {Every: time.Second, Burst: 1},
	Webhook: {Every: 10 * time.Millisecond, Burst: 50},
	Email:   {Every: 100 * time.Millisecond, Burst: 10},
	// Teams throttles a webhook beyond a few messages per second.
	Teams:      {Every: time.Second, Burst: 4},
	Mattermost: {Every: 100 * time.Millisecond, Burst: 10},
}

// SMTP configures email delivery.
type SMTP struct {
	Addr     string // host:port
	From     string
	Username string
	Password string
	// StartTLS requires STARTTLS before authenticating (default true in
	// config; tests with a plain in-process server turn it off only for
	// servers on the loopback address).
	StartTLS bool
	// TLSServerName overrides the name checked in the server's certificate.
	TLSServerName string
	// InsecureSkipVerify skips certificate checks (tests only).
	InsecureSkipVerify bool
}

// Sender delivers messages. Build it with NewSender.
type Sender struct {
	// HTTP posts Slack and webhook messages (15s timeout by default).
	HTTP *http.Client
	// MaxWait is the longest Send waits for a channel's rate limit
	// (default 2s); a later turn is booked and reported (Error.HeldFor).
	MaxWait time.Duration

	mu       sync.Mutex
	smtp     SMTP
	limits   map[string]Limit
	limiters map[string]*rate.Limiter
	// booked holds the turn a held-back message was given, by channel key
	// and delivery id: sent again at its turn, it goes out without queueing
	// behind the messages that came after it.
	booked map[string]time.Time
}

// DefaultMaxWait is Sender.MaxWait's default.
const DefaultMaxWait = 2 * time.Second

// NewSender returns a Sender with the given per-type limits (nil or
// missing types: DefaultLimits).
func NewSender(smtp SMTP, limits map[string]Limit) *Sender {
	l := map[string]Limit{}
	for k, v := range DefaultLimits {
		l[k] = v
	}
	for k, v := range limits {
		l[k] = v
	}
	return &Sender{HTTP: &http.Client{Timeout: 15 * time.Second}, smtp: smtp, limits: l, limiters: map[string]*rate.Limiter{}, booked: map[string]time.Time{}}
}

// SetSMTP replaces the email settings (after a config reload).
func (s *Sender) SetSMTP(c SMTP) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.smtp = c
}

// SetLimits replaces the per-type limits (missing types: DefaultLimits);
// channels already seen keep their limiter's state but take the new rate.
func (s *Sender) SetLimits(limits map[string]Limit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := map[string]Limit{}
	for k, v := range DefaultLimits {
		l[k] = v
	}
	for k, v := range limits {
		l[k] = v
	}
	s.limits = l
	s.limiters = map[string]*rate.Limiter{}
}

func (s *Sender) limiter(c Channel) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := c.Key()
	if l, ok := s.limiters[k]; ok {
		return l
	}
	lim, ok := s.limits[c.Type]
	var l *rate.Limiter
	if !ok || lim.Every <= 0 {
		l = rate.NewLimiter(rate.Inf, 1)
	} else {
		l = rate.NewLimiter(rate.Every(lim.Every), max(lim.Burst, 1))
	}
	s.limiters[k] = l
	return l
}

// Error is a delivery failure. Permanent failures (a 4xx other than 408 and
// 429, a rejected recipient) will not succeed on retry. HeldFor set means
// the message was not delivered and has a turn that much later: our rate
// limit held it back (Status 0), or the provider answered 429 with
// Retry-After.
type Error struct {
	Channel   string
	Status    int
	Message   string
	Permanent bool
	HeldFor   time.Duration
}

// RetryAfter is HeldFor: the job engine requeues a held-back send for its
// turn (engine.Deferral).
func (e *Error) RetryAfter() time.Duration { return e.HeldFor }

// Attempted reports whether the provider saw the message (a 429): its
// turn then costs an attempt, so a provider that never accepts cannot keep
// a page queued forever. Our own rate limit's turns cost none.
func (e *Error) Attempted() bool { return e.Status != 0 }

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Channel, e.Status, e.Message)
	}
	return e.Channel + ": " + e.Message
}

// Send makes one attempt to deliver m to c once the channel's rate limit
// allows it: it waits up to MaxWait for its turn; a later turn is booked
// for m.DeliveryID and Send returns an *Error with HeldFor set. A nil error
// means the provider accepted the message.
func (s *Sender) Send(ctx context.Context, c Channel, m Message) error {
	if err := s.turn(ctx, c, m.DeliveryID); err != nil {
		return err
	}
	switch c.Type {
	case Slack:
		body, err := marshal(SlackPayload(m, c.Mention))
		if err != nil {
			return err
		}
		return s.post(ctx, c, body, nil)
	case Webhook:
		body, err := marshal(m)
		if err != nil {
			return err
		}
		h := http.Header{}
		h.Set("X-Tandem-Delivery", m.DeliveryID)
		h.Set("X-Tandem-Event", m.Event)
		if c.Secret != "" {
			ts := strconv.FormatInt(m.SentAt.Unix(), 10)
			h.Set("X-Tandem-Timestamp", ts)
			h.Set("X-Tandem-Signature-256", Sign(c.Secret, ts, body))
		}
		return s.post(ctx, c, body, h)
	case Email:
		return s.sendEmail(ctx, c, m)
	case Teams:
		body, err := marshal(TeamsPayload(m, c.Mention))
		if err != nil {
			return err
		}
		return s.post(ctx, c, body, nil)
	case Mattermost:
		body, err := marshal(MattermostPayload(m, c.Mention, c.ActionURL, []byte(c.Secret), c.ActionTTL))
		if err != nil {
			return err
		}
		return s.post(ctx, c, body, nil)
	}
	return &Error{Channel: c.Type, Message: "unknown channel type", Permanent: true}
}

// turn waits for c's rate limit to allow one message with delivery id id,
// or books a turn more than MaxWait away and reports it.
func (s *Sender) turn(ctx context.Context, c Channel, id string) error {
	lim := s.limiter(c)
	now := time.Now()
	key := c.Key() + " " + id
	s.mu.Lock()
	at, booked := s.booked[key]
	delete(s.booked, key)
	s.mu.Unlock()
	var r *rate.Reservation
	wait := at.Sub(now)
	if !booked {
		r = lim.ReserveN(now, 1)
		wait = r.DelayFrom(now)
	}
	maxWait := s.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	if wait > maxWait {
		if id == "" {
			r.CancelAt(now) // nothing to book it under: queue again next time
		} else {
			s.book(key, now.Add(wait), now)
		}
		return &Error{Channel: c.Type, HeldFor: wait,
			Message: fmt.Sprintf("held back by the %s rate limit: its turn is in %s", c.Type, wait.Round(100*time.Millisecond))}
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		if r != nil {
			r.Cancel()
		}
		return &Error{Channel: c.Type, Message: "rate limit wait: " + ctx.Err().Error()}
	}
}

// book keeps a held-back message's turn, and forgets turns left unused
// for ten minutes (their incident was acknowledged before its page went).
func (s *Sender) book(key string, at, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.booked {
		if now.Sub(t) > 10*time.Minute {
			delete(s.booked, k)
		}
	}
	s.booked[key] = at
}

// marshal encodes v as JSON without HTML escaping (no \u003c for <).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Sign returns the signature of a webhook body: "sha256=" followed by the
// hex HMAC-SHA256, keyed with secret, of timestamp + "." + body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a webhook signature in constant time.
func VerifySignature(secret, timestamp string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(sig))
}

func (s *Sender) post(ctx context.Context, c Channel, body []byte, h http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return &Error{Channel: c.Type, Message: "bad url", Permanent: true}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tandem")
	resp, err := s.HTTP.Do(req)
	if err != nil {
		// The error text may hold the URL, which for Slack is a secret.
		return &Error{Channel: c.Type, Message: redactURL(err.Error(), c.URL)}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	perm := resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429
	e := &Error{Channel: c.Type, Status: resp.StatusCode, Message: strings.TrimSpace(string(msg)), Permanent: perm}
	if resp.StatusCode == http.StatusTooManyRequests {
		// The provider refused it for now and said when to come back (Slack
		// documents Retry-After on its 429s): the retry waits that long.
		e.HeldFor = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), bounded
// to [1s, 10m]; 0 when it is missing or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return min(max(d, time.Second), 10*time.Minute)
}

func redactURL(s, url string) string {
	if url == "" {
		return s
	}
	return strings.ReplaceAll(s, url, "<webhook url>")
}
