package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
)

// overdue reports whether the manager shows hb overdue now.
func overdue(t *testing.T, h *harness, hb incident.Heartbeat) bool {
	t.Helper()
	st, err := h.m.Heartbeats(context.Background(), []incident.Heartbeat{hb}, h.clk.Now())
	if err != nil || len(st) != 1 {
		t.Fatalf("heartbeats: %+v %v", st, err)
	}
	return st[0].Overdue
}

// A call late by less than the grace (by default a tenth of the interval,
// at least a minute) opens nothing; a call missing for the interval plus
// the grace opens one incident, which pages once; the next call resolves it.
func TestHeartbeatGrace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		hb := incident.Heartbeat{Name: "export", Service: "checkout", Interval: 10 * time.Minute, Severity: "sev3"}
		if err := h.m.Beat(ctx, hb); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 10*time.Minute+30*time.Second, 30*time.Second)
		if overdue(t, h, hb) {
			t.Errorf("overdue 30 s after the interval, within the 1m grace")
		}
		if err := h.m.Beat(ctx, hb); err != nil { // 30 s late: next check at 21m30s
			t.Fatal(err)
		}
		h.walk(t, 10*time.Minute+30*time.Second, 30*time.Second) // 21m: the first check has run
		if l, _ := h.m.List(ctx, incident.Filter{}); len(l) != 0 {
			t.Fatalf("a call within the grace opened %d incident(s): %+v", len(l), l)
		}
		if p := h.rcv.got(); len(p) != 0 {
			t.Fatalf("a call within the grace paged: %v", minutes(p))
		}
		if overdue(t, h, hb) {
			t.Errorf("overdue at 21m: the interval has passed, the grace has not")
		}

		h.walk(t, time.Minute, 30*time.Second) // 22m: missed at 21m30s
		l, _ := h.m.List(ctx, incident.Filter{})
		if len(l) != 1 || l[0].Status != incident.Triggered || l[0].Source != "heartbeat" {
			t.Fatalf("after the miss: %+v", l)
		}
		if want := "heartbeat export missed: no call within 10m0s + 1m0s grace"; l[0].Title != want {
			t.Errorf("title %q, want %q", l[0].Title, want)
		}
		if !l[0].StartedAt.Equal(t0.Add(21*time.Minute + 30*time.Second)) {
			t.Errorf("started at %s, want 21m30s", l[0].StartedAt.Sub(t0))
		}
		if p := h.rcv.got(); len(p) != 1 || p[0].To != "dev1" {
			t.Fatalf("pages %v, want dev1 once", minutes(p))
		}
		if !overdue(t, h, hb) {
			t.Errorf("not overdue after the miss")
		}

		if err := h.m.Beat(ctx, hb); err != nil {
			t.Fatal(err)
		}
		if got, _ := h.m.Get(ctx, l[0].ID); got.Status != incident.Resolved {
			t.Fatalf("after the next call: %s, want resolved", got.Status)
		}
		if overdue(t, h, hb) {
			t.Errorf("overdue right after a call")
		}
		if l, _ := h.m.List(ctx, incident.Filter{}); len(l) != 1 {
			t.Errorf("incidents after the next call: %d, want the one resolved", len(l))
		}
	})
}

// A configured grace replaces the default, NoGrace removes it, and the
// status reports the grace in effect.
func TestHeartbeatExplicitGrace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		lenient := incident.Heartbeat{Name: "lenient", Service: "checkout", Interval: 10 * time.Minute, Grace: 5 * time.Minute, Severity: "sev3"}
		strict := incident.Heartbeat{Name: "strict", Service: "checkout", Interval: 10 * time.Minute, Grace: incident.NoGrace, Severity: "sev3"}
		for _, hb := range []incident.Heartbeat{lenient, strict} {
			if err := h.m.Beat(ctx, hb); err != nil {
				t.Fatal(err)
			}
		}
		st, err := h.m.Heartbeats(ctx, []incident.Heartbeat{lenient, strict}, h.clk.Now())
		if err != nil || st[0].Grace != 5*time.Minute || st[1].Grace != 0 {
			t.Fatalf("status %+v %v, want the grace in effect: 5m and 0", st, err)
		}
		h.walk(t, 14*time.Minute, time.Minute)
		l, _ := h.m.List(ctx, incident.Filter{})
		if len(l) != 1 || l[0].Title != "heartbeat strict missed: no call within 10m0s" {
			t.Fatalf("at 14m: %+v, want strict's incident only", l)
		}
		if !l[0].StartedAt.Equal(t0.Add(10 * time.Minute)) {
			t.Errorf("strict missed at %s, want 10m", l[0].StartedAt.Sub(t0))
		}
		h.walk(t, 2*time.Minute, time.Minute)
		if l, _ := h.m.List(ctx, incident.Filter{}); len(l) != 2 {
			t.Fatalf("at 16m: %d incidents, want lenient's too", len(l))
		}
	})
}

// The time scale applies to the grace as to the interval.
func TestHeartbeatGraceScaled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		h.set.TimeScale = 0.01 // 10m + 1m grace: 6.6 s
		ctx := context.Background()
		hb := incident.Heartbeat{Name: "export", Service: "checkout", Interval: 10 * time.Minute, Severity: "sev3"}
		if err := h.m.Beat(ctx, hb); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 6*time.Second+500*time.Millisecond, 100*time.Millisecond)
		if l, _ := h.m.List(ctx, incident.Filter{}); len(l) != 0 || overdue(t, h, hb) {
			t.Fatalf("at 6.5 s, within the scaled grace: %+v", l)
		}
		h.walk(t, 200*time.Millisecond, 100*time.Millisecond)
		if l, _ := h.m.List(ctx, incident.Filter{}); len(l) != 1 || !overdue(t, h, hb) {
			t.Fatalf("at 6.7 s, past the scaled grace: %+v", l)
		}
	})
}
