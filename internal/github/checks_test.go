package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/github"
	"github.com/tandemhq/tandem/internal/github/githubtest"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

// A completed check run is posted with the documented fields and found
// again by its external id; a commit GitHub does not have is a 422 and an
// unknown repository a 404, neither retryable.
func TestCheckRun(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddToken("ghs_static")
	gh.AddCommit("acme/checkout", sha)
	c := &github.Client{BaseURL: gh.URL, Token: "ghs_static"}
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 890e6, time.UTC)
	run := github.CheckRun{Name: "tandem / SLO gate", HeadSHA: sha, ExternalID: "tandem-gate-result-7", Status: github.CheckCompleted,
		Conclusion: github.ConclusionFailure, CompletedAt: github.Timestamp(at), DetailsURL: "https://tandem.example/delivery",
		Output: &github.CheckOutput{Title: "SLO gate: fail", Summary: "budget exhausted", Text: "| a | b |\n|---|---|\n"}}
	got, err := c.CreateCheckRun(ctx, "acme/checkout", run)
	if err != nil || got.ID == 0 || got.HTMLURL == "" {
		t.Fatalf("CreateCheckRun = %+v, %v", got, err)
	}
	runs, _ := gh.Snapshot()
	if len(runs) != 1 || runs[0].CompletedAt != "2026-03-04T05:06:07Z" || runs[0].Conclusion != "failure" || runs[0].Output.Title != "SLO gate: fail" {
		t.Fatalf("stored %+v", runs)
	}
	found, ok, err := c.FindCheckRun(ctx, "acme/checkout", sha, "tandem / SLO gate", "tandem-gate-result-7")
	if err != nil || !ok || found.ID != got.ID {
		t.Errorf("FindCheckRun = %+v %v %v, want id %d", found, ok, err, got.ID)
	}
	if _, ok, err := c.FindCheckRun(ctx, "acme/checkout", sha, "tandem / SLO gate", "tandem-gate-result-8"); ok || err != nil {
		t.Errorf("FindCheckRun of another id = %v %v", ok, err)
	}
	run.HeadSHA = strings.Repeat("f", 40)
	_, err = c.CreateCheckRun(ctx, "acme/checkout", run)
	var ge *github.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusUnprocessableEntity || ge.Retryable || !strings.Contains(ge.Message, "No commit found") {
		t.Errorf("unknown SHA: %v", err)
	}
	_, err = c.CreateCheckRun(ctx, "acme/nothing", run)
	if !errors.As(err, &ge) || ge.Status != http.StatusNotFound || ge.Retryable {
		t.Errorf("unknown repository: %v", err)
	}
	if _, err := (&github.Client{BaseURL: gh.URL, Token: "ghp_wrong"}).CreateCheckRun(ctx, "acme/checkout", run); !errors.As(err, &ge) || ge.Status != http.StatusUnauthorized {
		t.Errorf("bad token: %v", err)
	}
}

// A deployment status carries state, description, log and environment
// URLs; an unknown deployment is a 404.
func TestDeploymentStatus(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddToken("ghs_static")
	gh.AddDeployment("acme/checkout", 42)
	c := &github.Client{BaseURL: gh.URL, Token: "ghs_static"}
	id, err := c.CreateDeploymentStatus(context.Background(), "acme/checkout", 42, github.DeploymentStatus{State: github.DeploymentFailure,
		Description: github.Clip(strings.Repeat("é", 200), github.MaxDescriptionChars), LogURL: "https://tandem.example/delivery?service=checkout"})
	if err != nil || id == 0 {
		t.Fatalf("CreateDeploymentStatus = %d, %v", id, err)
	}
	_, sts := gh.Snapshot()
	if len(sts) != 1 || sts[0].State != "failure" || sts[0].DeploymentID != 42 || len([]rune(sts[0].Description)) != 140 || !strings.HasSuffix(sts[0].Description, "…") {
		t.Fatalf("stored %+v", sts)
	}
	_, err = c.CreateDeploymentStatus(context.Background(), "acme/checkout", 43, github.DeploymentStatus{State: github.DeploymentSuccess})
	var ge *github.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusNotFound || ge.Retryable {
		t.Errorf("unknown deployment: %v", err)
	}
}

func appKey(t testing.TB) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// The installation token flow: the app JWT verifies with the app's
// public key, the token is cached and reused, and replaced once it is
// within five minutes of its expires_at.
func TestAppInstallation(t *testing.T) {
	key, pemBytes := appKey(t)
	parsed, err := github.ParsePrivateKey(pemBytes)
	if err != nil || !parsed.Equal(key) {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	if k8, err := github.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})); err != nil || !k8.Equal(key) {
		t.Errorf("PKCS #8: %v", err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	gh := githubtest.New(t)
	gh.Now = clock
	gh.SetApp(githubtest.App{ID: "12345", InstallationID: 678, Key: &key.PublicKey})
	gh.AddCommit("acme/checkout", sha)
	inst := &github.AppInstallation{AppID: "12345", InstallationID: 678, Key: parsed, BaseURL: gh.URL, Now: clock}
	c := &github.Client{BaseURL: gh.URL, Auth: inst, Now: clock}
	post := func() {
		t.Helper()
		if _, err := c.CreateCheckRun(context.Background(), "acme/checkout", github.CheckRun{Name: "n", HeadSHA: sha, Status: github.CheckCompleted,
			Conclusion: github.ConclusionSuccess, Output: &github.CheckOutput{Title: "t", Summary: "s"}}); err != nil {
			t.Fatal(err)
		}
	}
	post()
	post()
	if gh.Exchanges != 1 {
		t.Errorf("%d token exchanges for two calls within the hour, want 1 (cached)", gh.Exchanges)
	}
	mu.Lock()
	now = now.Add(56 * time.Minute) // 4 minutes before expires_at
	mu.Unlock()
	post()
	if gh.Exchanges != 2 {
		t.Errorf("%d token exchanges after 56 minutes, want 2 (refreshed)", gh.Exchanges)
	}
	// Another app id does not get a token: the fake's JWT check is real.
	bad := &github.AppInstallation{AppID: "999", InstallationID: 678, Key: parsed, BaseURL: gh.URL, Now: clock}
	ft := &fakeT{TB: t}
	gh2 := githubtest.New(ft)
	gh2.SetApp(githubtest.App{ID: "12345", InstallationID: 678, Key: &key.PublicKey})
	bad.BaseURL = gh2.URL
	bad.Now = nil
	if _, err := bad.Token(context.Background()); err == nil || !ft.failed {
		t.Errorf("a JWT of another app: %v (fake objected: %v)", err, ft.failed)
	}
}

// fakeT records the fake's objections instead of failing the test.
type fakeT struct {
	testing.TB
	mu     sync.Mutex
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.mu.Lock(); f.failed = true; f.mu.Unlock() }

// Tokens from a file or an environment variable are read at each call;
// an empty one is an error that does not leak anything.
func TestTokenSources(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte("ghs_one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := github.FileToken(p).Token(context.Background()); tok != "ghs_one" || err != nil {
		t.Errorf("FileToken = %q, %v", tok, err)
	}
	_ = os.WriteFile(p, []byte(" \n"), 0o600)
	if _, err := github.FileToken(p).Token(context.Background()); err == nil {
		t.Error("an empty token file gave a token")
	}
	t.Setenv("TANDEM_TEST_GH_TOKEN", "ghs_env")
	if tok, err := github.EnvToken("TANDEM_TEST_GH_TOKEN").Token(context.Background()); tok != "ghs_env" || err != nil {
		t.Errorf("EnvToken = %q, %v", tok, err)
	}
	if _, err := github.EnvToken("TANDEM_TEST_GH_UNSET").Token(context.Background()); err == nil {
		t.Error("an unset variable gave a token")
	}
}

// Rate limits: Retry-After wins; with no request left, the wait runs to
// x-ratelimit-reset; a secondary limit without headers waits a minute;
// other failures have no wait.
func TestRateLimitWait(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		status int
		h      http.Header
		msg    string
		want   time.Duration
	}{
		{"retry-after on 429", 429, h("Retry-After", "30"), "", 30 * time.Second},
		{"retry-after on 403 (secondary)", 403, h("Retry-After", "120", "X-RateLimit-Remaining", "10"), "", 2 * time.Minute},
		// reset 1_700_000_090 - now 1_700_000_000 = 90 s.
		{"primary exhausted", 403, h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1700000090"), "", 90 * time.Second},
		{"reset passed", 429, h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1699999000"), "", time.Second},
		{"reset far away", 403, h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1800000000"), "", time.Hour},
		{"secondary without headers", 403, h("X-RateLimit-Remaining", "4000"), "You have exceeded a secondary rate limit", time.Minute},
		{"plain 403", 403, h("X-RateLimit-Remaining", "4000"), "Resource not accessible by integration", 0},
		{"422", 422, h("Retry-After", "5"), "", 0},
		{"503 with retry-after", 503, h("Retry-After", "7"), "", 7 * time.Second},
		{"502", 502, h(), "", 0},
	} {
		if got := github.RateLimitWait(tt.status, tt.h, tt.msg, now); got != tt.want {
			t.Errorf("%s: wait %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzParsePrivateKey: any bytes give a key or an error, never a panic,
// and an error never quotes the input.
func FuzzParsePrivateKey(f *testing.F) {
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("not pem"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := github.ParsePrivateKey(b)
		if (k == nil) == (err == nil) {
			t.Fatalf("key %v, err %v", k != nil, err)
		}
		if err != nil && len(b) > 16 && strings.Contains(err.Error(), string(b)) {
			t.Fatalf("error quotes the input: %v", err)
		}
	})
}

// FuzzRateLimitWait: any status and rate-limit headers give a wait of 0
// or within [1s, 1h], never a panic or a negative wait.
func FuzzRateLimitWait(f *testing.F) {
	f.Add(403, "60", "0", "1700000090", "secondary rate limit")
	f.Add(429, "", "0", "99999999999999999999", "")
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", "", "", "")
	f.Add(403, "-5", "12", "", "Resource not accessible")
	f.Fuzz(func(t *testing.T, status int, retryAfter, remaining, reset, msg string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset", reset)
		w := github.RateLimitWait(status, h, msg, time.Unix(1_700_000_000, 0))
		if w != 0 && (w < time.Second || w > time.Hour) {
			t.Fatalf("wait %v for %d %q %q %q", w, status, retryAfter, remaining, reset)
		}
	})
}
