// Package twilio is the part of Twilio's REST API tandem uses to reach a
// person by phone: sending an SMS (Messages.json) and placing a call whose
// instructions are inline TwiML (Calls.json), both authenticated with HTTP
// Basic auth as the account SID and auth token. It also checks the
// X-Twilio-Signature of the webhooks Twilio sends back (SMS replies,
// keypresses in a call), writes the TwiML those webhooks answer with, and
// parses their forms.
//
// Each call makes one attempt; Error says whether a retry can succeed and,
// for a 429, when.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the REST API's root.
const DefaultBaseURL = "https://api.twilio.com"

// Client calls Twilio's REST API for one account.
type Client struct {
	// BaseURL is the API root (default DefaultBaseURL).
	BaseURL string
	// AccountSID (AC…) and AuthToken authenticate every call (HTTP Basic).
	AccountSID, AuthToken string
	// HTTP makes the calls (default: a client with a 15 s timeout).
	HTTP *http.Client
}

// Error is a failed API call. Code is Twilio's error code (21211: invalid
// To number) when the answer carried one.
type Error struct {
	Op        string
	Status    int
	Code      int
	Message   string
	Permanent bool
	Wait      time.Duration
}

func (e *Error) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("twilio %s: HTTP %d: error %d: %s", e.Op, e.Status, e.Code, e.Message)
	case e.Status != 0:
		return fmt.Sprintf("twilio %s: HTTP %d: %s", e.Op, e.Status, e.Message)
	}
	return fmt.Sprintf("twilio %s: %s", e.Op, e.Message)
}

// RetryAfter is how long Twilio asked to wait (a 429's Retry-After).
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// Attempted is true when Twilio answered: a 429's retry spends an attempt.
func (e *Error) Attempted() bool { return e.Status != 0 }

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// SendSMS sends body from the Twilio number from to the number to and
// returns the message SID.
func (c *Client) SendSMS(ctx context.Context, from, to, body string) (string, error) {
	return c.create(ctx, "Messages.json", url.Values{"From": {from}, "To": {to}, "Body": {body}})
}

// Call places a call from from to to that runs the TwiML document twiml,
// and returns the call SID.
func (c *Client) Call(ctx context.Context, from, to, twiml string) (string, error) {
	return c.create(ctx, "Calls.json", url.Values{"From": {from}, "To": {to}, "Twiml": {twiml}})
}

func (c *Client) create(ctx context.Context, resource string, form url.Values) (string, error) {
	op := strings.TrimSuffix(resource, ".json")
	if c.AccountSID == "" || c.AuthToken == "" {
		return "", &Error{Op: op, Message: "no account SID or auth token", Permanent: true}
	}
	u := c.base() + "/2010-04-01/Accounts/" + url.PathEscape(c.AccountSID) + "/" + resource
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &Error{Op: op, Message: "bad base URL", Permanent: true}
	}
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tandem")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", &Error{Op: op, Message: strings.ReplaceAll(err.Error(), c.AuthToken, "<token>")}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ans struct {
		SID     string `json:"sid"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &ans)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if ans.SID == "" {
			return "", &Error{Op: op, Status: resp.StatusCode, Message: "answer has no sid"}
		}
		return ans.SID, nil
	}
	e := &Error{Op: op, Status: resp.StatusCode, Code: ans.Code, Message: ans.Message}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Wait = time.Minute
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil {
			e.Wait = min(max(time.Duration(s)*time.Second, time.Second), 10*time.Minute)
		}
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout:
		e.Permanent = true
	}
	return "", e
}

// Signature is Twilio's X-Twilio-Signature of a webhook request: the
// base64 HMAC-SHA1, keyed with the auth token, of the full URL Twilio
// requested followed by every POST parameter's name and value, sorted by
// name (a repeated name's values sorted too), with no separators.
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is returned by Verify for a missing or wrong signature.
var ErrBadSignature = errors.New("bad or missing X-Twilio-Signature")

// Verify checks sig against the request Twilio made to fullURL with the
// POST parameters params, in constant time. fullURL must be the URL as
// Twilio requested it (the public one, not what a proxy forwarded);
// Twilio's own libraries accept it written with or without the default
// port, and so does Verify.
func Verify(authToken, fullURL string, params url.Values, sig string) error {
	if authToken == "" || sig == "" {
		return ErrBadSignature
	}
	for _, u := range []string{fullURL, withPort(fullURL), withoutPort(fullURL)} {
		if hmac.Equal([]byte(Signature(authToken, u, params)), []byte(sig)) {
			return nil
		}
	}
	return ErrBadSignature
}

func withPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Port() != "" {
		return raw
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	u.Host += ":" + port
	return u.String()
}

func withoutPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Port() == "" {
		return raw
	}
	if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
		u.Host = u.Hostname()
	}
	return u.String()
}

// Inbound is a webhook request from Twilio: an SMS that arrived or the
// keys pressed in a call.
type Inbound struct {
	AccountSID string
	From, To   string
	Body       string // SMS text
	Digits     string // keys pressed (Gather)
	MessageSID string
	CallSID    string
	// Params are all the form's fields, for the signature.
	Params url.Values
}

// ParseInbound reads a webhook's form body. It needs AccountSid and From.
func ParseInbound(body []byte) (Inbound, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return Inbound{}, fmt.Errorf("twilio webhook: body is not a form: %w", err)
	}
	in := Inbound{AccountSID: f.Get("AccountSid"), From: f.Get("From"), To: f.Get("To"), Body: f.Get("Body"),
		Digits: f.Get("Digits"), MessageSID: f.Get("MessageSid"), CallSID: f.Get("CallSid"), Params: f}
	if in.AccountSID == "" || in.From == "" {
		return in, errors.New("twilio webhook: no AccountSid or From")
	}
	return in, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidNumber reports whether s is a phone number in E.164 form
// (+15551234567), the form Twilio sends and expects.
func ValidNumber(s string) bool { return e164.MatchString(s) }

// xmlText escapes s for a TwiML element's text.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// GatherTwiML is a call's instructions: say text (repeated twice), wait
// for one key and post it to action; say goodbye if none comes.
func GatherTwiML(text, action string) string {
	t := xmlText(text)
	return `<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="dtmf" numDigits="1" timeout="10" method="POST" action="` +
		xmlText(action) + `"><Say>` + t + `</Say><Pause length="1"/><Say>` + t + `</Say></Gather><Say>No key was pressed. Goodbye.</Say></Response>`
}

// SayTwiML answers a keypress: say text and hang up.
func SayTwiML(text string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Response><Say>` + xmlText(text) + `</Say><Hangup/></Response>`
}

// MessageTwiML answers an incoming SMS with a reply; empty text replies
// nothing.
func MessageTwiML(text string) string {
	if text == "" {
		return `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`
	}
	return `<?xml version="1.0" encoding="UTF-8"?><Response><Message>` + xmlText(text) + `</Message></Response>`
}
