package slo

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// A cumulative series through a first point, increases, a retry, a reset by
// restart (new start time), a reset without a start time change (lower
// total) and a rescaled histogram whose good count falls: each row's
// expectation is the hand-computed difference with the state before it.
func TestCumulativeDelta(t *testing.T) {
	start := t0.Add(-2 * time.Minute)
	restart := t0.Add(10 * time.Minute)
	pt := func(st time.Time, at time.Duration, good, total int64) SeriesPoint {
		return SeriesPoint{Cumulative: true, Start: st, Time: t0.Add(at), Good: good, Total: total}
	}
	steps := []struct {
		name              string
		p                 SeriesPoint
		good, total       int64
		outcome           string
		stateGood, stateT int64
	}{
		// Started 2 min before its time: counted in full.
		{"first", pt(start, 0, 90, 100), 90, 100, SeriesFirst, 90, 100},
		// 150-100 = 50 more, 130-90 = 40 of them good.
		{"increase", pt(start, time.Minute, 130, 150), 40, 50, SeriesApplied, 130, 150},
		// The same point again (an exporter's retry): nothing.
		{"retry", pt(start, time.Minute, 130, 150), 0, 0, SeriesStale, 130, 150},
		// An older point arriving late: nothing.
		{"late", pt(start, 30*time.Second, 100, 120), 0, 0, SeriesStale, 130, 150},
		// No new events: a zero delta, still applied.
		{"flat", pt(start, 2*time.Minute, 130, 150), 0, 0, SeriesApplied, 130, 150},
		// The process restarted at t0+10m: 7/8 since then, in full.
		{"restart", pt(restart, 11*time.Minute, 7, 8), 7, 8, SeriesReset, 7, 8},
		// 20-8 = 12 more, 10-7 = 3 good.
		{"after restart", pt(restart, 12*time.Minute, 10, 20), 3, 12, SeriesApplied, 10, 20},
		// Same start, total fell from 20 to 5: a reset, 4/5 in full.
		{"lower total", pt(restart, 13*time.Minute, 4, 5), 4, 5, SeriesReset, 4, 5},
		// Rescaled: total +5 (10), good fell from 4 to 3: 0 good, not -1.
		{"good falls", pt(restart, 14*time.Minute, 3, 10), 0, 5, SeriesApplied, 3, 10},
		// Good rose by 9 but total by 2 only: good capped at 2.
		{"good capped", pt(restart, 15*time.Minute, 12, 12), 2, 2, SeriesApplied, 12, 12},
		// A restart whose start is 20 min before its time: a baseline.
		{"old restart", pt(t0, 36*time.Minute, 500, 600), 0, 0, SeriesBaseline, 500, 600},
		// Counted from the baseline: 610-600 = 10, 505-500 = 5 good.
		{"after baseline", pt(t0, 37*time.Minute, 505, 610), 5, 10, SeriesApplied, 505, 610},
	}
	var prev *SeriesState
	for _, s := range steps {
		good, total, next, outcome := CumulativeDelta(prev, s.p)
		if good != s.good || total != s.total || outcome != s.outcome || next.Good != s.stateGood || next.Total != s.stateT {
			t.Errorf("%s: got %d/%d %s state %d/%d, want %d/%d %s state %d/%d", s.name, good, total, outcome, next.Good, next.Total,
				s.good, s.total, s.outcome, s.stateGood, s.stateT)
		}
		prev = &next
	}

	// A first point without a start time, or started long before: a
	// baseline.
	for _, p := range []SeriesPoint{pt(time.Time{}, 0, 5, 5), pt(t0.Add(-FirstPointMaxAge-time.Second), 0, 5, 5)} {
		if g, tot, _, o := CumulativeDelta(nil, p); g != 0 || tot != 0 || o != SeriesBaseline {
			t.Errorf("first point started %v: %d/%d %s, want a baseline", p.Start, g, tot, o)
		}
	}
}

// IngestOTLP keeps the series state in the database: a second store on
// the same database (another replica, or a restart) continues the deltas,
// a repeated request hash changes nothing, and delta points add as they
// are.
func TestIngestOTLP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		def := def28d(0.99)
		defs := map[string]*Definition{def.Name: def}
		start := t0.Add(-5 * time.Minute)
		cum := func(at time.Duration, good, total int64) SeriesPoint {
			return SeriesPoint{SLO: def.Name, Series: "s1", Cumulative: true, Start: start, Time: t0.Add(at), Good: good, Total: total}
		}
		res, err := NewStore(d).IngestOTLP(ctx, "r1", []SeriesPoint{cum(-2*time.Minute, 95, 100)}, defs, t0)
		if err != nil || res.Applied != 1 {
			t.Fatalf("first: %+v %v", res, err)
		}
		// The same request again: a duplicate, nothing added.
		res, err = NewStore(d).IngestOTLP(ctx, "r1", []SeriesPoint{cum(-2*time.Minute, 95, 100)}, defs, t0)
		if err != nil || !res.Duplicate {
			t.Fatalf("repeat: %+v %v", res, err)
		}
		// Another store: 160-100 = 60 more, 150-95 = 55 good, in minute
		// t0-1m; and a delta series adding 10/10 in minute t0-1m, and a
		// stale point of s1.
		pts := []SeriesPoint{
			cum(-time.Minute, 150, 160),
			cum(-2*time.Minute, 95, 100),
			{SLO: def.Name, Series: "d1", Start: t0.Add(-2 * time.Minute), Time: t0.Add(-time.Minute), Good: 10, Total: 10},
		}
		res, err = NewStore(d).IngestOTLP(ctx, "r2", pts, defs, t0)
		if err != nil || res.Applied != 2 || res.Stale != 1 {
			t.Fatalf("second: %+v %v", res, err)
		}
		sum, ok, err := NewStore(d).Sum(ctx, def.Name, t0.Add(-time.Hour), t0)
		// 95/100 + 55/60 + 10/10 = 160/170.
		if err != nil || !ok || sum.Good != 160 || sum.Total != 170 {
			t.Fatalf("sum = %d/%d %v %v, want 160/170", sum.Good, sum.Total, ok, err)
		}
		minute, _, _ := NewStore(d).Sum(ctx, def.Name, t0.Add(-time.Minute), t0)
		if minute.Good != 65 || minute.Total != 70 {
			t.Errorf("minute t0-1m = %d/%d, want 65/70", minute.Good, minute.Total)
		}
		// The evaluation reads it: 160/170 in the window.
		svc, err := NewService(Options{Store: NewStore(d), Definitions: func() []*Definition { return []*Definition{def} }, Registry: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := svc.Status(ctx, def.Name, t0.Add(time.Minute)); err != nil || val(st.Good) != 160 || val(st.Total) != 170 {
			t.Errorf("status: %v/%v %v", val(st.Good), val(st.Total), err)
		}
		// A point of an SLO not among defs is refused, nothing written.
		if _, err := NewStore(d).IngestOTLP(ctx, "r3", []SeriesPoint{{SLO: "nope", Series: "x", Time: t0}}, defs, t0); err == nil {
			t.Error("unknown SLO accepted")
		}
		// Pruning forgets request hashes after a day and series after a week.
		if _, err := NewStore(d).Prune(ctx, t0.Add(8*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM slo_otlp_series) + (SELECT COUNT(*) FROM slo_otlp_requests)`).Scan(&n); err != nil || n != 0 {
			t.Errorf("after prune: %d rows, %v", n, err)
		}
	})
}
