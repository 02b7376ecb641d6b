package chaos

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Stop sends SIGTERM to the whole process group, and SIGKILL when the
// command ignores it past the grace period; a child the command started
// goes with it.
func TestProcessStop(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child")
	// The shell ignores SIGTERM, and so does the sleep it starts (ignored
	// signals are inherited).
	p, err := StartProcess([]string{"sh", "-c", `trap "" TERM; sleep 60 & echo $! > ` + pidFile + `; wait`}, nil, os.Stderr, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for range 100 {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("the child never started")
	}
	start := time.Now()
	p.Stop(300 * time.Millisecond)
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("Stop took %s, want the grace period then SIGKILL", d)
	}
	if got := p.Signals(); !slices.Equal(got[:2], []string{"SIGTERM", "SIGKILL"}) {
		t.Errorf("signals %v, want SIGTERM then SIGKILL", got)
	}
	if p.ExitCode() != -1 {
		t.Errorf("exit code %d, want -1 (killed)", p.ExitCode())
	}
	// The child is gone too (or a zombie of init's for a moment).
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(child, 0) == nil && time.Now().Before(deadline) {
		if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "stat")); strings.Contains(string(b), ") Z ") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "stat")); err == nil && !strings.Contains(string(b), ") Z ") {
		t.Errorf("child %d still runs: %s", child, b)
	}

	// A command that honours SIGTERM gets no SIGKILL.
	p, err = StartProcess([]string{"sleep", "60"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Stop(5 * time.Second)
	if got := p.Signals(); !slices.Equal(got, []string{"SIGTERM"}) {
		t.Errorf("signals %v, want SIGTERM only", got)
	}
	if _, err := StartProcess([]string{"/nonexistent/fault"}, nil, nil, nil); err == nil {
		t.Error("a command that does not exist started")
	}
}
