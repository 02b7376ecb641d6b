package slo

import (
	"context"
	"encoding/json"
	"strings"
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
	// Burn rate = bad slices / slices / 0.15, over the complete slices
	// that end inside the window (t0-w, t0], as the generated rules count
	// them (internal/sli's reference of this day):
	//   5m:  hour 23 alone, the last complete slice (ends at t0), 1/1
	//                                   → 6.666667
	//   30m: hour 23 alone, 1/1         → 6.666667
	//   1h:  hour 23 alone, 1/1         → 6.666667
	//   2h:  hours 22–23, 1/2           → 3.333333
	//   6h:  hours 18–23, 1/6           → 1.111111
	//   1d:  the day, 3/24              → 0.833333
	//   3d:  the same 24 slices         → 0.833333
	for w, want := range map[string]float64{"5m": 1 / 0.15, "30m": 1 / 0.15, "1h": 1 / 0.15, "2h": 0.5 / 0.15, "6h": 1.0 / 6 / 0.15, "1d": 0.125 / 0.15, "3d": 0.125 / 0.15} {
		near(t, name+" burn "+w, val(st.BurnRates[w]), want, 1e-6)
	}
	// Thresholds of DefaultPolicy(24h): page 1h/5m above 0.48, both
	// 6.666667: firing (6h/30m above 0.2 holds as well: 1.11 and 6.67).
	// Ticket 1d/2h above 0.1: 0.833 and 3.33, firing (the guard counts
	// events: 144,000 in the day, 6,000 in the last hour).
	if !st.Alerts.Page.Firing || !strings.HasPrefix(st.Alerts.Page.Reason, "1h and 5m burn rates") {
		t.Errorf("%s page not firing on 1h and 5m: %+v", name, st.Alerts.Page)
	}
	if !st.Alerts.Ticket.Firing {
		t.Errorf("%s ticket not firing: %+v", name, st.Alerts.Ticket)
	}
}

// TestHourSlicesPage: with 60-minute slices the evaluator's short burn
// windows read the last complete slice, as the generated rules do, so a
// bad last hour pages on 1h and 5m; an idle last hour pages nothing. Each
// status is the evaluator's (through its cache) and equals a whole read
// of the store, on both engines.
func TestHourSlicesPage(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  map[int]int64 // requests lost a minute, by hour of the day
		idle int           // an hour without traffic (-1: none)
		// page and the burn rates at t0 (end of the day) and 10 minutes on
		page, pageLater bool
		burn, burnLater map[string]*float64
	}{
		{
			name: "bad last hour", bad: map[int]int64{23: 10}, idle: -1, page: true, pageLater: true,
			// At t0 the 5m, 30m and 1h windows hold hour 23 alone: 1/1
			// bad over 0.15. 10 minutes on, the 5m window holds no slice
			// end (the rules' 5m record has no sample then) and the page
			// holds on 6h/30m: 1/6 and 1/1 over 0.15, above 0.2.
			burn:      map[string]*float64{"5m": Float(1 / 0.15), "30m": Float(1 / 0.15), "1h": Float(1 / 0.15), "6h": Float(1.0 / 6 / 0.15)},
			burnLater: map[string]*float64{"5m": nil, "30m": Float(1 / 0.15), "1h": Float(1 / 0.15), "6h": Float(1.0 / 6 / 0.15)},
		},
		{
			name: "idle last hour", bad: map[int]int64{22: 10}, idle: 23,
			// Hour 23 has no slice: the 5m, 30m and 1h windows hold
			// nothing (null, not 0) and neither page condition holds.
			burn:      map[string]*float64{"5m": nil, "30m": nil, "1h": nil, "6h": Float(1.0 / 5 / 0.15)},
			burnLater: map[string]*float64{"5m": nil, "30m": nil, "1h": nil, "6h": Float(1.0 / 5 / 0.15)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				st := NewStore(d)
				def := refDayDef()
				day := t0.Add(-24 * time.Hour)
				var bs []NativeBucket
				for m := range 24 * 60 {
					if m/60 == tc.idle {
						continue
					}
					bs = append(bs, NativeBucket{Start: day.Add(time.Duration(m) * time.Minute), Good: 100 - tc.bad[m/60], Total: 100})
				}
				if _, err := st.Ingest(ctx, def.Name, "ref", "", bs, def.TimeSliceWindow, def.TimeSliceTarget, t0); err != nil {
					t.Fatal(err)
				}
				svc, err := NewService(Options{Store: st, Definitions: func() []*Definition { return []*Definition{def} }})
				if err != nil {
					t.Fatal(err)
				}
				for _, at := range []struct {
					now  time.Time
					page bool
					burn map[string]*float64
				}{{t0.Add(30 * time.Second), tc.page, tc.burn}, {t0.Add(10 * time.Minute), tc.pageLater, tc.burnLater}} {
					got, err := svc.Status(ctx, def.Name, at.now)
					if err != nil {
						t.Fatal(err)
					}
					from, _ := def.Window.Bounds(at.now)
					ser, err := st.Load(ctx, def, from, at.now)
					if err != nil {
						t.Fatal(err)
					}
					if g, w := string(must(json.Marshal(got))), string(must(json.Marshal(Evaluate(def, &ser, at.now)))); g != w {
						t.Fatalf("at %s the evaluator and the store differ:\n got %s\nwant %s", at.now.Format(time.RFC3339), g, w)
					}
					name := at.now.Format(time.RFC3339)
					for w, want := range at.burn {
						switch {
						case want == nil && got.BurnRates[w] != nil:
							t.Errorf("%s burn %s = %v, want null (no slice ends in it)", name, w, *got.BurnRates[w])
						case want != nil:
							near(t, name+" burn "+w, val(got.BurnRates[w]), *want, 1e-6)
						}
					}
					if got.Alerts.Page.Firing != at.page {
						t.Errorf("%s page firing = %v, want %v: %+v", name, got.Alerts.Page.Firing, at.page, got.Alerts.Page)
					}
					if at.page && at.now.Before(t0.Add(5*time.Minute)) && !strings.HasPrefix(got.Alerts.Page.Reason, "1h and 5m burn rates") {
						t.Errorf("%s page reason %q, want the 1h and 5m windows", name, got.Alerts.Page.Reason)
					}
				}
			})
		})
	}
}
