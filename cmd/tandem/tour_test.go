package main_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tourStep is one command of the README's tour and the exit code the
// README announces for it (0 unless the line ends in "# exits N").
type tourStep struct {
	line string
	exit int
}

var exitsRE = regexp.MustCompile(`#.*\bexits (\d+)\b`)

// readmeBlock returns the lines of the first ```sh block after the
// heading of README.md.
func readmeBlock(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no heading %q", heading)
	}
	text = text[i:]
	start := strings.Index(text, "\n```sh\n")
	if start < 0 {
		t.Fatalf("no sh block after %q", heading)
	}
	text = text[start+len("\n```sh\n"):]
	end := strings.Index(text, "\n```")
	if end < 0 {
		t.Fatalf("the sh block after %q is not closed", heading)
	}
	var out []string
	for _, l := range strings.Split(text[:end], "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseTour reads the tour's commands and their announced exit codes.
func parseTour(lines []string) ([]tourStep, error) {
	var out []tourStep
	for _, l := range lines {
		s := tourStep{line: strings.TrimSpace(l)}
		if m := exitsRE.FindStringSubmatch(l); m != nil {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				return nil, fmt.Errorf("%q: %v", l, err)
			}
			s.exit = n
		}
		out = append(out, s)
	}
	return out, nil
}

// command is the line without its comment, for matching.
func (s tourStep) command() string {
	if i := strings.Index(s.line, " #"); i >= 0 {
		return strings.TrimSpace(s.line[:i])
	}
	return s.line
}

// tourDir is where the tour runs: a git repository without deploy tags
// (like a fresh clone) holding bin/tandem (the binary the test built, as
// `make build` would) and the repository's examples.
func tourDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary(t), filepath.Join(dir, "bin", "tandem")); err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "init"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// runTour runs each step with sh in dir and returns what went wrong: an
// exit code the README does not announce. `make build` is the binary the
// test built and put in dir/bin.
func runTour(ctx context.Context, dir string, env []string, steps []tourStep) []string {
	var failures []string
	for _, s := range steps {
		if s.command() == "make build" {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		cmd := exec.CommandContext(cctx, "sh", "-c", s.line)
		cmd.Dir = dir
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		began := time.Now()
		err := cmd.Run()
		cancel()
		code := 0
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
		case err != nil:
			failures = append(failures, fmt.Sprintf("%s: %v", s.line, err))
			continue
		}
		if code != s.exit {
			tail := out.String()
			if len(tail) > 2000 {
				tail = "…" + tail[len(tail)-2000:]
			}
			failures = append(failures, fmt.Sprintf("%s\n  exit %d after %s, the README announces %d:\n%s", s.line, code, time.Since(began).Round(time.Millisecond), s.exit, tail))
		}
	}
	return failures
}

// startDemo runs `tandem demo` and returns its URL and admin token.
func startDemo(t *testing.T, args ...string) (*proc, string, string) {
	t.Helper()
	p := start(t, append([]string{"demo", "--listen", "127.0.0.1:0"}, args...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var text strings.Builder
	base, token := "", ""
	tokenRE := regexp.MustCompile(`token\s+(tdm_\S+)`)
	urlRE := regexp.MustCompile(`dashboard\s+(http://\S+)/`)
	for ctx.Err() == nil && p.stdout.Scan() {
		line := p.stdout.Text()
		text.WriteString(line + "\n")
		if m := urlRE.FindStringSubmatch(line); m != nil {
			base = m[1]
		}
		if m := tokenRE.FindStringSubmatch(line); m != nil {
			token = m[1]
		}
		if strings.Contains(line, "Ctrl-C") {
			break
		}
	}
	if base == "" || token == "" {
		t.Fatalf("demo output lacks the URL or the token:\n%s", text.String())
	}
	return p, base, token
}

// The README's quick start is two commands, and its tour runs as pasted
// against the demo: every command exits with the code the README
// announces (0 unless the line says "# exits N"). A wrong flag or an
// announced exit that does not happen fails the run.
func TestReadmeTour(t *testing.T) {
	quick := readmeBlock(t, "## Quick start")
	var cmds []string
	for _, l := range quick {
		s := tourStep{line: strings.TrimSpace(l)}
		cmds = append(cmds, s.command())
	}
	if strings.Join(cmds, "\n") != "go run ./cmd/tandem demo\nmake test" {
		t.Errorf("the quick start is %q, want the two commands go run ./cmd/tandem demo and make test", cmds)
	}
	steps, err := parseTour(readmeBlock(t, "## A tour of the CLI"))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 10 || steps[0].command() != "make build" {
		t.Fatalf("the tour has %d commands, the first %q; want make build first", len(steps), steps[0].line)
	}
	for _, s := range steps[1:] {
		if !strings.HasPrefix(s.line, "bin/tandem ") {
			t.Errorf("tour line %q does not run bin/tandem, the binary make build makes", s.line)
		}
	}
	p, base, token := startDemo(t)
	dir := tourDir(t)
	env := append(os.Environ(), "TANDEM_URL="+base, "TANDEM_TOKEN="+token)
	ctx := context.Background()
	for _, f := range runTour(ctx, dir, env, steps) {
		t.Error(f)
	}

	// The test of the test: a wrong flag and an announced exit code that
	// does not happen are both caught.
	bad, err := parseTour([]string{
		"bin/tandem dora --team payments --sincee 90d",
		"bin/tandem oncall who --schedule sre-primary   # exits 1",
		"bin/tandem oncall who --schedule sre-primary",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := runTour(ctx, dir, env, bad)
	if len(got) != 2 || !strings.Contains(got[0], "--sincee") || !strings.Contains(got[1], "exit 0") {
		t.Errorf("a tour with a wrong flag and a wrong announced exit: %d failures %q, want 2", len(got), got)
	}
	p.stop(t)
}

func TestParseTour(t *testing.T) {
	steps, err := parseTour([]string{"make build   # bin/tandem", "bin/tandem gate slo --service checkout   # exits 1", "bin/tandem x # exits 2: why"})
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0].exit != 0 || steps[0].command() != "make build" || steps[1].exit != 1 || steps[2].exit != 2 {
		t.Errorf("steps = %+v", steps)
	}
}
