package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		s := &auth.Store{DB: d, Clock: clk}
		tok, secret, err := s.Create(ctx, "ci", auth.ScopeWrite, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "tdm_") || len(secret) != 47 || !strings.HasPrefix(secret, tok.Prefix) || len(tok.Prefix) != 10 {
			t.Errorf("secret %q prefix %q", secret, tok.Prefix)
		}
		// Only the hash is stored.
		var stored string
		if err := d.QueryRow(ctx, "SELECT hash FROM api_tokens WHERE name = ?", "ci").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, secret[4:]) || len(stored) != 64 {
			t.Errorf("stored %q: want the hex SHA-256 only", stored)
		}
		got, err := s.Verify(ctx, secret)
		if err != nil || got.Name != "ci" || got.Scope != auth.ScopeWrite {
			t.Fatalf("Verify = %+v, %v", got, err)
		}
		for _, bad := range []string{"", "tdm_", secret[:len(secret)-1], secret + "x", "xyz" + secret[3:], strings.ToUpper(secret), secret[:10] + strings.Repeat("A", 37)} {
			if _, err := s.Verify(ctx, bad); tandem.ErrorCode(err) != tandem.EUnauthorized {
				t.Errorf("Verify(%q) = %v, want unauthorized", bad, err)
			}
		}
		if _, _, err := s.Create(ctx, "ci", auth.ScopeRead, t0); tandem.ErrorCode(err) != tandem.EConflict {
			t.Errorf("duplicate name: %v", err)
		}
		if _, _, err := s.Create(ctx, " ", auth.ScopeRead, t0); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("empty name: %v", err)
		}
		if _, _, err := s.Create(ctx, "x", auth.Scope("root"), t0); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("bad scope: %v", err)
		}
		if err := s.Revoke(ctx, "ci", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, "ci", t0.Add(2*time.Hour)); err != nil {
			t.Errorf("second revoke: %v", err)
		}
		if err := s.Revoke(ctx, "nope", t0); tandem.ErrorCode(err) != tandem.ENotFound {
			t.Errorf("revoke unknown: %v", err)
		}
		if _, err := s.Verify(ctx, secret); tandem.ErrorCode(err) != tandem.EUnauthorized {
			t.Errorf("revoked token verified: %v", err)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 1 || !list[0].RevokedAt.Equal(t0.Add(time.Hour)) || !list[0].CreatedAt.Equal(t0) {
			t.Errorf("List = %+v, %v", list, err)
		}
	})
}

// last_used_at is written on first use and then at most once a minute, not
// on every request.
func TestLastUsed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		s := &auth.Store{DB: d, Clock: clk}
		_, secret, err := s.Create(ctx, "ci", auth.ScopeRead, t0)
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() time.Time {
			toks, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return toks[0].LastUsedAt
		}
		if !lastUsed().IsZero() {
			t.Fatal("a new token has a last use")
		}
		verify := func() {
			if _, err := s.Verify(ctx, secret); err != nil {
				t.Fatal(err)
			}
		}
		verify()
		if got := lastUsed(); !got.Equal(t0) {
			t.Errorf("after first use: %v, want %v", got, t0)
		}
		clk.Advance(59 * time.Second)
		verify()
		if got := lastUsed(); !got.Equal(t0) {
			t.Errorf("59 s later: %v, want it unchanged at %v", got, t0)
		}
		clk.Advance(time.Second) // t0 + 60 s
		verify()
		if got := lastUsed(); !got.Equal(t0.Add(time.Minute)) {
			t.Errorf("60 s later: %v, want %v", got, t0.Add(time.Minute))
		}
		// Another replica (a second Store on the same database) does not
		// write again within the minute either.
		other := &auth.Store{DB: d, Clock: clk}
		clk.Advance(10 * time.Second)
		if _, err := other.Verify(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(t0.Add(time.Minute)) {
			t.Errorf("another store 10 s later: %v, want %v", got, t0.Add(time.Minute))
		}
	})
}

func TestScopes(t *testing.T) {
	tests := []struct {
		have, need auth.Scope
		ok         bool
	}{
		{auth.ScopeRead, auth.ScopeRead, true}, {auth.ScopeRead, auth.ScopeWrite, false}, {auth.ScopeRead, auth.ScopeAdmin, false},
		{auth.ScopeWrite, auth.ScopeRead, true}, {auth.ScopeWrite, auth.ScopeWrite, true}, {auth.ScopeWrite, auth.ScopeAdmin, false},
		{auth.ScopeAdmin, auth.ScopeRead, true}, {auth.ScopeAdmin, auth.ScopeWrite, true}, {auth.ScopeAdmin, auth.ScopeAdmin, true},
		{auth.Scope(""), auth.ScopeRead, false}, {auth.ScopeAdmin, auth.Scope("bogus"), false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.ok {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.need, got, tt.ok)
		}
	}
	if _, err := auth.ParseScope("write"); err != nil {
		t.Error(err)
	}
	if _, err := auth.ParseScope("Write"); err == nil {
		t.Error("scopes are lower case")
	}
}

// BenchmarkVerify checks a token as every API request does (lookup by
// prefix, constant-time hash comparison, last use already fresh).
func BenchmarkVerify(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var d *db.DB
			if engine == "sqlite" {
				d = dbtest.SQLite(b)
			} else {
				d = dbtest.Postgres(b)
			}
			ctx := context.Background()
			s := &auth.Store{DB: d}
			for i := 0; i < 50; i++ {
				if _, _, err := s.Create(ctx, "other-"+string(rune('a'+i%26))+string(rune('a'+i/26)), auth.ScopeRead, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			_, secret, err := s.Create(ctx, "bench", auth.ScopeRead, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Verify(ctx, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
