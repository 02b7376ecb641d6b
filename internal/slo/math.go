package slo

import (
	"math"
	"sort"
	"time"
)

// Counts are the good and total units of a span of time (events for
// Occurrences, time slices for Timeslices) and the events behind them.
type Counts struct {
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
	// Events is the number of events the units stand for: Total itself
	// for Occurrences, the events inside the slices for Timeslices (a
	// threshold indicator has no events: its Events are its slices). It
	// is never less than Total; a source that leaves it lower counts its
	// units as events (see EventCount).
	Events float64 `json:"events"`
}

// Add returns c + o.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Good + o.Good, c.Total + o.Total, c.Events + o.Events}
}

// EventCount is the number of events behind c: Events, or Total when that
// is larger (a source that does not count events apart).
func (c Counts) EventCount() float64 { return math.Max(c.Events, c.Total) }

// Bad is Total - Good, never below zero.
func (c Counts) Bad() float64 { return math.Max(0, c.Total-c.Good) }

// Ratio is Good/Total; ok is false when there is nothing to divide (no
// traffic is no data, never a ratio of 1). It never returns NaN.
func (c Counts) Ratio() (ratio float64, ok bool) {
	if c.Total <= 0 {
		return 0, false
	}
	return clamp01(c.Good / c.Total), true
}

// MinuteSpan is how much per-minute precision a Series keeps before now:
// every burn-rate window up to 6 h is exact to the minute.
const MinuteSpan = 6 * time.Hour

// Series is an SLO's data in the in-memory rollup form evaluation runs on:
// whole hours from HourStart up to MinuteStart, then whole minutes from
// MinuteStart up to End. End is the evaluation's minute boundary (the
// partial current minute is not part of any window). MinuteStart is an
// hour boundary at most MinuteSpan (plus the current hour) before End.
type Series struct {
	HourStart   time.Time
	Hours       []Counts
	MinuteStart time.Time
	Minutes     []Counts
	End         time.Time
	// LatencyP95Ms is the 95th percentile latency over the window in
	// milliseconds when the source has latency data, else negative.
	LatencyP95Ms float64
}

// SeriesLayout returns where a Series ending at now's minute boundary keeps
// hours and minutes for a window starting at from: hours cover
// [hourStart, minuteStart), minutes [minuteStart, end).
func SeriesLayout(from, now time.Time) (hourStart, minuteStart, end time.Time) {
	end = now.UTC().Truncate(time.Minute)
	minuteStart = end.Truncate(time.Hour).Add(-MinuteSpan)
	hourStart = from.UTC().Truncate(time.Hour)
	if hourStart.After(minuteStart) {
		hourStart = minuteStart
	}
	return hourStart, minuteStart, end
}

// Bucket is the counts of one span (a minute or an hour) that starts at
// Start.
type Bucket struct {
	Start time.Time
	Counts
}

// NewSeries lays minute buckets (and, for time before the minute span,
// hour buckets) into a Series for a window starting at from, evaluated at
// now. Buckets outside the layout are dropped; minute buckets that fall in
// the hour region are added to their hour, so a caller may pass minutes
// only.
func NewSeries(from, now time.Time, hours, minutes []Bucket) Series {
	hs, ms, end := SeriesLayout(from, now)
	s := Series{HourStart: hs, MinuteStart: ms, End: end, LatencyP95Ms: -1}
	s.Hours = make([]Counts, int(ms.Sub(hs)/time.Hour))
	s.Minutes = make([]Counts, int(end.Sub(ms)/time.Minute))
	put := func(b Bucket) {
		t := b.Start.UTC()
		switch {
		case !t.Before(ms) && t.Before(end):
			s.Minutes[int(t.Sub(ms)/time.Minute)] = s.Minutes[int(t.Sub(ms)/time.Minute)].Add(b.Counts)
		case !t.Before(hs) && t.Before(ms):
			i := int(t.Sub(hs) / time.Hour)
			s.Hours[i] = s.Hours[i].Add(b.Counts)
		}
	}
	for _, b := range hours {
		put(b)
	}
	for _, b := range minutes {
		put(b)
	}
	return s
}

// Sum returns the counts of the window [from, End). Minutes count when they
// start at or after from; hours count when at least half of the hour lies
// at or after from, so a window reaching into the hour region is exact to
// ±30 minutes at its start.
func (s *Series) Sum(from time.Time) Counts {
	var c Counts
	if !from.Before(s.MinuteStart) {
		i := int((from.Sub(s.MinuteStart) + time.Minute - 1) / time.Minute)
		for ; i < len(s.Minutes); i++ {
			c = c.Add(s.Minutes[i])
		}
		return c
	}
	for _, m := range s.Minutes {
		c = c.Add(m)
	}
	first := 0
	if from.After(s.HourStart) {
		first = int((from.Sub(s.HourStart) + 30*time.Minute - 1) / time.Hour)
	}
	for i := first; i < len(s.Hours); i++ {
		c = c.Add(s.Hours[i])
	}
	return c
}

// windowSums returns the counts of the windows [End-d, End) for every d in
// ds, in one backward pass over the minutes and one over the hours. ds must
// be sorted ascending. It works in whole minutes before End, without time
// arithmetic in the loops.
func (s *Series) windowSums(ds []time.Duration) []Counts {
	return windowSums(ds, len(s.Minutes), func(i int) Counts { return s.Minutes[i] },
		len(s.Hours), func(i int) Counts { return s.Hours[i] }, int64(s.End.Sub(s.HourStart)/time.Minute))
}

// windowSums is Series.windowSums over nm minutes and nh hours read
// through minute(i) and hour(i); base is the number of minutes from the
// first hour's start to the end.
func windowSums(ds []time.Duration, nm int, minute func(int) Counts, nh int, hour func(int) Counts, base int64) []Counts {
	out := make([]Counts, len(ds))
	lim := make([]int64, len(ds)) // the oldest minute offset before End each window holds
	for i, d := range ds {
		lim[i] = int64(d / time.Minute)
	}
	var acc Counts
	j := 0
	// Minute i starts n-i minutes before End.
	n := int64(nm)
	for i := n - 1; i >= 0 && j < len(ds); i-- {
		for j < len(ds) && n-i > lim[j] {
			out[j] = acc
			j++
		}
		acc = acc.Add(minute(int(i)))
	}
	// Hour i starts base-60i minutes before End; it counts while its middle
	// (30 minutes later) is inside the window.
	for i := int64(nh) - 1; i >= 0 && j < len(ds); i-- {
		for j < len(ds) && base-60*i-30 > lim[j] {
			out[j] = acc
			j++
		}
		acc = acc.Add(hour(int(i)))
	}
	for ; j < len(ds); j++ {
		out[j] = acc
	}
	return out
}

// BurnRate is how fast a window spends budget: its bad ratio over the
// allowed bad ratio (1 - objective). 1 spends the budget exactly over the
// SLO window. ok is false for a window without events: it has no burn
// rate (not 0).
func BurnRate(c Counts, objective float64) (rate float64, ok bool) {
	if c.Total <= 0 {
		return 0, false
	}
	if objective >= 1 {
		return 0, true
	}
	return finite(c.Bad() / c.Total / (1 - objective)), true
}

// Budget is an SLO's error budget over its window. Total and TotalMinutes
// are facts of the definition and always set; Consumed, Remaining and
// RemainingMinutes are nil when the window holds no events.
type Budget struct {
	// Total is the allowed bad ratio, 1 - objective.
	Total float64 `json:"total"`
	// Consumed is the share of the budget spent (may exceed 1).
	Consumed *float64 `json:"consumed"`
	// Remaining is 1 - Consumed (negative once overspent).
	Remaining *float64 `json:"remaining"`
	// RemainingMinutes is Remaining times TotalMinutes.
	RemainingMinutes *float64 `json:"remaining_minutes"`
	// TotalMinutes is the window's length in minutes times 1 - objective:
	// the minutes of full outage the budget allows.
	TotalMinutes float64 `json:"total_minutes"`
}

// ComputeBudget returns the budget of a window whose counts are c, for an
// objective and a window length; without events only its totals are set.
func ComputeBudget(c Counts, objective float64, window time.Duration) Budget {
	b := Budget{Total: round(1-objective, 9)}
	b.TotalMinutes = round(window.Minutes()*(1-objective), 4)
	if c.Total <= 0 {
		return b
	}
	consumed := 0.0
	if objective < 1 {
		consumed = finite(c.Bad() / c.Total / (1 - objective))
	}
	consumed = round(consumed, 6)
	remaining := round(1-consumed, 6)
	b.Consumed = &consumed
	b.Remaining = &remaining
	b.RemainingMinutes = Float(round(remaining*b.TotalMinutes, 2))
	return b
}

// Float returns a pointer to v, for the nullable numbers of Status.
func Float(v float64) *float64 { return &v }

// StatusOf classifies remaining budget: exhausted at or below 0, critical
// under 10 %, warning under 50 %, else healthy; no_data without events
// (remaining is then ignored).
func StatusOf(remaining float64, hasData bool) string {
	switch {
	case !hasData:
		return StatusNoData
	case remaining <= 0:
		return StatusExhausted
	case remaining < CriticalBelow:
		return StatusCritical
	case remaining < WarningBelow:
		return StatusWarning
	}
	return StatusHealthy
}

// Alert is the state of one alert severity.
type Alert struct {
	Firing bool `json:"firing"`
	// Reason names the condition that fires ("1h and 5m burn rates 20.1 and
	// 19.8 above 14.4"); empty when not firing.
	Reason string `json:"reason,omitempty"`
	// PendingSince is set while a condition holds that must hold for its
	// alertAfter before the alert fires: since when it holds.
	PendingSince *time.Time `json:"pending_since,omitempty"`

	// held are the conditions with an alertAfter that hold now; Service
	// completes the alert from the stored time each started to hold.
	held []heldCondition
}

// Alerts are an SLO's page and ticket alerts.
type Alerts struct {
	Page   Alert `json:"page"`
	Ticket Alert `json:"ticket"`
}

// Freeze is a service's release-freeze state.
type Freeze struct {
	Active bool   `json:"active"`
	Reason string `json:"reason,omitempty"`
}

// Status is an SLO evaluated at one moment. Its JSON is the contract the
// API, CLI, gates and dashboard share (see the package documentation): a
// number that the data cannot give is null, never 0, 1 or 100 %.
type Status struct {
	Name        string    `json:"name"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Objective   float64   `json:"objective"`
	Window      string    `json:"window"`
	WindowStart time.Time `json:"window_start"`
	// SLI (a ratio) and Attainment (a percent) are nil when the window
	// holds no events or the source could not be read.
	SLI        *float64 `json:"sli"`
	Attainment *float64 `json:"attainment"`
	// Good and Total are the window's units (0 when the source was read
	// and held nothing); nil when the source could not be read.
	Good        *float64 `json:"good"`
	Total       *float64 `json:"total"`
	ErrorBudget Budget   `json:"error_budget"`
	// BurnRates has every window of BurnWindows; a window without events
	// maps to nil.
	BurnRates map[string]*float64 `json:"burn_rates"`
	Status    string              `json:"status"`
	// Reason says why Status is no_data ("no events in the window",
	// "source unreadable: …"); empty otherwise.
	Reason string `json:"reason,omitempty"`
	Alerts Alerts `json:"alerts"`
	Freeze Freeze `json:"freeze"`
	// P95Ms is the window's 95th percentile latency in milliseconds; nil
	// when the SLI records no latency or the window has none.
	P95Ms       *float64  `json:"p95_latency_ms"`
	Source      string    `json:"source"`
	EvaluatedAt time.Time `json:"evaluated_at"`
	// Error is the source's error when it could not be read (Status is
	// then no_data and Reason starts with "source unreadable: ").
	Error string `json:"error,omitempty"`
}

// Reasons for a no_data Status.
const (
	ReasonNoEvents   = "no events in the window"
	ReasonUnreadable = "source unreadable: "
)

// Unreadable turns st into the Status of an SLO whose source could not be
// read: no_data, every number that needs data nil, no alert and no freeze;
// Reason is ReasonUnreadable and the error, Error "reading the SLI failed: "
// and the error.
func Unreadable(st Status, err error) Status {
	st.SLI, st.Attainment, st.Good, st.Total, st.P95Ms = nil, nil, nil, nil, nil
	st.ErrorBudget.Consumed, st.ErrorBudget.Remaining, st.ErrorBudget.RemainingMinutes = nil, nil, nil
	for k := range st.BurnRates {
		st.BurnRates[k] = nil
	}
	st.Status, st.Reason, st.Error = StatusNoData, ReasonUnreadable+err.Error(), "reading the SLI failed: "+err.Error()
	st.Alerts, st.Freeze = Alerts{}, Freeze{}
	return st
}

// burnNames are the keys of Status.BurnRates, in BurnWindows order.
var burnNames = func() []string {
	out := make([]string, len(BurnWindows))
	for i, d := range BurnWindows {
		out[i] = FormatDuration(d)
	}
	return out
}()

// Data is an SLO's data as evaluation reads it: the counts of windows that
// end at WindowEnd. Series (native data) and the Prometheus source
// implement it.
type Data interface {
	// WindowEnd is the end of every window.
	WindowEnd() time.Time
	// Sums returns the counts of [WindowEnd-d, WindowEnd) for each d of ds,
	// which is sorted ascending.
	Sums(ds []time.Duration) []Counts
	// P95Ms is the window's 95th percentile latency in milliseconds, or a
	// negative number when the source has no latency data.
	P95Ms() float64
}

// WindowEnd is the end of the Series' windows.
func (s *Series) WindowEnd() time.Time { return s.End }

// Sums implements Data.
func (s *Series) Sums(ds []time.Duration) []Counts { return s.windowSums(ds) }

// P95Ms implements Data.
func (s *Series) P95Ms() float64 { return s.LatencyP95Ms }

// Windows lists, sorted and without repeats, every window Evaluate reads
// for def when its data end at end: the burn windows, the alert windows and
// the span from the SLO window's start to end.
func Windows(def *Definition, end time.Time) []time.Duration {
	from, _ := def.Window.Bounds(end)
	need := append([]time.Duration(nil), BurnWindows...)
	for _, c := range append(append([]BurnCondition(nil), def.Alerting.Page...), def.Alerting.Ticket...) {
		need = append(need, c.Long, c.Short)
	}
	if span := end.Sub(from); span > 0 {
		need = append(need, span)
	}
	sort.Slice(need, func(i, j int) bool { return need[i] < need[j] })
	out := need[:0]
	for i, d := range need {
		if i == 0 || d != need[i-1] {
			out = append(out, d)
		}
	}
	return out
}

// Evaluate computes an SLO's Status from its data at now: SLI and
// attainment over the window, error budget, burn rates over BurnWindows,
// alert state and freeze. It is pure: the same inputs give the same output.
func Evaluate(def *Definition, data Data, now time.Time) Status {
	from, to := def.Window.Bounds(now)
	length := to.Sub(from)
	if def.Window.IsRolling() {
		length = def.Window.Rolling
	}
	end := data.WindowEnd()
	wfrom, _ := def.Window.Bounds(end)
	var need []time.Duration
	var sums []Counts
	if d, ok := data.(*sumsData); ok && d.def == def {
		need, sums = d.need, d.list // the cache's sums of Windows(def, end)
	} else {
		need = Windows(def, end)
		sums = data.Sums(need)
	}
	by := make(map[time.Duration]Counts, len(need))
	for i, d := range need {
		by[d] = sums[i]
	}
	sloSpan := end.Sub(wfrom)
	win := by[sloSpan]
	st := Status{
		Name: def.Name, Service: def.Service, Environment: def.Env(), Objective: def.Objective,
		Window: def.Window.String(), WindowStart: from, Source: def.Indicator.Source,
		Good: Float(round(win.Good, 3)), Total: Float(round(win.Total, 3)), EvaluatedAt: now,
	}
	if r, ok := win.Ratio(); ok {
		st.SLI = Float(round(r, 9))
		st.Attainment = Float(round(r*100, 6))
	}
	st.ErrorBudget = ComputeBudget(win, def.Objective, length)
	remaining := 0.0
	if st.ErrorBudget.Remaining != nil {
		remaining = *st.ErrorBudget.Remaining
	}
	st.Status = StatusOf(remaining, win.Total > 0)
	if st.Status == StatusNoData {
		st.Reason = ReasonNoEvents
	}
	st.BurnRates = make(map[string]*float64, len(BurnWindows))
	for i, d := range BurnWindows {
		st.BurnRates[burnNames[i]] = nil
		if b, ok := BurnRate(by[d], def.Objective); ok {
			st.BurnRates[burnNames[i]] = Float(round(b, 6))
		}
	}
	st.Alerts.Page = evalConditions(def, def.Alerting.Page, by, now)
	st.Alerts.Ticket = evalConditions(def, def.Alerting.Ticket, by, now)
	if p := data.P95Ms(); p >= 0 {
		st.P95Ms = Float(round(p, 3))
	}
	if win.Total > 0 && (remaining < def.FreezeBelow || st.Status == StatusExhausted) {
		st.Freeze = Freeze{Active: true, Reason: freezeReason(def, remaining)}
	}
	return st
}

func freezeReason(def *Definition, remaining float64) string {
	return "SLO " + def.Name + " has " + formatPercent(remaining) + " of its error budget left (freeze below " + formatPercent(def.FreezeBelow) + ")"
}

// evalConditions returns the alert of one severity: firing on the first
// condition without an alertAfter that holds; the conditions with an
// alertAfter that hold are kept in held, and make the alert pending since
// now until Service knows since when they hold (see applyHolds). A
// condition holds only when its long window holds at least the policy's
// minimum of events (events, not time slices: MinEventsFor) and both
// windows have a burn rate.
func evalConditions(def *Definition, conds []BurnCondition, by map[time.Duration]Counts, now time.Time) Alert {
	var a Alert
	for _, c := range conds {
		long, short := by[c.Long], by[c.Short]
		if long.EventCount() < def.MinEventsFor(c.Long) {
			continue
		}
		bl, okl := BurnRate(long, def.Objective)
		bs, oks := BurnRate(short, def.Objective)
		if !okl || !oks || !c.Compare(bl) || !c.Compare(bs) {
			continue
		}
		reason := FormatDuration(c.Long) + " and " + FormatDuration(c.Short) +
			" burn rates " + formatFloat(bl) + " and " + formatFloat(bs) + " " + opWords[c.Op] + " " + formatFloat(c.Threshold)
		if c.AlertAfter > 0 {
			a.held = append(a.held, heldCondition{key: c.Key(), after: c.AlertAfter, reason: reason})
			if a.PendingSince == nil {
				a.PendingSince = &now
			}
			continue
		}
		if !a.Firing {
			a.Firing, a.Reason = true, reason
		}
	}
	if a.Firing {
		a.PendingSince = nil
	}
	return a
}

var opWords = map[string]string{"": "above", "gt": "above", "gte": "at or above", "lt": "below", "lte": "at or below"}

// HistoryPoint is the budget at the end of one hour. SLI is nil for an
// hour without events, Remaining for an SLO window without events.
type HistoryPoint struct {
	Time      time.Time `json:"time"`
	SLI       *float64  `json:"sli"`
	Remaining *float64  `json:"remaining"`
	Good      float64   `json:"good"`
	Total     float64   `json:"total"`
}

// History returns one point per hour boundary in (from, to]: the SLI of
// that hour alone and the budget remaining over the SLO window ending then.
// hours must be hourly buckets covering at least [from - window, to).
func History(def *Definition, hours []Bucket, from, to time.Time) []HistoryPoint {
	sorted := append([]Bucket(nil), hours...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	// Prefix sums over the hours for O(1) windows.
	starts := make([]time.Time, len(sorted))
	prefix := make([]Counts, len(sorted)+1)
	for i, b := range sorted {
		starts[i] = b.Start.UTC().Truncate(time.Hour)
		prefix[i+1] = prefix[i].Add(b.Counts)
	}
	idx := func(t time.Time) int { // first bucket starting at or after t
		return sort.Search(len(starts), func(i int) bool { return !starts[i].Before(t) })
	}
	sub := func(a, b int) Counts {
		return Counts{prefix[b].Good - prefix[a].Good, prefix[b].Total - prefix[a].Total, prefix[b].Events - prefix[a].Events}
	}
	var out []HistoryPoint
	for t := from.UTC().Truncate(time.Hour).Add(time.Hour); !t.After(to); t = t.Add(time.Hour) {
		ws, we := def.Window.Bounds(t.Add(-time.Nanosecond))
		length := we.Sub(ws)
		if def.Window.IsRolling() {
			length, ws = def.Window.Rolling, t.Add(-def.Window.Rolling)
		}
		win := sub(idx(ws.Truncate(time.Hour)), idx(t))
		hour := sub(idx(t.Add(-time.Hour)), idx(t))
		p := HistoryPoint{Time: t, Remaining: ComputeBudget(win, def.Objective, length).Remaining, Good: hour.Good, Total: hour.Total}
		if r, ok := hour.Ratio(); ok {
			p.SLI = Float(round(r, 9))
		}
		out = append(out, p)
	}
	return out
}

func clamp01(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 1
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

// finite replaces NaN and infinities with 0 (NaN) or the largest float.
func finite(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

func round(v float64, digits int) float64 {
	v = finite(v)
	p := math.Pow(10, float64(digits))
	r := math.Round(v*p) / p
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return v
	}
	return r
}
