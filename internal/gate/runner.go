package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// RunOptions configure RunCommand.
type RunOptions struct {
	// Command is the program and its arguments.
	Command []string
	// MaxDuration is the time limit (0: none).
	MaxDuration time.Duration
	// KillOnTimeout stops the child (SIGTERM to its process group, SIGKILL
	// after KillGrace) when MaxDuration passes. Off, the child runs to its
	// end and only the verdict changes.
	KillOnTimeout bool
	// KillGrace is how long a stopped child gets before SIGKILL (default 10s).
	KillGrace time.Duration
	// Env is added to the child's environment, which is otherwise the
	// gate's own ("PGAPPNAME=tandem-gate-…").
	Env []string
	// OnStop is called when the gate stops the child (a timeout with
	// KillOnTimeout, or ctx cancelled), beside the signal to its process
	// group: it stops the work the child started elsewhere, such as its
	// database queries. RunCommand returns only after OnStop has.
	OnStop func()
	// Stdout and Stderr receive the child's output as it comes.
	Stdout, Stderr io.Writer
	// OnExceeded is called once, from another goroutine, when MaxDuration
	// passes while the child still runs.
	OnExceeded func()
	// Now reads the clock (default time.Now); durations are measured with it.
	Now func() time.Time
}

// RunResult is how a child run went.
type RunResult struct {
	StartedAt  time.Time     `json:"started_at"`
	FinishedAt time.Time     `json:"finished_at"`
	Duration   time.Duration `json:"duration"`
	// ExitCode is the child's exit code; -1 when it could not start or was
	// killed by a signal.
	ExitCode int `json:"exit_code"`
	// Exceeded is set when the run took longer than MaxDuration.
	Exceeded bool `json:"exceeded"`
	// Killed is set when the gate stopped the child.
	Killed bool `json:"killed"`
	// StartError is set when the command could not be started.
	StartError string `json:"start_error,omitempty"`
}

// Succeeded reports whether the child ran and exited 0.
func (r RunResult) Succeeded() bool { return r.StartError == "" && r.ExitCode == 0 && !r.Killed }

// RunCommand runs the command as a child process in its own process group,
// streaming its output, and measures it. Cancelling ctx stops the child
// like a timeout with KillOnTimeout.
func RunCommand(ctx context.Context, o RunOptions) RunResult {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if o.KillGrace <= 0 {
		o.KillGrace = 10 * time.Second
	}
	res := RunResult{ExitCode: -1, StartedAt: now()}
	if len(o.Command) == 0 {
		res.StartError = "no command given"
		res.FinishedAt = res.StartedAt
		return res
	}
	cmd := exec.Command(o.Command[0], o.Command[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = o.Stdout, o.Stderr, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	if err := cmd.Start(); err != nil {
		res.FinishedAt = now()
		res.StartError = err.Error()
		return res
	}
	var mu sync.Mutex
	var hardKill *time.Timer
	var onStop sync.WaitGroup
	defer onStop.Wait()
	finished := false // set once the child is reaped: nothing may signal its id then
	stop := func() {
		mu.Lock()
		defer mu.Unlock()
		if res.Killed || finished {
			return
		}
		res.Killed = true
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		hardKill = time.AfterFunc(o.KillGrace, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		if o.OnStop != nil {
			onStop.Go(o.OnStop)
		}
	}
	done := make(chan struct{})
	var timer <-chan time.Time
	if o.MaxDuration > 0 {
		t := time.NewTimer(o.MaxDuration)
		defer t.Stop()
		timer = t.C
	}
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
			stop()
		case <-timer:
			if o.OnExceeded != nil {
				o.OnExceeded()
			}
			if o.KillOnTimeout {
				stop()
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	res.FinishedAt = now()
	res.Duration = res.FinishedAt.Sub(res.StartedAt)
	mu.Lock()
	defer mu.Unlock()
	finished = true
	if hardKill != nil {
		// The group leader is gone; a later SIGKILL could hit a reused id.
		hardKill.Stop()
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		res.ExitCode = 0
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		res.StartError = err.Error()
	}
	if o.MaxDuration > 0 && (res.Duration > o.MaxDuration || res.Killed && ctx.Err() == nil) {
		res.Exceeded = true
	}
	return res
}

// ExceededMessage is the gate's failure line for a run of took against the
// limit: "Migration exceeded latency threshold (12.3 s > 10 s)".
func ExceededMessage(took, limit time.Duration) string {
	return fmt.Sprintf("Migration exceeded latency threshold (%s s > %s s)", seconds(took), seconds(limit))
}

func seconds(d time.Duration) string {
	s := math.Round(d.Seconds()*10) / 10
	return strconv.FormatFloat(s, 'f', -1, 64)
}
