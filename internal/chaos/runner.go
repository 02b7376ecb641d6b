package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a fault command running in its own process group, so that
// stopping it stops everything it started (a shell and its children).
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
	// Signals records what Stop sent, in order ("SIGTERM", "SIGKILL").
	mu      sync.Mutex
	signals []string
}

// StartProcess starts argv (argv[0] looked up in PATH) in a new process
// group with its output on stdout and stderr.
func StartProcess(argv []string, env []string, stdout, stderr io.Writer) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command to run")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process's id, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error once Done is closed (nil: exit 0).
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// ExitCode is the process's exit code once Done is closed; -1 when a
// signal ended it.
func (p *Process) ExitCode() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// Signals returns the signals Stop sent to the group.
func (p *Process) Signals() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.signals...)
}

func (p *Process) signal(sig syscall.Signal, name string) {
	p.mu.Lock()
	p.signals = append(p.signals, name)
	p.mu.Unlock()
	// The negative pid is the process group.
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Stop ends the process group: SIGTERM, then SIGKILL if the process has
// not exited after grace. It returns once the process has exited. A
// process that has exited already is left alone, but what it left running
// in its group gets the same treatment.
func (p *Process) Stop(grace time.Duration) {
	p.once.Do(func() {
		p.signal(syscall.SIGTERM, "SIGTERM")
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			p.signal(syscall.SIGKILL, "SIGKILL")
			<-p.done
		}
		// Children that ignored SIGTERM outlive their parent in the group.
		if err := syscall.Kill(-p.cmd.Process.Pid, 0); err == nil {
			p.signal(syscall.SIGKILL, "SIGKILL")
		}
	})
}

// RunShell runs command with sh -c, its output on stdout and stderr,
// until it exits or ctx ends, and returns its exit code (-1 when it could
// not start or was ended).
func RunShell(ctx context.Context, command string, env []string, stdout, stderr io.Writer) (int, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr, cmd.Env = stdout, stderr, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if cmd.ProcessState != nil {
		return cmd.ProcessState.ExitCode(), err
	}
	return -1, err
}
