package slo

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// The timeslices reference day: 100 requests a minute for the 24 hours
// [t0-24h, t0), in 60-minute slices that are good when at least 95 % of
// their requests succeed (timeSliceTarget 0.95). Hours 3, 15 and 23 lose
// 10 requests a minute (90 %: bad); hour 10 loses exactly 5 a minute (95 %:
// good, the target is inclusive); every other hour loses none. Hour 23 is
// the last hour, in the minute span of the evaluation at t0; hours 3 and
// 15 are read from the hour rollups.
var refDayBad = map[int]int64{3: 10, 10: 5, 15: 10, 23: 10}

// refDay returns the reference day's minutes, one NativeBucket a minute.
func refDay() []NativeBucket {
	day := t0.Add(-24 * time.Hour)
	var out []NativeBucket
	for m := range 24 * 60 {
		bad := refDayBad[m/60]
		out = append(out, NativeBucket{Start: day.Add(time.Duration(m) * time.Minute), Good: 100 - bad, Total: 100})
	}
	return out
}

// refDayDef is the reference day's SLO: Timeslices, one-day rolling
// window, objective 0.85 (the budget is 15 % of the slices: 3.6 of 24).
func refDayDef() *Definition {
	return &Definition{
		Name: "slices-ref", Service: "checkout", Objective: 0.85, Method: Timeslices,
		TimeSliceWindow: time.Hour, TimeSliceTarget: 0.95,
		Window:    Window{Rolling: 24 * time.Hour},
		Alerting:  DefaultPolicy(24 * time.Hour),
		Indicator: Indicator{Source: SourceNative},
	}
}

// TestTimeslicesHandComputed is the hand-computed reference for Timeslices
// budgeting: the reference day ingested (an hour a batch) into the store
// of each engine, evaluated 30 s after its end by a whole read of the
// store (Store.Load) and by the evaluator (Service, through its cache).
func TestTimeslicesHandComputed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		def := refDayDef()
		day := refDay()
		for h := range 24 {
			if _, err := st.Ingest(ctx, def.Name, "ref", "", day[h*60:(h+1)*60], def.TimeSliceWindow, def.TimeSliceTarget, t0); err != nil {
				t.Fatal(err)
			}
		}
		now := t0.Add(30 * time.Second)
		from, _ := def.Window.Bounds(now)
		ser, err := st.Load(ctx, def, from, now)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return []*Definition{def} }})
		if err != nil {
			t.Fatal(err)
		}
		cached, err := svc.Status(ctx, def.Name, now)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]Status{"store": Evaluate(def, &ser, now), "evaluator": cached} {
			checkRefDay(t, name, s)
		}
	})
}

func checkRefDay(t *testing.T, name string, st Status) {
	t.Helper()
	// 24 slices with data, 21 good (hours 3, 15 and 23 bad; hour 10 at
	// exactly 0.95 good).
	near(t, name+" good slices", val(st.Good), 21, 0)
	near(t, name+" total slices", val(st.Total), 24, 0)
	near(t, name+" sli", val(st.SLI), 0.875, 1e-9) // 21/24
	near(t, name+" attainment", val(st.Attainment), 87.5, 1e-9)
	// Budget: 15 % of the slices. Bad share 3/24 = 0.125 spends
	// 0.125/0.15 = 0.833333 of it; 0.166667 is left. The window's 1440
	// minutes × 0.15 = 216 minutes of budget, 0.166667 × 216 = 36 left.
	near(t, name+" budget total", st.ErrorBudget.Total, 0.15, 1e-9)
	near(t, name+" consumed", val(st.ErrorBudget.Consumed), 0.833333, 1e-6)
	near(t, name+" remaining", val(st.ErrorBudget.Remaining), 0.166667, 1e-6)
	near(t, name+" total minutes", st.ErrorBudget.TotalMinutes, 216, 1e-9)
	near(t, name+" remaining minutes", val(st.ErrorBudget.RemainingMinutes), 36, 0.005)
	if st.Status != StatusWarning { // 0.1 ≤ 0.166667 < 0.5
		t.Errorf("%s status = %s, want warning", name, st.Status)
	}
	// Burn rate = bad slices / slices / 0.15, over the slices that start
	// inside the window [t0-w, t0):
	//   1h: hour 23 alone, 1/1          → 6.666667
	//   2h: hours 22–23, 1/2            → 3.333333
	//   6h: hours 18–23, 1/6            → 1.111111
	//   1d: the day, 3/24               → 0.833333
	//   3d: the same 24 slices          → 0.833333
	// 5m and 30m hold no slice start: no burn rate (null, not 0).
	for w, want := range map[string]float64{"1h": 1 / 0.15, "2h": 0.5 / 0.15, "6h": 1.0 / 6 / 0.15, "1d": 0.125 / 0.15, "3d": 0.125 / 0.15} {
		near(t, name+" burn "+w, val(st.BurnRates[w]), want, 1e-6)
	}
	for _, w := range []string{"5m", "30m"} {
		if st.BurnRates[w] != nil {
			t.Errorf("%s burn %s = %v, want null (no slice starts in it)", name, w, *st.BurnRates[w])
		}
	}
	// Thresholds of DefaultPolicy(24h): page 1h/5m above 0.48 and 6h/30m
	// above 0.2, whose short windows have no burn rate: no page. Ticket
	// 1d/2h above 0.1: 0.833 and 3.33, firing (the guard counts events:
	// 144,000 in the day, 6,000 in the last hour).
	if st.Alerts.Page.Firing {
		t.Errorf("%s page firing: %+v", name, st.Alerts.Page)
	}
	if !st.Alerts.Ticket.Firing {
		t.Errorf("%s ticket not firing: %+v", name, st.Alerts.Ticket)
	}
}
