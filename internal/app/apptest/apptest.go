// Package apptest boots a real tandem server for end-to-end tests: the same
// app.Main that `tandem serve` runs, on 127.0.0.1:0, with a fresh SQLite or
// PostgreSQL database and an admin token.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/api/openapitest"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// Options configures the server under test.
type Options struct {
	// ConfigDir is the tandem.d to load; empty uses examples/tandem.d.
	ConfigDir string
	// Postgres runs on a fresh PostgreSQL database instead of SQLite.
	Postgres bool
	// DatabaseURL, when set, is used as it is (several servers on one
	// database); it wins over Postgres.
	DatabaseURL string
	// Clock replaces the system clock.
	Clock clock.Clock
	// PublicRead serves reads without a token.
	PublicRead bool
	// Verbose sends the server log to the test log.
	Verbose bool
	// Quiet discards the server log even under go test -v: a load test's
	// log would be as large as its load, and writing it would skew what
	// the test measures.
	Quiet bool
	// Manual runs no background modules (job engine, SLO evaluation,
	// verification scheduler…): the test drives them itself, for example
	// with Main.Engine.RunDue, so nothing races it.
	Manual bool
	// LogTo also receives the server's debug log (tests of what is logged).
	LogTo io.Writer
	// OpenAPI validates every request the server serves, and its response,
	// against docs/openapi.yaml, failing the test on any mismatch (see
	// openapitest.Middleware).
	OpenAPI bool
}

// Server is a running tandem.
type Server struct {
	Main       *app.Main
	URL        string
	AdminToken string
	// Client is an API client with the admin token.
	Client *client.Client
}

// Start builds, starts and (at cleanup) stops a server.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.ConfigDir == "" {
		o.ConfigDir = ExamplesDir(t)
	}
	// Work on a copy: the config may name directories relative to itself
	// (postmortems are published next to it), and a test must not write
	// into the repository.
	o.ConfigDir = copyDir(t, o.ConfigDir)
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	var logOut io.Writer = io.Discard
	if (o.Verbose || testing.Verbose()) && !o.Quiet {
		logOut = testWriter{t}
	}
	if o.LogTo != nil {
		logOut = io.MultiWriter(logOut, o.LogTo)
	}
	opts := app.Options{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), ConfigDir: o.ConfigDir,
		PublicRead: o.PublicRead, Clock: o.Clock, ShutdownTimeout: 5 * time.Second,
		Log: slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if o.OpenAPI {
		opts.WrapHandler = func(next http.Handler) http.Handler { return openapitest.Middleware(t, next) }
	}
	switch {
	case o.DatabaseURL != "":
		opts.DatabaseURL = o.DatabaseURL
	case o.Postgres:
		opts.DatabaseURL = dbtest.PostgresURL(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := app.New(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("start tandem: %v", err)
	}
	if err := m.Listen(); err != nil {
		cancel()
		t.Fatalf("listen: %v", err)
	}
	_, secret, err := m.Tokens.Create(ctx, "test-admin", auth.ScopeAdmin, o.Clock.Now())
	if err != nil {
		cancel()
		t.Fatalf("admin token: %v", err)
	}
	done := make(chan error, 1)
	if o.Manual {
		m.Modules = nil
	}
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with: %v", err)
		}
	})
	c, err := client.New(m.URL(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Main: m, URL: m.URL(), AdminToken: secret, Client: c}
}

// Token creates a token with the given scope on the server's database.
func (s *Server) Token(t testing.TB, name string, scope auth.Scope) string {
	t.Helper()
	_, secret, err := s.Main.Tokens.Create(context.Background(), name, scope, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// ExamplesDir returns the absolute path of examples/tandem.d.
func ExamplesDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "examples", "tandem.d")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("examples/tandem.d not found above the test's directory")
		}
		dir = parent
	}
}

// copyDir copies the tree at dir into a temporary directory, placing it
// one level down so that paths relative to it ("../handbook") stay inside
// the temporary directory too.
func copyDir(t testing.TB, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "config", filepath.Base(dir))
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		t.Fatalf("copy config %s: %v", dir, err)
	}
	return dst
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
