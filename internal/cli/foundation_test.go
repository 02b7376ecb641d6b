package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// run executes the CLI and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "tandem "+cli.Version || !strings.HasPrefix(lines[1], "commit ") ||
		!strings.HasPrefix(lines[2], runtime.Version()+" ") {
		t.Errorf("version output:\n%s", out)
	}
}

func TestConfigValidateExamples(t *testing.T) {
	code, out, errOut := run(t, "config", "validate", apptest.ExamplesDir(t))
	if code != 0 || !regexp.MustCompile(`: valid \(\d+ teams, \d+ people, \d+ services, \d+ tools\)`).MatchString(out) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, out, _ = run(t, "config", "validate", "--format", "json", apptest.ExamplesDir(t))
	if code != 0 || !strings.Contains(out, `"valid":true`) {
		t.Errorf("json: exit %d %s", code, out)
	}
}

// A broken copy of the examples (an unknown field, a dangling team and a
// duplicate service) exits 1 and prints every error with file:line:column.
func TestConfigValidateBroken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tandem.d")
	if err := os.CopyFS(dir, os.DirFS(apptest.ExamplesDir(t))); err != nil {
		t.Fatal(err)
	}
	svc, _ := os.ReadFile(filepath.Join(dir, "services.yaml"))
	s := string(svc)
	s = strings.Replace(s, "    team: search\n", "    team: serch\n", 1)                // dangling team
	s = strings.Replace(s, "    tier: 3\n", "    tier: 3\n    owner_email: x@y.z\n", 1) // unknown field
	s += "  - name: checkout\n    team: payments\n"                                     // duplicate service
	os.WriteFile(filepath.Join(dir, "services.yaml"), []byte(s), 0o644)

	code, out, errOut := run(t, "config", "validate", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	// Files are named as the directory was given, so they open from here.
	file := regexp.QuoteMeta(filepath.Join(dir, "services.yaml"))
	want := []*regexp.Regexp{
		regexp.MustCompile(`^` + file + `:\d+:5: services\[2\]\.owner_email: unknown field "owner_email"`),
		regexp.MustCompile(`^` + file + `:\d+:11: services\.search-api\.team: team "serch" does not exist; did you mean "search"\?`),
		regexp.MustCompile(`^` + file + `:\d+:11: services\.checkout: duplicate name "checkout"; first defined at ` + file + `:3:11`),
		regexp.MustCompile(`^3 errors$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), errOut)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %s", i+1, lines[i], re)
		}
	}
	code, out, _ = run(t, "config", "validate", "--format", "json", dir)
	var res struct {
		Valid  bool `json:"valid"`
		Errors []struct {
			File   string `json:"file"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
			Field  string `json:"field"`
		} `json:"errors"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.Valid || len(res.Errors) != 3 || res.Errors[0].Line == 0 || res.Errors[0].Field == "" {
		t.Errorf("json: exit %d %s", code, out)
	}
	if code, _, errOut := run(t, "config", "validate", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(errOut, "config directory") {
		t.Errorf("missing directory: exit %d %s", code, errOut)
	}
}

func TestOwnersExport(t *testing.T) {
	ex := apptest.ExamplesDir(t)
	for _, f := range []struct{ format, file string }{{"markdown", "owners.md"}, {"csv", "owners.csv"}, {"json", "owners.json"}} {
		code, out, errOut := run(t, "owners", "export", "--config", ex, "--format", f.format)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", f.format, code, errOut)
		}
		golden(t, f.file, out)
	}
	if code, _, errOut := run(t, "owners", "export", "--config", ex, "--format", "xml"); code != 1 || !strings.Contains(errOut, "markdown, csv or json") {
		t.Errorf("unknown format: exit %d %s", code, errOut)
	}
}

func TestOwnersWho(t *testing.T) {
	ex := apptest.ExamplesDir(t)
	code, out, _ := run(t, "owners", "who", "--config", ex, "grafana")
	if code != 0 || !strings.Contains(out, "primary  SRE (team)") || !strings.Contains(out, "backup   Mallory Chen (person)  mallory@example.com") {
		t.Errorf("who grafana: exit %d\n%s", code, out)
	}
	code, _, errOut := run(t, "owners", "who", "--config", ex, "Terrafrom")
	if code != 1 || !strings.Contains(errOut, "did you mean Terraform?") || !strings.Contains(errOut, "[not_found]") {
		t.Errorf("misspelt tool: exit %d %s", code, errOut)
	}
}

// Client commands take --url/--token or TANDEM_URL/TANDEM_TOKEN, and the
// flag wins over the environment.
func TestEnvBinding(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	read := s.Token(t, "reader", auth.ScopeRead)
	t.Setenv("TANDEM_URL", s.URL)
	t.Setenv("TANDEM_TOKEN", read)
	code, out, errOut := run(t, "services")
	if code != 0 || !strings.Contains(out, "checkout") || !strings.Contains(out, "payments") {
		t.Errorf("services from env: exit %d %s %s", code, out, errOut)
	}
	code, out, _ = run(t, "owners", "export", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "Tool,Primary Owner") {
		t.Errorf("owners export from the server: exit %d %s", code, out)
	}
	code, _, errOut = run(t, "services", "--token", "tdm_wrong-wrong-wrong")
	if code != 1 || !strings.Contains(errOut, "[unauthorized]") {
		t.Errorf("--token must win over TANDEM_TOKEN: exit %d %s", code, errOut)
	}
	t.Setenv("TANDEM_TOKEN", "")
	code, _, errOut = run(t, "services")
	if code != 1 || !strings.Contains(errOut, "missing token") {
		t.Errorf("no token: exit %d %s", code, errOut)
	}
	t.Setenv("TANDEM_URL", "http://127.0.0.1:1")
	code, _, errOut = run(t, "services")
	if code != 1 || !strings.Contains(errOut, "[unavailable]") {
		t.Errorf("unreachable server: exit %d %s", code, errOut)
	}
	t.Setenv("TANDEM_LOG_FORMAT", "yaml")
	code, _, errOut = run(t, "serve", "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "--log-format") {
		t.Errorf("bad TANDEM_LOG_FORMAT: exit %d %s", code, errOut)
	}
	t.Setenv("TANDEM_LOG_FORMAT", "")
	t.Setenv("TANDEM_PUBLIC_READ", "maybe")
	code, _, errOut = run(t, "serve", "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "TANDEM_PUBLIC_READ") {
		t.Errorf("bad TANDEM_PUBLIC_READ: exit %d %s", code, errOut)
	}
}

// tandem token works on the database directly, also while a server runs on
// it; a revoked token is refused by the server at once.
func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	m, err := app.New(context.Background(), app.Options{Listen: "127.0.0.1:0", DataDir: dir, ConfigDir: apptest.ExamplesDir(t),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	t.Setenv("TANDEM_DATA_DIR", dir)
	code, out, errOut := run(t, "token", "create", "--name", "ci", "--scope", "write")
	secret := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(secret, "tdm_") || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("create: exit %d %q %s", code, out, errOut)
	}
	if code, _, errOut := run(t, "token", "create", "--name", "ci"); code != 1 || !strings.Contains(errOut, "[conflict]") {
		t.Errorf("duplicate: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "token", "create", "--name", "x", "--scope", "root"); code != 1 || !strings.Contains(errOut, `unknown scope "root"`) {
		t.Errorf("bad scope: exit %d %s", code, errOut)
	}
	get := func() int {
		req, _ := http.NewRequest("GET", m.URL()+"/api/v1/services", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(); c != 200 {
		t.Fatalf("the created token gets %d", c)
	}
	code, out, _ = run(t, "token", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^ci\s+write\s+tdm_\S+…\s+\S+\s+active$`).MatchString(out) || strings.Contains(out, secret) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "token", "list", "--format", "json")
	var toks []auth.Token
	if code != 0 || json.Unmarshal([]byte(out), &toks) != nil || len(toks) != 1 || toks[0].LastUsedAt.IsZero() {
		t.Errorf("list json (with last use stamped): exit %d %s", code, out)
	}
	if code, out, _ := run(t, "token", "revoke", "ci"); code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("revoke: exit %d %s", code, out)
	}
	if c := get(); c != 401 {
		t.Errorf("revoked token gets %d, want 401", c)
	}
	code, out, _ = run(t, "token", "list")
	if code != 0 || !strings.Contains(out, "revoked ") {
		t.Errorf("list after revoke: %s", out)
	}
	if code, _, errOut := run(t, "token", "revoke", "nope"); code != 1 || !strings.Contains(errOut, "[not_found]") {
		t.Errorf("revoke unknown: exit %d %s", code, errOut)
	}
}

// One error is "1 error", and a file is named by the path the directory
// was given with, relative as given.
func TestConfigValidateOneErrorRelative(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "tandem.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "tandem.d", "teams.yaml"), []byte("teams:\n  - name: core\n    colour: red\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	code, _, errOut := run(t, "config", "validate", "tandem.d")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], "tandem.d/teams.yaml:3:5: ") || lines[1] != "1 error" {
		t.Errorf("exit %d, stderr:\n%s\nwant tandem.d/teams.yaml:3:5: … then \"1 error\"", code, errOut)
	}
}

// A missing required flag is named the way it is typed.
func TestRequiredFlagMessage(t *testing.T) {
	code, _, errOut := run(t, "deploy", "record", "--url", "http://127.0.0.1:1", "--version", "1.0")
	if code != 2 && code != 1 || strings.TrimSpace(errOut) != "error: --service: required" {
		t.Errorf("exit %d, stderr %q; want \"error: --service: required\"", code, errOut)
	}
}
