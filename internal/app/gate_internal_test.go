package app

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/config"
)

// A service's GitHub repository: github.repositories first (the first in
// name order when several name the service), else the last two segments
// of its catalog repository URL, in the https or the scp-like form.
func TestRepoOf(t *testing.T) {
	doc := `teams: [{name: shop}]
services:
  - {name: checkout, team: shop, repository: "https://github.com/acme/checkout.git"}
  - {name: search, team: shop, repository: "git@github.example.com:acme/search-api.git"}
  - {name: billing, team: shop, repository: "https://github.com/acme/billing-old/"}
  - {name: ledger, team: shop}
  - {name: odd, team: shop, repository: "checkout"}
github:
  webhook_secret: s
  repositories: {acme/payments-b: billing, acme/payments-a: billing}
`
	cfg, err := config.Parse(map[string][]byte{"c.yaml": []byte(doc)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for svc, want := range map[string]string{"checkout": "acme/checkout", "search": "acme/search-api", "billing": "acme/payments-a", "ledger": "", "odd": "", "nope": "", "": ""} {
		got, ok := repoOf(cfg, svc)
		if got != want || ok != (want != "") {
			t.Errorf("repoOf(%q) = %q, %v; want %q", svc, got, ok, want)
		}
	}
}

// The App's private key is read when the client is built: a missing or
// malformed file is an error naming the file, never its content, and the
// client is built once per setting.
func TestGitHubReportingClient(t *testing.T) {
	g := &githubReporting{now: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	dir := t.TempDir()
	bad := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(bad, []byte("-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END RSA PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := config.GateGitHub{AppID: "1", InstallationID: 2, PrivateKeyFile: bad, CheckRuns: true}
	if _, err := g.client(app); err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("malformed key: %v", err)
	}
	app.PrivateKeyFile = filepath.Join(dir, "missing.pem")
	if _, err := g.client(app); err == nil {
		t.Error("a missing key file built a client")
	}
	tok := config.GateGitHub{TokenEnv: "TANDEM_TEST_TOKEN", CheckRuns: true}
	c1, err := g.client(tok)
	c2, _ := g.client(tok)
	if err != nil || c1 != c2 {
		t.Errorf("the same setting built two clients (%v)", err)
	}
	if c3, _ := g.client(config.GateGitHub{TokenFile: "/x", CheckRuns: true}); c3 == c1 {
		t.Error("a changed setting kept the old client")
	}
	// A reload whose key cannot be read keeps the client it had.
	cfg := &config.Config{Gate: config.GateConfig{GitHub: &app}}
	if s := g.settings(cfg); s.Client == nil || !s.CheckRuns {
		t.Errorf("settings after a bad reload: %+v", s)
	}
}
