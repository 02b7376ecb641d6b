package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Action is what a one-click link does.
type Action struct {
	Verb       string // "ack" or "resolve"
	IncidentID int64
	Person     string // who the link was sent to; recorded as the actor
	Expires    time.Time
}

// ErrBadToken is returned for a token that is malformed, forged or expired.
var ErrBadToken = errors.New("action link is invalid or expired")

// Signer signs and checks one-click action tokens with HMAC-SHA256.
type Signer struct{ Key []byte }

// Token returns the URL-safe token for a: base64url of
// "verb.incident.expiresUnix.person" and of its HMAC-SHA256.
func (s Signer) Token(a Action) string {
	payload := a.Verb + "." + strconv.FormatInt(a.IncidentID, 10) + "." + strconv.FormatInt(a.Expires.Unix(), 10) + "." + a.Person
	mac := hmac.New(sha256.New, s.Key)
	mac.Write([]byte(payload))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac.Sum(nil))
}

// Verify checks tok at now and returns its action, or ErrBadToken.
func (s Signer) Verify(tok string, now time.Time) (Action, error) {
	if len(s.Key) == 0 || len(tok) > 1024 {
		return Action{}, ErrBadToken
	}
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return Action{}, ErrBadToken
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	got, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return Action{}, ErrBadToken
	}
	mac := hmac.New(sha256.New, s.Key)
	mac.Write(payload)
	if !hmac.Equal(mac.Sum(nil), got) {
		return Action{}, ErrBadToken
	}
	parts := strings.SplitN(string(payload), ".", 4)
	if len(parts) != 4 || (parts[0] != "ack" && parts[0] != "resolve") {
		return Action{}, ErrBadToken
	}
	id, err1 := strconv.ParseInt(parts[1], 10, 64)
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return Action{}, ErrBadToken
	}
	a := Action{Verb: parts[0], IncidentID: id, Person: parts[3], Expires: time.Unix(exp, 0).UTC()}
	if !now.Before(a.Expires) {
		return Action{}, ErrBadToken
	}
	return a, nil
}
