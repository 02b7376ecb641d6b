// Package auth issues and checks API tokens. A token is shown once, when it is
// created; the database keeps only its SHA-256 hash, and a presented token is
// looked up by hash and compared in constant time.
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
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

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

// Store keeps tokens in the database.
type Store struct {
	DB *db.DB
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create makes a token and returns it with its secret, which is not stored
// and cannot be shown again. A name already in use is a conflict.
func (s *Store) Create(ctx context.Context, name string, scope Scope, now time.Time) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Token{}, "", tandem.FieldErrorf("name", "token name is required")
	}
	if scope.rank() == 0 {
		return Token{}, "", tandem.FieldErrorf("scope", "unknown scope %q: want read, write or admin", scope)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("token randomness: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := Token{Name: name, Scope: scope, Prefix: secret[:len(tokenPrefix)+6], CreatedAt: now.UTC().Truncate(time.Millisecond)}
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
// or revoked secret is unauthorized; the message never says which.
func (s *Store) Verify(ctx context.Context, secret string) (Token, error) {
	bad := tandem.Errorf(tandem.EUnauthorized, "invalid or revoked token")
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		return Token{}, bad
	}
	h := hash(secret)
	var t Token
	var stored string
	var created, revoked int64
	err := s.DB.QueryRow(ctx, "SELECT id, name, scope, prefix, hash, created_at, revoked_at FROM api_tokens WHERE hash = ?", h).
		Scan(&t.ID, &t.Name, &t.Scope, &t.Prefix, &stored, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, bad
	}
	if err != nil {
		return Token{}, fmt.Errorf("verify token: %w", err)
	}
	// The lookup by hash already matched; the constant-time comparison keeps
	// the check independent of how the index compares strings.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) != 1 || revoked != 0 {
		return Token{}, bad
	}
	t.CreatedAt = db.Time(created)
	return t, nil
}
