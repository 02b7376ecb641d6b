package slo

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func def28d(objective float64) *Definition {
	return &Definition{
		Name: "api", Service: "checkout", Objective: objective, Method: Occurrences,
		Window:    Window{Rolling: 28 * 24 * time.Hour},
		Alerting:  DefaultPolicy(28 * 24 * time.Hour),
		Indicator: Indicator{Source: SourceNative},
	}
}

// minutes returns per-minute buckets for [from, to) with total per minute
// and bad(minute start) bad events.
func minutes(from, to time.Time, total float64, bad func(time.Time) float64) []Bucket {
	var out []Bucket
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		b := bad(t)
		out = append(out, Bucket{Start: t, Counts: Counts{Good: total - b, Total: total}})
	}
	return out
}

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %v, want %v (±%v)", name, got, want, tol)
	}
}

// TestEvaluateHandComputed feeds known counts and checks every number.
func TestEvaluateHandComputed(t *testing.T) {
	def := def28d(0.999)
	// 28 days of 100 requests a minute. The last 5 minutes lose 10 a
	// minute; the 55 minutes before them lose 1 a minute.
	data := minutes(t0.Add(-28*24*time.Hour), t0, 100, func(m time.Time) float64 {
		age := t0.Sub(m)
		switch {
		case age <= 5*time.Minute:
			return 10
		case age <= time.Hour:
			return 1
		}
		return 0
	})
	s := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, data)
	st := Evaluate(def, &s, t0)

	// Burn rate = bad/total / (1-0.999):
	want := map[string]float64{
		"5m":  50.0 / 500 / 0.001,    // 100
		"30m": 75.0 / 3000 / 0.001,   // (50 + 25×1)/3000 → 25
		"1h":  105.0 / 6000 / 0.001,  // (50 + 55)/6000 → 17.5
		"2h":  105.0 / 12000 / 0.001, // 8.75
		"6h":  105.0 / 36000 / 0.001, // 2.916667
		"1d":  105.0 / 144000 / 0.001,
		"3d":  105.0 / 432000 / 0.001,
	}
	for w, v := range want {
		near(t, "burn "+w, val(st.BurnRates[w]), v, 1e-5)
	}
	// 28 d × 1440 × 100 = 4,032,000 requests, 105 bad.
	near(t, "total", val(st.Total), 4032000, 0)
	near(t, "sli", val(st.SLI), 1-105.0/4032000, 1e-9)                // 0.999973958
	near(t, "attainment", val(st.Attainment), 99.9973958, 1e-6)       // percent
	near(t, "consumed", val(st.ErrorBudget.Consumed), 0.026042, 1e-6) // 105/4032000/0.001
	near(t, "remaining", val(st.ErrorBudget.Remaining), 0.973958, 1e-6)
	near(t, "total minutes", st.ErrorBudget.TotalMinutes, 40.32, 1e-9)               // 40320 min × 0.001
	near(t, "remaining minutes", val(st.ErrorBudget.RemainingMinutes), 39.27, 0.006) // 0.973958 × 40.32
	if st.Status != StatusHealthy {
		t.Errorf("status = %s, want healthy", st.Status)
	}
	// Page: 1h 17.5 and 5m 100 both above 0.02 × 672 h / 1 h = 13.44.
	if !st.Alerts.Page.Firing {
		t.Errorf("page not firing: %+v", st.Alerts)
	}
	// Ticket: 1d 0.73 < 2.8 and 3d 0.24 < 0.933.
	if st.Alerts.Ticket.Firing {
		t.Errorf("ticket firing: %+v", st.Alerts)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultPolicyScaling(t *testing.T) {
	// 30 d: the workbook's numbers.
	p := DefaultPolicy(30 * 24 * time.Hour)
	got := []float64{p.Page[0].Threshold, p.Page[1].Threshold, p.Ticket[0].Threshold, p.Ticket[1].Threshold}
	for i, want := range []float64{14.4, 6, 3, 1} {
		near(t, "30d threshold", got[i], want, 1e-9)
	}
	// 7 d: 0.02×168 = 3.36, 0.05×168/6 = 1.4, 0.1×168/24 = 0.7, 0.1×168/72 = 0.2333.
	p = DefaultPolicy(7 * 24 * time.Hour)
	got = []float64{p.Page[0].Threshold, p.Page[1].Threshold, p.Ticket[0].Threshold, p.Ticket[1].Threshold}
	for i, want := range []float64{3.36, 1.4, 0.7, 0.233333} {
		near(t, "7d threshold", got[i], want, 1e-6)
	}
}

func TestStatusThresholds(t *testing.T) {
	for _, c := range []struct {
		remaining float64
		data      bool
		want      string
	}{
		{1, true, StatusHealthy}, {0.5, true, StatusHealthy}, {0.4999, true, StatusWarning},
		{0.1, true, StatusWarning}, {0.0999, true, StatusCritical}, {0.0001, true, StatusCritical},
		{0, true, StatusExhausted}, {-3, true, StatusExhausted}, {1, false, StatusNoData},
	} {
		if got := StatusOf(c.remaining, c.data); got != c.want {
			t.Errorf("StatusOf(%v, %v) = %s, want %s", c.remaining, c.data, got, c.want)
		}
	}
}

// TestNoTraffic: a window without events is no data, never a number: no
// SLI, no budget left or spent, no burn rate, no alert, no freeze, and the
// JSON says null with the reason.
func TestNoTraffic(t *testing.T) {
	def := def28d(0.999)
	def.FreezeBelow = 0.5
	s := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, minutes(t0.Add(-2*time.Hour), t0, 0, func(time.Time) float64 { return 0 }))
	st := Evaluate(def, &s, t0)
	if st.Status != StatusNoData || st.Reason != ReasonNoEvents || st.SLI != nil || st.Attainment != nil ||
		st.ErrorBudget.Remaining != nil || st.ErrorBudget.Consumed != nil || st.ErrorBudget.RemainingMinutes != nil ||
		st.Alerts.Page.Firing || st.Alerts.Ticket.Firing || st.Freeze.Active || st.P95Ms != nil {
		t.Errorf("no traffic: %+v", st)
	}
	// The budget's size is a fact of the definition: 40320 min × 0.001.
	if st.ErrorBudget.Total != 0.001 || st.ErrorBudget.TotalMinutes != 40.32 || val(st.Total) != 0 || val(st.Good) != 0 {
		t.Errorf("budget totals and counts: %+v good %v total %v", st.ErrorBudget, st.Good, st.Total)
	}
	if len(st.BurnRates) != len(BurnWindows) {
		t.Errorf("burn rates %v, want every window", st.BurnRates)
	}
	for w, v := range st.BurnRates {
		if v != nil {
			t.Errorf("burn %s = %v, want null", w, *v)
		}
	}
	b, err := json.Marshal(st) // json refuses NaN
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"sli":null`, `"attainment":null`, `"consumed":null`, `"remaining":null`, `"remaining_minutes":null`,
		`"total":0.001`, `"total_minutes":40.32`, `"5m":null`, `"3d":null`, `"status":"no_data"`, `"reason":"no events in the window"`, `"p95_latency_ms":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}

// TestIdleBurnWindow: with traffic earlier in the window but none in the
// last hours, the short windows have no burn rate (null, not 0) while the
// SLO has its numbers; a page cannot fire on an empty short window.
func TestIdleBurnWindow(t *testing.T) {
	def := def28d(0.999)
	// One day of 100 requests a minute, 10 % failing, ending 3 hours ago.
	data := minutes(t0.Add(-27*time.Hour), t0.Add(-3*time.Hour), 100, func(time.Time) float64 { return 10 })
	s := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, data)
	st := Evaluate(def, &s, t0)
	for _, w := range []string{"5m", "30m", "1h", "2h"} {
		if st.BurnRates[w] != nil {
			t.Errorf("burn %s = %v over a window without events, want null", w, *st.BurnRates[w])
		}
	}
	// 6 h holds 3 h of 10 % errors: burn 0.1/0.001 = 100.
	near(t, "burn 6h", val(st.BurnRates["6h"]), 100, 1e-9)
	near(t, "sli", val(st.SLI), 0.9, 1e-9)
	if st.Status != StatusExhausted || st.Reason != "" || st.Alerts.Page.Firing {
		t.Errorf("status %s reason %q page %+v", st.Status, st.Reason, st.Alerts.Page)
	}
}

// TestLowTrafficDoesNotPage: one failure out of three requests burns at
// 333× but stays under the minimum event count.
func TestLowTrafficDoesNotPage(t *testing.T) {
	def := def28d(0.999)
	data := []Bucket{
		{Start: t0.Add(-3 * time.Minute), Counts: Counts{Good: 1, Total: 1}},
		{Start: t0.Add(-2 * time.Minute), Counts: Counts{Good: 0, Total: 1}},
		{Start: t0.Add(-1 * time.Minute), Counts: Counts{Good: 1, Total: 1}},
	}
	s := NewSeries(t0.Add(-28*24*time.Hour), t0, nil, data)
	st := Evaluate(def, &s, t0)
	near(t, "5m burn", val(st.BurnRates["5m"]), 1.0/3/0.001, 1e-3)
	if st.Alerts.Page.Firing || st.Alerts.Ticket.Firing {
		t.Errorf("low traffic alerts: %+v", st.Alerts)
	}
	def.Alerting.MinEvents = 3
	st = Evaluate(def, &s, t0)
	if !st.Alerts.Page.Firing {
		t.Errorf("with min events 3 the page should fire: %+v", st.Alerts)
	}
}

// scenario runs a constant traffic of 1000 requests a minute with errRatio(t)
// and reports when the page and the ticket first fire, adding a minute of
// data at a time from start for span and evaluating every step.
func scenario(t *testing.T, start time.Time, span, step time.Duration, errRatio func(time.Time) float64) (page, ticket time.Duration) {
	t.Helper()
	def := def28d(0.999)
	page, ticket = -1, -1
	// Three healthy days before start, so that every window is full.
	data := minutes(start.Add(-72*time.Hour), start, 1000, func(time.Time) float64 { return 0 })
	for now := start; now.Before(start.Add(span)); now = now.Add(time.Minute) {
		r := errRatio(now)
		data = append(data, Bucket{Start: now, Counts: Counts{Good: 1000 * (1 - r), Total: 1000}})
		eval := now.Add(time.Minute)
		if eval.Sub(start)%step != 0 {
			continue
		}
		s := NewSeries(eval.Add(-28*24*time.Hour), eval, nil, data)
		st := Evaluate(def, &s, eval)
		if st.Alerts.Page.Firing && page < 0 {
			page = eval.Sub(start)
		}
		if st.Alerts.Ticket.Firing && ticket < 0 {
			ticket = eval.Sub(start)
		}
	}
	return page, ticket
}

// TestSpikePages: a sudden 20× error spike (2 % errors against a 0.1 %
// budget) pages when the 1 h burn crosses 13.44, which the workbook puts at
// 0.02 × 672 h / 20 = 40.32 min after the spike starts.
func TestSpikePages(t *testing.T) {
	spike := t0.Add(3 * time.Hour)
	page, _ := scenario(t, t0, 4*time.Hour+30*time.Minute, time.Minute, func(m time.Time) float64 {
		if m.Before(spike) {
			return 0
		}
		return 0.02
	})
	after := page - 3*time.Hour
	if page < 0 || after < 40*time.Minute || after > 42*time.Minute {
		t.Fatalf("page fired %v after the spike, want 40.32 min (41 with minute data)", after)
	}
}

// TestSlowBurnTickets: a steady 2× burn never pages (2 < 13.44 and < 5.6)
// and opens a ticket when the 3 d burn crosses 0.1 × 672/72 = 0.933, at
// 0.933/2 × 72 h = 33.6 h.
func TestSlowBurnTickets(t *testing.T) {
	page, ticket := scenario(t, t0, 40*time.Hour, 10*time.Minute, func(time.Time) float64 { return 0.002 })
	if page >= 0 {
		t.Errorf("slow burn paged after %v", page)
	}
	if ticket < 33*time.Hour || ticket > 35*time.Hour {
		t.Errorf("ticket fired after %v, want about 33.6 h", ticket)
	}
}

func TestCalendarBounds(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		name       string
		w          Window
		now        time.Time
		start, end time.Time
		hours      float64
	}{
		// February 2026 has 28 days: 672 h.
		{"february", Window{Unit: "Month", Count: 1, Location: time.UTC}, time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 672},
		// March 2026 in Berlin loses an hour to DST on the 29th: 31×24-1 = 743 h.
		{"march dst", Window{Unit: "Month", Count: 1, Location: berlin}, time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), 743},
		// Exactly at a boundary the new period starts.
		{"boundary", Window{Unit: "Month", Count: 1}, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), 720},
		// Weeks start on Monday by default.
		{"week", Window{Unit: "Week", Count: 1}, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), 168},
		// A month starting on the 31st clamps to shorter months.
		{"clamped", Window{Unit: "Month", Count: 1, Start: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), 744},
	} {
		s, e := c.w.Bounds(c.now)
		if !s.Equal(c.start) || !e.Equal(c.end) || e.Sub(s).Hours() != c.hours {
			t.Errorf("%s: bounds %v – %v (%v h), want %v – %v (%v h)", c.name, s, e, e.Sub(s).Hours(), c.start, c.end, c.hours)
		}
	}
}

func TestHistory(t *testing.T) {
	def := def28d(0.99)
	def.Window = Window{Rolling: 2 * time.Hour}
	// Hours of 100 requests: 1, 3 and 0 bad.
	hours := []Bucket{
		{Start: t0.Add(-3 * time.Hour), Counts: Counts{Good: 99, Total: 100}},
		{Start: t0.Add(-2 * time.Hour), Counts: Counts{Good: 97, Total: 100}},
		{Start: t0.Add(-1 * time.Hour), Counts: Counts{Good: 100, Total: 100}},
	}
	h := History(def, hours, t0.Add(-2*time.Hour), t0)
	if len(h) != 2 {
		t.Fatalf("%d points, want 2", len(h))
	}
	// At t0-1h the 2 h window holds 4 bad of 200: consumed 0.02/0.01 = 2, remaining -1.
	near(t, "remaining[0]", val(h[0].Remaining), -1, 1e-9)
	near(t, "sli[0]", val(h[0].SLI), 0.97, 1e-9)
	// At t0: 3 bad of 200 → 1.5 consumed → -0.5.
	near(t, "remaining[1]", val(h[1].Remaining), -0.5, 1e-9)
}

// TestSumsAgree: the one-pass window sums equal Series.Sum for windows of
// every kind (inside the minutes, reaching into the hours, at odd offsets).
func TestSumsAgree(t *testing.T) {
	now := t0.Add(17*time.Minute + 42*time.Second)
	var data []Bucket
	for m := now.Add(-5 * 24 * time.Hour).Truncate(time.Minute); m.Before(now); m = m.Add(time.Minute) {
		data = append(data, Bucket{Start: m, Counts: Counts{Good: float64(m.Minute() % 7), Total: 7}})
	}
	s := NewSeries(now.Add(-5*24*time.Hour), now, nil, data)
	ds := []time.Duration{time.Minute, 5 * time.Minute, 59 * time.Minute, 6 * time.Hour, 6*time.Hour + 17*time.Minute,
		6*time.Hour + 18*time.Minute, 7*time.Hour + 29*time.Minute, 7*time.Hour + 31*time.Minute, 24 * time.Hour, 72*time.Hour + 90*time.Second, 10 * 24 * time.Hour}
	got := s.Sums(ds)
	for i, d := range ds {
		if want := s.Sum(s.End.Add(-d)); got[i] != want {
			t.Errorf("window %v: Sums %+v, Sum %+v", d, got[i], want)
		}
	}
	// The minutes part is exact: 5 minutes hold 35 events.
	if got[1].Total != 35 {
		t.Errorf("5m total %v, want 35", got[1].Total)
	}
}

// val is *p, or NaN (which near reports) for nil.
func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
