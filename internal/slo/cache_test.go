package slo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// TestCacheMatchesStore: the evaluator's in-memory data, kept up to date
// from what changed, gives the same status as a whole read of the store
// at every step of a run with traffic, idle spells, late and early events,
// rollups written directly, time crossing hours, and a second evaluator
// (another replica) that looks less often, on both engines.
func TestCacheMatchesStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		occ := def28d(0.99)
		occ.Name = "occ"
		occ.Alerting.MinEvents = 5
		ts := def28d(0.9)
		ts.Name, ts.Method, ts.TimeSliceWindow, ts.TimeSliceTarget = "slices", Timeslices, 5*time.Minute, 0.95
		cal := def28d(0.999)
		cal.Name, cal.Window = "cal", Window{Unit: "Day", Count: 1}
		defs := []*Definition{cal, occ, ts}
		opts := Options{Store: st, Definitions: func() []*Definition { return defs }}
		a, err := NewService(opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewService(opts)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		now := t0.Add(-90 * time.Minute)
		for step := range 120 {
			now = now.Add(time.Duration(1+r.IntN(17))*time.Minute + time.Duration(r.IntN(60))*time.Second)
			for _, def := range defs {
				if r.IntN(4) == 0 {
					continue // idle
				}
				var bs []NativeBucket
				for range 1 + r.IntN(4) {
					at := now.Add(-time.Duration(r.IntN(20)) * time.Minute)
					switch r.IntN(10) {
					case 0: // late, beyond the minute retention
						at = now.Add(-time.Duration(80+r.IntN(200)) * time.Hour)
					case 1: // early
						at = now.Add(time.Duration(r.IntN(5)) * time.Minute)
					case 2: // a few hours late
						at = now.Add(-time.Duration(1+r.IntN(10)) * time.Hour)
					}
					total := int64(r.IntN(50))
					nb := NativeBucket{Start: at.Truncate(time.Minute), Total: total, Good: total - int64(r.IntN(int(total)/5+1))}
					if r.IntN(2) == 0 {
						nb.Latency = NewLatency()
						for range 1 + r.IntN(5) {
							if err := nb.Latency.Add(float64(5 + r.IntN(900))); err != nil {
								t.Fatal(err)
							}
						}
					}
					bs = append(bs, nb)
				}
				if _, err := st.Ingest(ctx, def.Name, "edge", fmt.Sprint(step, def.Name), bs, def.TimeSliceWindow, def.TimeSliceTarget, now); err != nil {
					t.Fatal(err)
				}
			}
			if step%25 == 7 {
				old := now.Add(-time.Duration(10+r.IntN(300)) * time.Hour).Truncate(time.Hour)
				if err := st.WriteRollups(ctx, "occ", []NativeBucket{{Start: old, Good: 90, Total: 100}}); err != nil {
					t.Fatal(err)
				}
			}
			check := func(svc *Service, who string) {
				sts, err := svc.EvaluateOnce(ctx, now)
				if err != nil {
					t.Fatal(err)
				}
				for i, def := range defs {
					from, _ := def.Window.Bounds(now)
					ser, err := st.Load(ctx, def, from, now)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := json.Marshal(Evaluate(def, &ser, now))
					got, _ := json.Marshal(sts[i])
					if string(got) != string(want) {
						t.Fatalf("step %d, %s, %s:\n got %s\nwant %s", step, who, def.Name, got, want)
					}
				}
			}
			check(a, "evaluator")
			if step%3 == 0 {
				check(b, "replica")
			}
			if step%5 == 0 {
				// A write, then the same instant again: one SLO, then all.
				more := []NativeBucket{{Start: now.Add(-time.Minute).Truncate(time.Minute), Good: 1, Total: 9}}
				if _, err := st.Ingest(ctx, "occ", "edge", fmt.Sprint("again", step), more, 0, 0, now); err != nil {
					t.Fatal(err)
				}
				got, err := a.Status(ctx, "occ", now)
				if err != nil {
					t.Fatal(err)
				}
				from, _ := occ.Window.Bounds(now)
				ser, err := st.Load(ctx, occ, from, now)
				if err != nil {
					t.Fatal(err)
				}
				want := Evaluate(occ, &ser, now)
				if g, w := fmt.Sprint(val(got.Good), val(got.Total)), fmt.Sprint(val(want.Good), val(want.Total)); g != w {
					t.Fatalf("step %d, status after a write: %s, want %s", step, g, w)
				}
				check(a, "evaluator at the same instant")
			}
		}
	})
}

// TestChangedUsesIndex: the query a cycle reads the changed buckets with
// looks each SLO up in the (slo, version) index, on both engines, for a
// store of 2,000 SLOs × 1,000 hours. Without an upper bound on the
// version, PostgreSQL's planner expected a third of each SLO's buckets
// and scanned the whole table every cycle (2 s a cycle for 2,000 SLOs ×
// 28 d, 0.15 s with the index).
func TestChangedUsesIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// SQLite's plan does not depend on the table's size; PostgreSQL's
		// does, and a small table is scanned whole, rightly.
		n := 2000
		if d.Dialect() == db.SQLite {
			n = 100
		}
		if _, err := d.Exec(ctx, fmt.Sprintf(`INSERT INTO slo_buckets (slo, res, start_ms, good, total, version)
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d),
h(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM h WHERE j < 999)
SELECT 'slo-' || i, 3600, CAST(j AS BIGINT) * 3600000, 99, 100, 0 FROM s, h`, n-1)); err != nil {
			t.Fatal(err)
		}
		explain := "EXPLAIN QUERY PLAN "
		if d.Dialect() == db.Postgres {
			explain = "EXPLAIN "
			if _, err := d.Exec(ctx, "ANALYZE slo_buckets"); err != nil {
				t.Fatal(err)
			}
		}
		since := map[string]int64{}
		for i := range n {
			since[fmt.Sprint("slo-", i)] = 1
		}
		arg, _ := json.Marshal(since)
		rows, err := d.Query(ctx, explain+changedQuery(d.Dialect()), string(arg), 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var plan string
		for rows.Next() {
			dest := make([]any, len(cols))
			var line string
			for i := range dest {
				dest[i] = new(any)
			}
			dest[len(dest)-1] = &line
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			plan += line + "\n"
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "slo_buckets_version") || strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "SCAN b") {
			t.Errorf("the changed buckets are not looked up in the (slo, version) index:\n%s", plan)
		}
	})
}

// A status asked for at a past instant (the dashboard's time range, the
// demo's history) answers for that instant and leaves the cache as it
// was: the next status at the present is the store's, burn windows and
// all.
func TestStatusInThePastKeepsTheCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		occ := def28d(0.99)
		occ.Name = "occ"
		defs := []*Definition{occ}
		svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return defs }})
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		var bs []NativeBucket
		for m := 6 * 60; m > 0; m-- {
			good := int64(100)
			if m < 40 {
				good = 80 // burning over the last 40 minutes
			}
			bs = append(bs, NativeBucket{Start: now.Add(-time.Duration(m) * time.Minute), Good: good, Total: 100})
		}
		if _, err := st.Ingest(ctx, "occ", "edge", "b1", bs, 0, 0, now); err != nil {
			t.Fatal(err)
		}
		want := func(at time.Time) string {
			from, _ := occ.Window.Bounds(at)
			ser, err := st.Load(ctx, occ, from, at)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(Evaluate(occ, &ser, at))
			return string(b)
		}
		for i, at := range []time.Time{now, now.Add(-3 * time.Hour), now, now.Add(-5 * time.Minute), now.Add(-26 * time.Hour), now} {
			got, err := svc.Status(ctx, "occ", at)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := string(must(json.Marshal(got))), want(at); g != w {
				t.Fatalf("status %d at %s:\n got %s\nwant %s", i, at.Format(time.RFC3339), g, w)
			}
		}
		// A fresh evaluator whose first status is a past one: the entry it
		// loads then holds what came after, and the present is exact.
		fresh, err := NewService(Options{Store: st, Definitions: func() []*Definition { return defs }})
		if err != nil {
			t.Fatal(err)
		}
		for i, at := range []time.Time{now.Add(-3 * time.Hour), now} {
			got, err := fresh.Status(ctx, "occ", at)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := string(must(json.Marshal(got))), want(at); g != w {
				t.Fatalf("fresh evaluator, status %d at %s:\n got %s\nwant %s", i, at.Format(time.RFC3339), g, w)
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestStatusInThePastKeepsTheLatest: a status asked for at a past instant
// does not replace the latest evaluation that freezes and Last read.
func TestStatusInThePastKeepsTheLatest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		occ := def28d(0.99)
		occ.Name = "occ"
		svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return []*Definition{occ} }})
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		var bs []NativeBucket
		for m := 6 * 60; m > 0; m-- {
			good := int64(100)
			if m < 40 {
				good = 0 // an outage over the last 40 minutes
			}
			bs = append(bs, NativeBucket{Start: now.Add(-time.Duration(m) * time.Minute), Good: good, Total: 100})
		}
		if _, err := st.Ingest(ctx, "occ", "edge", "b1", bs, 0, 0, now); err != nil {
			t.Fatal(err)
		}
		cur, err := svc.Status(ctx, "occ", now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Status(ctx, "occ", now.Add(-3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		last := svc.Last()
		if len(last) != 1 || !last[0].EvaluatedAt.Equal(now) || string(must(json.Marshal(last[0]))) != string(must(json.Marshal(cur))) {
			t.Fatalf("Last after a past status = %+v, want the status at %s", last, now.Format(time.RFC3339))
		}
		if frozen, _ := svc.Frozen(occ.Service); frozen != cur.Freeze.Active {
			t.Fatalf("frozen = %v, want %v as at %s", frozen, cur.Freeze.Active, now.Format(time.RFC3339))
		}
	})
}
