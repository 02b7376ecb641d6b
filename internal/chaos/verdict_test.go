package chaos

import (
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// Hand-computed verdicts. A 99.9 % SLO over 28 days (2,419,200 s) whose
// page condition is a burn rate of 13.44 with 20 events at least.
func TestJudge(t *testing.T) {
	slo := func(good, total float64) SLOData {
		return SLOData{SLO: "api", Objective: 0.999, Window: 28 * day, PageBurnRate: 13.44, MinEvents: 20, Good: good, Total: total}
	}
	span := 10 * time.Minute // 600 s
	cases := []struct {
		name    string
		in      []SLOData
		aborted bool
		verdict string
		burn    float64 // of the first SLO, -1 for null
		cost    float64
		reason  string
	}{
		// 0 bad: burn 0, cost 0.
		{"all good", []SLOData{slo(1000, 1000)}, false, Held, 0, 0, "every SLO held"},
		// 5 bad of 1000: burn 0.005/0.001 = 5; cost 5 × 600 / 2,419,200 = 0.00124008.
		{"burning but under the page", []SLOData{slo(995, 1000)}, false, Degraded, 5, 0.00124008, "error budget burned above the degraded share on api"},
		// 2 bad of 1000: burn 2, cost 2 × 600 / 2,419,200 = 0.000496032: under 0.1 %.
		{"slow burn", []SLOData{slo(998, 1000)}, false, Held, 2, 0.000496032, "every SLO held"},
		// 20 bad of 1000: burn 20 > 13.44 with 1000 events.
		{"page condition", []SLOData{slo(980, 1000)}, false, Broken, 20, 0.004960317, "page condition on api"},
		// 1 bad of 10: burn 100 but only 10 events: no page; cost 100 × 600 / 2,419,200 = 0.024801587.
		{"too few events to page", []SLOData{slo(9, 10)}, false, Degraded, 100, 0.024801587, "error budget burned above the degraded share on api"},
		{"aborted", []SLOData{slo(1000, 1000)}, true, Broken, 0, 0, "aborted: burn"},
		{"no events", []SLOData{slo(0, 0)}, false, Inconclusive, -1, 0, "no data for api"},
		{"unreadable", []SLOData{{SLO: "api", Objective: 0.999, Window: 28 * day, Error: "connection refused"}}, false, Inconclusive, -1, 0, "no data for api"},
		{"no SLO", nil, false, Inconclusive, -1, 0, "no SLO to judge the experiment by"},
		{"page alert fired", []SLOData{func() SLOData { d := slo(1000, 1000); d.PageFiring = true; return d }()}, false, Broken, 0, 0, "page condition on api"},
	}
	for _, c := range cases {
		j := Judge(c.in, span, 0.001, c.aborted, "burn")
		if j.Verdict != c.verdict || !strings.HasPrefix(j.Reason, c.reason) {
			t.Errorf("%s: %s (%s), want %s (%s)", c.name, j.Verdict, j.Reason, c.verdict, c.reason)
		}
		if len(c.in) == 0 {
			continue
		}
		got := j.Costs[0]
		switch {
		case c.burn < 0 && (got.BurnRate != nil || got.BudgetCost != nil):
			t.Errorf("%s: burn %v cost %v, want null", c.name, got.BurnRate, got.BudgetCost)
		case c.burn >= 0 && (got.BurnRate == nil || *got.BurnRate != c.burn || got.BudgetCost == nil || abs(*got.BudgetCost-c.cost) > 1e-9):
			t.Errorf("%s: burn %v cost %v, want %v and %v", c.name, deref(got.BurnRate), deref(got.BudgetCost), c.burn, c.cost)
		}
	}
	// One broken SLO breaks the run whatever the others say.
	j := Judge([]SLOData{slo(1000, 1000), {SLO: "errors", Objective: 0.99, Window: 28 * day, PageBurnRate: 13.44, MinEvents: 20, Good: 500, Total: 1000}}, span, 0.001, false, "")
	if j.Verdict != Broken || j.Reason != "page condition on errors" {
		t.Errorf("two SLOs: %s %s", j.Verdict, j.Reason)
	}
}

func TestAbort(t *testing.T) {
	d := SLOData{SLO: "api", Objective: 0.99, MinEvents: 20}
	for _, c := range []struct {
		good, total, limit float64
		want               bool
	}{
		{80, 100, 10, true},  // burn 20
		{95, 100, 10, false}, // burn 5
		{0, 10, 10, false},   // burn 100, but 10 events < 20
		{80, 100, 0, false},  // no limit
		{0, 0, 10, false},    // no events
		{89, 100, 10, true},  // burn 11
		{90, 100, 10, false}, // burn exactly 10: not above
	} {
		d.Good, d.Total = c.good, c.total
		if got, why := Abort([]SLOData{d}, c.limit); got != c.want {
			t.Errorf("%v of %v, limit %v: abort %v (%s), want %v", c.good, c.total, c.limit, got, why, c.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	for v, want := range map[string]int{Held: 0, Degraded: 1, Broken: 1, Inconclusive: 2, "": 2} {
		if got := ExitCode(v); got != want {
			t.Errorf("%q: %d, want %d", v, got, want)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}
