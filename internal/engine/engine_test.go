package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func enqueue(t *testing.T, d *db.DB, j engine.NewJob) bool {
	t.Helper()
	var created bool
	err := d.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		created, err = engine.Enqueue(context.Background(), tx, j)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func state(t *testing.T, e *engine.Engine, key string) engine.Info {
	t.Helper()
	jobs, err := e.List(context.Background(), engine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Key == key {
			return j
		}
	}
	t.Fatalf("job %s not found", key)
	return engine.Info{}
}

func runDue(t *testing.T, e *engine.Engine) int {
	t.Helper()
	n, err := e.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEngine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		e := engine.New(d, clk, nil, nil)
		var got []string
		var mu sync.Mutex
		e.Register("echo", func(ctx context.Context, j engine.Job) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, string(j.Payload))
			return nil
		})

		// Idempotency: the second job with the key is not created.
		if !enqueue(t, d, engine.NewJob{Kind: "echo", Key: "k1", Payload: "a", RunAt: t0.Add(time.Minute)}) {
			t.Fatal("first enqueue: want created")
		}
		if enqueue(t, d, engine.NewJob{Kind: "echo", Key: "k1", Payload: "b"}) {
			t.Fatal("second enqueue with the same key: want not created")
		}
		if n := runDue(t, e); n != 0 {
			t.Fatalf("before run_at: ran %d, want 0", n)
		}
		clk.Advance(time.Minute)
		if n := runDue(t, e); n != 1 {
			t.Fatalf("at run_at: ran %d, want 1", n)
		}
		if len(got) != 1 || got[0] != `"a"` {
			t.Fatalf("payloads %q, want [\"a\"]", got)
		}
		if s := state(t, e, "k1"); s.State != engine.StateDone || s.Attempts != 1 {
			t.Fatalf("k1: %+v, want done after 1 attempt", s)
		}
		if n := runDue(t, e); n != 0 {
			t.Fatalf("done job ran again (%d)", n)
		}

		// Retry with backoff, then success.
		fails := 2
		e.BackoffBase, e.BackoffMax = time.Second, time.Minute
		e.Register("flaky", func(ctx context.Context, j engine.Job) error {
			if fails > 0 {
				fails--
				return errors.New("try again")
			}
			return nil
		})
		enqueue(t, d, engine.NewJob{Kind: "flaky", Key: "f1"})
		runDue(t, e)
		s := state(t, e, "f1")
		// attempt 1 failed: the next run is 1s·2^0 ±20% later.
		if s.State != engine.StateQueued || s.Attempts != 1 || s.LastError != "try again" {
			t.Fatalf("after first failure: %+v", s)
		}
		if d := s.RunAt.Sub(clk.Now()); d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("first retry in %v, want 1s±20%%", d)
		}
		clk.Advance(1200 * time.Millisecond)
		runDue(t, e)
		s = state(t, e, "f1")
		// attempt 2 failed: 1s·2^1 = 2s ±20%.
		if d := s.RunAt.Sub(clk.Now()); s.Attempts != 2 || d < 1600*time.Millisecond || d > 2400*time.Millisecond {
			t.Fatalf("second retry: %+v in %v, want 2s±20%%", s, d)
		}
		clk.Advance(2400 * time.Millisecond)
		runDue(t, e)
		if s := state(t, e, "f1"); s.State != engine.StateDone || s.Attempts != 3 {
			t.Fatalf("after success: %+v", s)
		}

		// Permanent errors and panics.
		e.Register("perm", func(ctx context.Context, j engine.Job) error { return engine.Permanent(errors.New("bad payload")) })
		e.Register("panic", func(ctx context.Context, j engine.Job) error { panic("boom") })
		enqueue(t, d, engine.NewJob{Kind: "perm", Key: "p1"})
		enqueue(t, d, engine.NewJob{Kind: "panic", Key: "x1", MaxAttempts: 1})
		runDue(t, e)
		if s := state(t, e, "p1"); s.State != engine.StateFailed || s.LastError != "bad payload" {
			t.Fatalf("permanent: %+v", s)
		}
		if s := state(t, e, "x1"); s.State != engine.StateFailed || s.LastError != "handler panicked: boom" {
			t.Fatalf("panic: %+v", s)
		}
		failed, err := e.List(ctx, engine.Filter{State: engine.StateFailed})
		if err != nil || len(failed) != 2 {
			t.Fatalf("failed jobs: %d %v, want 2", len(failed), err)
		}
		if _, err := e.List(ctx, engine.Filter{State: "bogus"}); err == nil {
			t.Fatal("bad state filter: want error")
		}
	})
}

type heldBack struct{ after time.Duration }

// triedLater is a deferral of work that was tried.
type triedLater struct{ heldBack }

func (triedLater) Attempted() bool { return true }

func (h heldBack) Error() string             { return "rate limited" }
func (h heldBack) RetryAfter() time.Duration { return h.after }

// A job whose handler says it was held back (a Deferral) comes back when it
// asks, as often as it asks, without spending its attempts: a page waiting
// for a rate limit must not fail for having waited.
func TestDeferral(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(t0)
		e := engine.New(d, clk, nil, nil)
		held := 5 // more than MaxAttempts
		runs := 0
		e.Register("page", func(ctx context.Context, j engine.Job) error {
			runs++
			if j.Attempts != 1 {
				t.Errorf("run %d is attempt %d, want 1: deferrals spent attempts", runs, j.Attempts)
			}
			if held > 0 {
				held--
				return fmt.Errorf("slack: %w", heldBack{40 * time.Second})
			}
			return nil
		})
		enqueue(t, d, engine.NewJob{Kind: "page", Key: "p", MaxAttempts: 2})
		for i := 0; i < 5; i++ {
			if n := runDue(t, e); n != 1 {
				t.Fatalf("round %d: ran %d, want 1", i, n)
			}
			s := state(t, e, "p")
			if s.State != engine.StateQueued || s.Attempts != 0 || s.LastError != "slack: rate limited" || !s.RunAt.Equal(clk.Now().Add(40*time.Second)) {
				t.Fatalf("round %d: %+v, want queued for now+40s with no attempt spent", i, s)
			}
			clk.Advance(39 * time.Second)
			if n := runDue(t, e); n != 0 {
				t.Fatalf("round %d: ran %d before its time", i, n)
			}
			clk.Advance(time.Second)
		}
		runDue(t, e)
		if s := state(t, e, "p"); s.State != engine.StateDone || s.Attempts != 1 || runs != 6 {
			t.Fatalf("after the deferrals: %+v after %d runs", s, runs)
		}
		// A deferral whose work was tried (a provider's 429 with
		// Retry-After) comes back when asked but spends its attempts.
		e.Register("tried", func(ctx context.Context, j engine.Job) error { return triedLater{heldBack{time.Minute}} })
		enqueue(t, d, engine.NewJob{Kind: "tried", Key: "r", MaxAttempts: 2})
		runDue(t, e)
		if s := state(t, e, "r"); s.State != engine.StateQueued || s.Attempts != 1 || !s.RunAt.Equal(clk.Now().Add(time.Minute)) {
			t.Fatalf("after a tried deferral: %+v, want attempt 1 spent and a retry in a minute (not the 1 s backoff)", s)
		}
		clk.Advance(time.Minute)
		runDue(t, e)
		if s := state(t, e, "r"); s.State != engine.StateFailed || s.Attempts != 2 {
			t.Fatalf("out of attempts: %+v", s)
		}
		// Permanent wins over a deferral.
		e.Register("perm", func(ctx context.Context, j engine.Job) error { return engine.Permanent(heldBack{time.Minute}) })
		enqueue(t, d, engine.NewJob{Kind: "perm", Key: "q"})
		runDue(t, e)
		if s := state(t, e, "q"); s.State != engine.StateFailed {
			t.Fatalf("permanent deferral: %+v", s)
		}
	})
}

// A worker that dies holding a job leaves it running; once the lease runs
// out another worker claims it and runs it again.
func TestLeaseExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		dead := engine.New(d, clk, nil, nil)
		dead.Lease = time.Minute
		block := make(chan struct{})
		started := make(chan struct{})
		dead.Register("page", func(ctx context.Context, j engine.Job) error {
			close(started)
			<-block // never finishes while the test looks
			return nil
		})
		enqueue(t, d, engine.NewJob{Kind: "page", Key: "j1"})
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = dead.Run(cctx) }()
		<-started
		live := engine.New(d, clk, nil, nil)
		var runs atomic.Int32
		live.Register("page", func(ctx context.Context, j engine.Job) error {
			if j.Attempts != 2 {
				t.Errorf("attempt %d, want 2", j.Attempts)
			}
			runs.Add(1)
			return nil
		})
		if n := runDue(t, live); n != 0 {
			t.Fatalf("within the lease: ran %d, want 0", n)
		}
		clk.Advance(time.Minute)
		if n := runDue(t, live); n != 1 || runs.Load() != 1 {
			t.Fatalf("after the lease: ran %d, want 1", n)
		}
		cancel()
		close(block)
		<-done
		// The stale worker's late success does not overwrite the newer run.
		if s := state(t, live, "j1"); s.State != engine.StateDone || s.Attempts != 2 {
			t.Fatalf("j1: %+v", s)
		}
	})
}

// A TxHandler's writes and the job's completion commit together: an error
// rolls both back.
func TestTxHandler(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(t0)
		e := engine.New(d, clk, nil, nil)
		fail := true
		e.RegisterTx("step", func(ctx context.Context, tx *db.Tx, j engine.Job) error {
			if _, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: "child", Key: "child-of-" + j.Key, RunAt: t0.Add(time.Hour)}); err != nil {
				return err
			}
			if fail {
				fail = false
				return errors.New("state check failed")
			}
			return nil
		})
		enqueue(t, d, engine.NewJob{Kind: "step", Key: "s1"})
		runDue(t, e)
		jobs, _ := e.List(context.Background(), engine.Filter{Kind: "child"})
		if len(jobs) != 0 {
			t.Fatalf("failed step left %d child jobs, want 0", len(jobs))
		}
		clk.Advance(2 * time.Second)
		runDue(t, e)
		jobs, _ = e.List(context.Background(), engine.Filter{Kind: "child"})
		if len(jobs) != 1 {
			t.Fatalf("child jobs %d, want 1", len(jobs))
		}
		if s := state(t, e, "s1"); s.State != engine.StateDone || s.Attempts != 2 {
			t.Fatalf("s1: %+v", s)
		}
	})
}

// Two engines racing on one database run each job once.
func TestConcurrentWorkers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.System{}
		const n = 200
		for i := 0; i < n; i++ {
			enqueue(t, d, engine.NewJob{Kind: "inc", Key: "c" + itoa(i)})
			enqueue(t, d, engine.NewJob{Kind: "tx", Key: "t" + itoa(i)})
		}
		var counts sync.Map
		var total atomic.Int32
		h := func(ctx context.Context, j engine.Job) error {
			v, _ := counts.LoadOrStore(j.Key, new(atomic.Int32))
			v.(*atomic.Int32).Add(1)
			total.Add(1)
			return nil
		}
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			e := engine.New(d, clk, nil, nil)
			e.BatchSize = 7
			e.Register("inc", h)
			e.RegisterTx("tx", func(ctx context.Context, tx *db.Tx, j engine.Job) error { return h(ctx, j) })
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.RunDue(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if total.Load() != 2*n {
			t.Fatalf("runs %d, want %d", total.Load(), 2*n)
		}
		counts.Range(func(k, v any) bool {
			if c := v.(*atomic.Int32).Load(); c != 1 {
				t.Errorf("job %v ran %d times", k, c)
			}
			return true
		})
	})
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		attempt int
		u       float64
		want    time.Duration
	}{
		{1, 0.5, time.Second},                       // 1s·2^0 ·1.0
		{2, 0.5, 2 * time.Second},                   // 1s·2^1
		{4, 0, 6400 * time.Millisecond},             // 8s·0.8
		{30, 0.5, 10 * time.Minute},                 // capped
		{3, 0.999999, 4799998400 * time.Nanosecond}, // 4s·(0.8+0.4·0.999999) = 4s·1.1999996
	} {
		if got := engine.Backoff(c.attempt, time.Second, 10*time.Minute, c.u); got.Round(100*time.Nanosecond) != c.want {
			t.Errorf("Backoff(%d, u=%v) = %v, want %v", c.attempt, c.u, got, c.want)
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// Pending finds a queued or running job by kind and key prefix, and treats
// LIKE's wildcards in the prefix as plain characters.
func TestPending(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(t0)
		e := engine.New(d, clk, nil, nil)
		e.Register("step", func(ctx context.Context, j engine.Job) error { return nil })
		enqueue(t, d, engine.NewJob{Kind: "step", Key: "incident:7:g0:step:1", RunAt: t0.Add(time.Hour)})
		enqueue(t, d, engine.NewJob{Kind: "step", Key: "incident:8:g0:step:0"})
		runDue(t, e) // incident 8's step is done
		pending := func(kind, prefix string) bool {
			t.Helper()
			var ok bool
			if err := d.InTx(context.Background(), func(tx *db.Tx) error {
				var err error
				ok, err = engine.Pending(context.Background(), tx, kind, prefix)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		for _, c := range []struct {
			kind, prefix string
			want         bool
		}{
			{"step", "incident:7:g0:step:", true},
			{"step", "incident:8:g0:step:", false}, // done
			{"step", "incident:7:g1:step:", false},
			{"page", "incident:7:g0:step:", false},
			{"step", "incident:_:g0:step:", false}, // _ is not a wildcard
			{"step", "incident:%", false},          // nor is %
		} {
			if got := pending(c.kind, c.prefix); got != c.want {
				t.Errorf("Pending(%s, %q) = %v, want %v", c.kind, c.prefix, got, c.want)
			}
		}
	})
}

// Finished jobs older than the retention are pruned, queued and recent ones
// stay, and a pruned job's key still makes a duplicate enqueue a no-op.
func TestPruneKeepsDeduplication(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		e := engine.New(d, clk, nil, nil)
		runs := 0
		e.Register("page", func(context.Context, engine.Job) error { runs++; return nil })
		e.Register("later", func(context.Context, engine.Job) error { return nil })
		enqueue(t, d, engine.NewJob{Kind: "page", Key: "incident:7:g0:page:0:0:alice:hook"})
		enqueue(t, d, engine.NewJob{Kind: "later", Key: "later:1", RunAt: t0.Add(90 * 24 * time.Hour)})
		runDue(t, e)
		clk.Advance(29 * 24 * time.Hour)
		enqueue(t, d, engine.NewJob{Kind: "page", Key: "incident:8:g0:page:0:0:alice:hook"})
		runDue(t, e)
		clk.Advance(2 * 24 * time.Hour)
		n, err := engine.Prune(ctx, d, clk.Now().Add(-engine.DefaultRetention))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d: %v", n, err)
		}
		left, _ := e.List(ctx, engine.Filter{})
		if len(left) != 2 || left[0].Key != "incident:8:g0:page:0:0:alice:hook" || left[1].Key != "later:1" {
			t.Fatalf("jobs left %+v", left)
		}
		// The duplicate delivery of incident 7's page after pruning.
		if enqueue(t, d, engine.NewJob{Kind: "page", Key: "incident:7:g0:page:0:0:alice:hook"}) {
			t.Fatal("a pruned job's key was enqueued again")
		}
		runDue(t, e)
		if runs != 2 {
			t.Fatalf("pages sent %d times, want 2", runs)
		}
		if n, err := engine.Prune(ctx, d, clk.Now().Add(-engine.DefaultRetention)); err != nil || n != 0 {
			t.Fatalf("second prune: %d %v", n, err)
		}
	})
}
