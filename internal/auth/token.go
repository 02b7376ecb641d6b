// Package auth issues and checks API tokens. A token is shown once, when it is
// created; the database keeps only its SHA-256 hash and its first ten
// characters (the prefix "tdm_" and six random ones), which listings show so
// people can tell tokens apart. A presented token is looked up by that
// public prefix, and its hash is compared with each candidate's in constant
// time, so the timing of the check says nothing about the secret part.
//
// When a token is used, its last_used_at is written at most once a minute
// (lastUsedEvery), not on every request.
package auth

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
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
)

// lastUsedEvery is how stale a token's last_used_at may get: a use writes it
// only when the stored value is at least this old.
const lastUsedEvery = time.Minute

// Scope is what a token may do. Each scope includes the ones below it:
// admin ⊃ write ⊃ read.
type Scope string

// The scopes, weakest first.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

func (s Scope) rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a token with scope s may do what need requires.
func (s Scope) Allows(need Scope) bool { return s.rank() >= need.rank() && need.rank() > 0 }

// ParseScope checks a scope name.
func ParseScope(s string) (Scope, error) {
	sc := Scope(s)
	if sc.rank() == 0 {
		return "", tandem.FieldErrorf("scope", "unknown scope %q: want read, write or admin", s)
	}
	return sc, nil
}

// tokenPrefix marks tandem tokens so secret scanners can find leaked ones.
const tokenPrefix = "tdm_"

// publicLen is the length of the stored, listed prefix of a token.
const publicLen = len(tokenPrefix) + 6

// Token is a stored token, without its secret.
type Token struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Scope      Scope     `json:"scope"`
	Prefix     string    `json:"prefix"` // the first characters, to recognise it
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// Store keeps tokens in the database. Use it through a pointer.
type Store struct {
	DB *db.DB
	// Clock stamps last use; nil is the system clock.
	Clock clock.Clock

	mu sync.Mutex
	// touched is when this process last wrote each token's last_used_at,
	// so that concurrent requests do not all write it.
	touched map[int64]time.Time
}

func (s *Store) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// MaxNameLen is the longest token name, in characters.
const MaxNameLen = 64

// CheckName accepts a token name of 1 to MaxNameLen printable characters
// (letters, digits, punctuation and spaces; no control characters, so a
// name cannot carry a NUL or a terminal escape into a listing or a log).
func CheckName(name string) error {
	if name == "" {
		return tandem.FieldErrorf("name", "token name is required")
	}
	if !utf8.ValidString(name) {
		return tandem.FieldErrorf("name", "token name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLen {
		return tandem.FieldErrorf("name", "token name has %d characters; at most %d", n, MaxNameLen)
	}
	for i, r := range name {
		if !unicode.IsPrint(r) {
			return tandem.FieldErrorf("name", "token name has the unprintable character %U at byte %d; use letters, digits, punctuation and spaces", r, i)
		}
	}
	return nil
}

// Create makes a token and returns it with its secret, which is not stored
// and cannot be shown again. A name already in use is a conflict.
func (s *Store) Create(ctx context.Context, name string, scope Scope, now time.Time) (Token, string, error) {
	name = strings.TrimSpace(name)
	if err := CheckName(name); err != nil {
		return Token{}, "", err
	}
	if scope.rank() == 0 {
		return Token{}, "", tandem.FieldErrorf("scope", "unknown scope %q: want read, write or admin", scope)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("token randomness: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := Token{Name: name, Scope: scope, Prefix: secret[:publicLen], CreatedAt: now.UTC().Truncate(time.Millisecond)}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx,
			"INSERT INTO api_tokens (name, scope, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			t.Name, string(t.Scope), hash(secret), t.Prefix, db.Millis(t.CreatedAt)).Scan(&t.ID)
	})
	if db.IsUniqueViolation(err) {
		return Token{}, "", &tandem.Error{Code: tandem.EConflict, Field: "name", Message: fmt.Sprintf("a token named %q exists", name)}
	}
	if err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// List returns every token, revoked ones included, oldest first.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, name, scope, prefix, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created, used, revoked int64
		if err := rows.Scan(&t.ID, &t.Name, &t.Scope, &t.Prefix, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = db.Time(created), db.Time(used), db.Time(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Revoke revokes the token with the given name. Revoking twice is fine;
// an unknown name is not_found.
func (s *Store) Revoke(ctx context.Context, name string, now time.Time) error {
	res, err := s.DB.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at = 0", db.Millis(now), name)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := s.DB.QueryRow(ctx, "SELECT 1 FROM api_tokens WHERE name = ?", name).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return tandem.Errorf(tandem.ENotFound, "no token named %q", name)
		}
	}
	return nil
}

// Verify returns the live token whose secret is presented. A wrong, unknown
// or revoked secret is unauthorized; the message never says which. A
// successful check stamps the token's last use (see lastUsedEvery); failing
// to stamp it does not fail the check.
func (s *Store) Verify(ctx context.Context, secret string) (Token, error) {
	bad := tandem.Errorf(tandem.EUnauthorized, "invalid or revoked token")
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) <= publicLen || len(secret) > 128 {
		return Token{}, bad
	}
	h := []byte(hash(secret))
	rows, err := s.DB.Query(ctx, "SELECT id, name, scope, prefix, hash, created_at, last_used_at, revoked_at FROM api_tokens WHERE prefix = ?", secret[:publicLen])
	if err != nil {
		return Token{}, fmt.Errorf("verify token: %w", err)
	}
	defer rows.Close()
	var (
		found             Token
		match             bool
		revoked, lastUsed int64
	)
	for rows.Next() {
		var t Token
		var stored string
		var created, used, rev int64
		if err := rows.Scan(&t.ID, &t.Name, &t.Scope, &t.Prefix, &stored, &created, &used, &rev); err != nil {
			return Token{}, fmt.Errorf("verify token: %w", err)
		}
		// Every candidate is compared, so the time taken does not depend
		// on which one (if any) matches.
		if subtle.ConstantTimeCompare([]byte(stored), h) == 1 {
			t.CreatedAt, t.LastUsedAt = db.Time(created), db.Time(used)
			found, match, revoked, lastUsed = t, true, rev, used
		}
	}
	if err := rows.Err(); err != nil {
		return Token{}, fmt.Errorf("verify token: %w", err)
	}
	rows.Close()
	if !match || revoked != 0 {
		return Token{}, bad
	}
	s.touch(ctx, found.ID, db.Time(lastUsed))
	return found, nil
}

// touch writes the token's last use when the stored one (or this process's
// last write) is at least lastUsedEvery old.
func (s *Store) touch(ctx context.Context, id int64, stored time.Time) {
	now := s.now()
	s.mu.Lock()
	if s.touched == nil {
		s.touched = map[int64]time.Time{}
	}
	last := s.touched[id]
	if stored.After(last) {
		last = stored
	}
	due := now.Sub(last) >= lastUsedEvery
	if due {
		s.touched[id] = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	// The condition keeps several replicas from writing it more than once
	// a minute between them.
	if _, err := s.DB.Exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND last_used_at <= ?",
		db.Millis(now), id, db.Millis(now.Add(-lastUsedEvery))); err != nil {
		s.mu.Lock()
		delete(s.touched, id) // try again on the next use
		s.mu.Unlock()
	}
}
