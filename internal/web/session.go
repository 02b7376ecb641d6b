package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/db"
)

// Browser sign-in. A token (the same API tokens the CLI uses) is entered once
// on /login and checked with internal/auth. The server then keeps a session
// row (web_sessions) and gives the browser a random session secret in an
// HttpOnly, SameSite=Strict cookie, Secure when the request came over TLS.
// Only the secret's hash is stored. The session acts with its token's scope
// and ends at logout, after SessionTTL, or as soon as the token is revoked
// (every lookup joins api_tokens). Sessions live in the database, not in a
// signed cookie, so logout and revocation take effect at once on every
// replica.
//
// Every form that changes something carries a synchronizer CSRF token kept in
// the session row, and every POST must come from this origin (Origin, or
// Referer when a browser sends no Origin). The login form itself, which has
// no session yet, uses a double-submit cookie.

const (
	// SessionTTL is how long a browser session lasts.
	SessionTTL = 7 * 24 * time.Hour

	sessionCookie = "tandem_session"
	loginCookie   = "tandem_login"
	csrfField     = "csrf"
)

// viewer is who is looking at a page.
type viewer struct {
	SignedIn bool
	Name     string // the token's name
	Scope    auth.Scope
	// ViaHeader is set when the request carried a bearer token instead of
	// a session cookie; such requests need no CSRF token.
	ViaHeader bool
	csrf      string
}

// CanWrite reports whether the viewer may act (ack, resolve, close, edit).
func (v viewer) CanWrite() bool { return v.SignedIn && v.Scope.Allows(auth.ScopeWrite) }

// sessions stores browser sessions.
type sessions struct {
	db *db.DB
}

func randomSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// create opens a session for the token and returns the cookie secret. It
// also removes expired sessions.
func (s sessions) create(ctx context.Context, tok auth.Token, now time.Time) (string, error) {
	secret, err := randomSecret()
	if err != nil {
		return "", err
	}
	csrf, err := randomSecret()
	if err != nil {
		return "", err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE expires_at < ?", db.Millis(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO web_sessions (hash, token_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			hashSecret(secret), tok.ID, csrf, db.Millis(now), db.Millis(now.Add(SessionTTL)))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return secret, nil
}

// lookup returns the viewer of a live session, or false when the secret is
// unknown, expired, or its token revoked.
func (s sessions) lookup(ctx context.Context, secret string, now time.Time) (viewer, bool, error) {
	if secret == "" || len(secret) > 100 {
		return viewer{}, false, nil
	}
	var v viewer
	var scope string
	err := s.db.QueryRow(ctx, `SELECT t.name, t.scope, s.csrf FROM web_sessions s JOIN api_tokens t ON t.id = s.token_id
		WHERE s.hash = ? AND s.expires_at > ? AND t.revoked_at = 0`, hashSecret(secret), db.Millis(now)).Scan(&v.Name, &scope, &v.csrf)
	if errors.Is(err, sql.ErrNoRows) {
		return viewer{}, false, nil
	}
	if err != nil {
		return viewer{}, false, fmt.Errorf("look up session: %w", err)
	}
	v.SignedIn, v.Scope = true, auth.Scope(scope)
	return v, true, nil
}

// remove ends the session with the secret; an unknown secret is fine.
func (s sessions) remove(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	if _, err := s.db.Exec(ctx, "DELETE FROM web_sessions WHERE hash = ?", hashSecret(secret)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// secureRequest reports whether the browser reached us over TLS (directly
// or through a proxy that says so).
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode,
	})
}

// sameOrigin reports whether a state-changing request comes from a page of
// this server: its Origin (or, lacking that, its Referer) must name this
// host. A request with neither is refused: every browser that can show
// the dashboard sends Origin on a form POST.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" || src == "null" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return false
	}
	u, err := url.Parse(src)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// checkCSRF verifies a POST from a signed-in browser: same origin and the
// session's token in the form.
func checkCSRF(r *http.Request, v viewer) bool {
	if v.ViaHeader {
		return true
	}
	if !sameOrigin(r) || v.csrf == "" {
		return false
	}
	got := r.PostFormValue(csrfField)
	return subtle.ConstantTimeCompare([]byte(got), []byte(v.csrf)) == 1
}

// safeNext returns a local path to go to after login: only paths on this
// site ("/incidents?x=1"), never "//evil" or "https://…".
func safeNext(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return u.RequestURI()
}
