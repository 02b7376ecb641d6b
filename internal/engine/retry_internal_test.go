package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// A failed escalation step's retry never flips back to queued a job that
// another replica completed meanwhile: replica A's handler fails; right
// after A's transaction ends, replica B runs the job and completes it.
// Whatever A writes next must leave the job done, so it never runs again.
func TestTxRetryNeverUndoesAnotherReplicasCompletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		clk := clock.NewFake(t0)
		a, b := New(d, clk, nil, nil), New(d, clk, nil, nil)
		a.RegisterTx("step", func(context.Context, *db.Tx, Job) error { return errors.New("state check failed") })
		done := 0
		b.RegisterTx("step", func(context.Context, *db.Tx, Job) error { done++; return nil })
		a.afterTx = func() {
			a.afterTx = nil
			if _, err := b.RunDue(ctx); err != nil {
				t.Error(err)
			}
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := Enqueue(ctx, tx, NewJob{Kind: "step", Key: "incident:1:step:0"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		// Past every backoff: a job flipped back to queued runs again.
		clk.Advance(time.Hour)
		if _, err := b.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		jobs, err := List(ctx, d, Filter{Kind: "step"})
		if err != nil || len(jobs) != 1 {
			t.Fatalf("jobs %+v %v", jobs, err)
		}
		if done != 1 || jobs[0].State != StateDone {
			t.Fatalf("step completed %d times, state %s (attempts %d), want once and done", done, jobs[0].State, jobs[0].Attempts)
		}
	})
}
