package oncall

import (
	"sort"
	"time"
)

// Schedule is a named on-call schedule: rotation layers, lowest first, and
// overrides. A Schedule is read-only once built and safe for concurrent use.
type Schedule struct {
	Name        string
	Description string
	// Location is the schedule's default time zone (layers may have their
	// own); it is also the zone shifts are shown in.
	Location *time.Location
	// Layers are ordered lowest priority first: where a later layer has
	// someone on call, it wins over every earlier one.
	Layers []Layer
	// Overrides replace every layer for their span. Where two overlap, the
	// later one in the slice wins (config overrides come first, then
	// run-time ones in the order they were created).
	Overrides []Override
}

// Layer is one rotation: its users take turns of Rotation length, the first
// turn beginning at Start. Turn boundaries are computed on the layer's local
// calendar, so a daily or weekly rotation hands off at the same wall-clock
// time on both sides of a daylight-saving change; an hourly rotation counts
// elapsed hours.
type Layer struct {
	Name     string
	Users    []string
	Start    time.Time // the first handoff; its wall clock in Location is the handoff time
	End      time.Time // zero: the layer never ends
	Location *time.Location
	Rotation Rotation
	// Restrictions limit when the layer is on call at all; outside them the
	// layer has nobody and lower layers show through. None: always.
	Restrictions []Restriction
}

// Rotation is the length of one turn: a number of calendar days, or a
// number of hours. Exactly one of the two is positive in a valid rotation.
type Rotation struct {
	Days  int
	Hours int
}

// Restriction types, PagerDuty's names.
const (
	DailyRestriction  = "daily_restriction"
	WeeklyRestriction = "weekly_restriction"
)

// Restriction is a recurring window during which a layer is active. A daily
// restriction opens every day at StartOfDay (on the Days listed, all days
// when empty); a weekly one opens once a week on StartDayOfWeek. Either
// stays open for Duration (at most a day for daily, a week for weekly).
type Restriction struct {
	Type           string
	StartOfDay     time.Duration // offset from local midnight, e.g. 9h
	StartDayOfWeek time.Weekday  // weekly only
	Days           []time.Weekday
	Duration       time.Duration
}

// Override puts Person on call for [Start, End) in place of every layer.
type Override struct {
	ID        int64     `json:"id,omitempty"`
	Schedule  string    `json:"schedule"`
	Person    string    `json:"person"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Author    string    `json:"author,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Source    string    `json:"source"` // "config" or "api"
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Override sources.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Shift is a span during which one person is on call.
type Shift struct {
	Schedule string    `json:"schedule"`
	Person   string    `json:"person"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Layer names the layer the shift comes from; "override" for overrides.
	Layer string `json:"layer"`
}

// LayerResult is one layer's answer at an instant.
type LayerResult struct {
	Name string `json:"name"`
	// Person is on call in this layer; "" when the layer has nobody
	// (before its start, after its end, or outside its restrictions).
	Person string `json:"person"`
}

// Resolution is the full answer for one instant: who is on call, each
// layer's candidate (lowest first) and the override that applies, if any.
type Resolution struct {
	Schedule string        `json:"schedule"`
	At       time.Time     `json:"at"`
	OnCall   []string      `json:"oncall"`
	Layers   []LayerResult `json:"layers"`
	Override *Override     `json:"override,omitempty"`
}

// WithOverrides returns a copy of s with extra overrides appended after its
// own (so they win where they overlap). s is not changed.
func (s *Schedule) WithOverrides(extra []Override) *Schedule {
	if len(extra) == 0 {
		return s
	}
	c := *s
	c.Overrides = make([]Override, 0, len(s.Overrides)+len(extra))
	c.Overrides = append(c.Overrides, s.Overrides...)
	c.Overrides = append(c.Overrides, extra...)
	return &c
}

// Who returns the people on call at t: the override's person, or else the
// highest layer's person that has one; empty when nobody is on call. It
// does not allocate for layer answers: the slice may share memory with the
// schedule and must not be modified (appending is safe).
func (s *Schedule) Who(at time.Time) []string {
	if o := s.overrideAt(at); o != nil {
		return []string{o.Person}
	}
	for i := len(s.Layers) - 1; i >= 0; i-- {
		l := &s.Layers[i]
		if k, ok := l.index(at); ok {
			// A capped sub-slice of the layer's users: no allocation, and
			// an append by the caller cannot overwrite the layer.
			return l.Users[k : k+1 : k+1]
		}
	}
	return nil
}

// Resolve returns who is on call at t with each layer's detail.
func (s *Schedule) Resolve(at time.Time) Resolution {
	r := Resolution{Schedule: s.Name, At: at, Layers: make([]LayerResult, len(s.Layers)), OnCall: []string{}}
	for i := range s.Layers {
		r.Layers[i] = LayerResult{Name: s.Layers[i].Name, Person: s.Layers[i].Who(at)}
	}
	if o := s.overrideAt(at); o != nil {
		oc := *o
		r.Override = &oc
	}
	if w := s.Who(at); w != nil {
		r.OnCall = w
	}
	return r
}

func (s *Schedule) overrideAt(at time.Time) *Override {
	for i := len(s.Overrides) - 1; i >= 0; i-- {
		o := &s.Overrides[i]
		if !at.Before(o.Start) && at.Before(o.End) {
			return o
		}
	}
	return nil
}

// Who returns the layer's person at t, or "" when the layer has nobody then.
func (l *Layer) Who(at time.Time) string {
	if k, ok := l.index(at); ok {
		return l.Users[k]
	}
	return ""
}

// index returns the index in Users of the person on call at t, and false
// when the layer has nobody then.
func (l *Layer) index(at time.Time) (int, bool) {
	if len(l.Users) == 0 || at.Before(l.Start) || (!l.End.IsZero() && !at.Before(l.End)) {
		return 0, false
	}
	if len(l.Restrictions) > 0 && !l.restricted(at) {
		return 0, false
	}
	return mod(l.turn(at), len(l.Users)), true
}

// boundary returns the start of turn k (turn 0 starts at Start).
func (l *Layer) boundary(k int) time.Time {
	if l.Rotation.Hours > 0 {
		// Seconds, not time.Duration: a Duration overflows after 292 years.
		return time.Unix(l.Start.Unix()+int64(k)*int64(l.Rotation.Hours)*3600, int64(l.Start.Nanosecond()))
	}
	st := l.Start.In(l.loc())
	y, m, d := st.Date()
	hh, mm, ss := st.Clock()
	return time.Date(y, m, d+k*l.Rotation.Days, hh, mm, ss, st.Nanosecond(), l.loc())
}

// turn returns the index of the turn that contains t (t >= Start).
func (l *Layer) turn(at time.Time) int {
	if l.Rotation.Hours > 0 {
		k := int(floorDiv64(at.Unix()-l.Start.Unix(), int64(l.Rotation.Hours)*3600))
		if l.boundary(k).After(at) { // sub-second start
			k--
		}
		return k
	}
	loc := l.loc()
	days := civilDays(at.In(loc)) - civilDays(l.Start.In(loc))
	k := floorDiv(days, l.Rotation.Days)
	if l.boundary(k).After(at) {
		k--
	}
	return k
}

func (l *Layer) loc() *time.Location {
	if l.Location == nil {
		return time.UTC
	}
	return l.Location
}

// restricted reports whether t falls inside one of the restriction windows.
func (l *Layer) restricted(at time.Time) bool {
	loc := l.loc()
	y, m, d := at.In(loc).Date()
	for _, r := range l.Restrictions {
		// A window covering at opened on at's local date or up to its
		// duration (in whole days) before.
		for back := 0; back <= int(r.Duration/(24*time.Hour))+1; back++ {
			day := time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC).Weekday()
			if !r.opensOn(day) {
				continue
			}
			start := r.openAt(y, m, d-back, loc)
			if !at.Before(start) && at.Before(start.Add(r.Duration)) {
				return true
			}
		}
	}
	return false
}

// opensOn reports whether the restriction's window opens on weekday wd.
func (r *Restriction) opensOn(wd time.Weekday) bool {
	if r.Type == WeeklyRestriction {
		return wd == r.StartDayOfWeek
	}
	return len(r.Days) == 0 || hasDay(r.Days, wd)
}

// openAt returns when the window opening on the local date y-m-d opens.
func (r *Restriction) openAt(y int, m time.Month, d int, loc *time.Location) time.Time {
	h, rest := r.StartOfDay/time.Hour, r.StartOfDay%time.Hour
	return time.Date(y, m, d, int(h), int(rest/time.Minute), int(rest%time.Minute/time.Second), 0, loc)
}

type span struct{ start, end time.Time }

// windows returns the restriction windows that overlap [from, to), sorted
// and merged.
func (l *Layer) windows(from, to time.Time) []span {
	loc := l.loc()
	var out []span
	// A window that covers from opened at most its duration (plus a day
	// for the wall-clock start) before it.
	var longest time.Duration
	for _, r := range l.Restrictions {
		longest = max(longest, r.Duration)
	}
	day := from.In(loc).AddDate(0, 0, -1-int(longest/(24*time.Hour)))
	y, m, d := day.Date()
	for i := 0; ; i++ {
		midnight := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		if !midnight.Before(to) {
			break
		}
		wd := midnight.Weekday()
		for j := range l.Restrictions {
			r := &l.Restrictions[j]
			if !r.opensOn(wd) {
				continue
			}
			start := r.openAt(y, m, d+i, loc)
			end := start.Add(r.Duration)
			if end.After(from) && start.Before(to) {
				out = append(out, span{start, end})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return mergeSpans(out)
}

func mergeSpans(in []span) []span {
	var out []span
	for _, s := range in {
		if n := len(out); n > 0 && !s.start.After(out[n-1].end) {
			if s.end.After(out[n-1].end) {
				out[n-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

func hasDay(days []time.Weekday, d time.Weekday) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

// LayerShifts returns the layer's shifts overlapping [from, to), clipped to
// it, in time order.
func (l *Layer) LayerShifts(schedule string, from, to time.Time) []Shift {
	if len(l.Users) == 0 || !from.Before(to) {
		return nil
	}
	lo, hi := from, to
	if lo.Before(l.Start) {
		lo = l.Start
	}
	if !l.End.IsZero() && l.End.Before(hi) {
		hi = l.End
	}
	if !lo.Before(hi) {
		return nil
	}
	var wins []span
	if len(l.Restrictions) > 0 {
		wins = l.windows(lo, hi)
	}
	var out []Shift
	for k := l.turn(lo); ; k++ {
		ts, te := l.boundary(k), l.boundary(k+1)
		if !ts.Before(hi) || !te.After(ts) { // the second guards against arithmetic overflow
			break
		}
		ts, te = maxTime(ts, lo), minTime(te, hi)
		if !ts.Before(te) {
			continue
		}
		p := l.Users[mod(k, len(l.Users))]
		if len(l.Restrictions) == 0 {
			out = append(out, Shift{Schedule: schedule, Person: p, Start: ts, End: te, Layer: l.Name})
			continue
		}
		for _, w := range wins {
			a, b := maxTime(ts, w.start), minTime(te, w.end)
			if a.Before(b) {
				out = append(out, Shift{Schedule: schedule, Person: p, Start: a, End: b, Layer: l.Name})
			}
		}
	}
	return out
}

// OverrideLayer is the Layer name of shifts that come from overrides.
const OverrideLayer = "override"

// Shifts returns the final shifts overlapping [from, to), clipped to it, in
// time order: where an override applies its person, else the highest layer
// with someone. Consecutive spans of the same person from the same layer
// are merged; gaps with nobody on call have no shift.
func (s *Schedule) Shifts(from, to time.Time) []Shift {
	if !from.Before(to) {
		return nil
	}
	// Sources, lowest priority first: layers, then each override.
	var sources [][]Shift
	for i := range s.Layers {
		sources = append(sources, s.Layers[i].LayerShifts(s.Name, from, to))
	}
	for _, o := range s.Overrides {
		a, b := maxTime(o.Start, from), minTime(o.End, to)
		if a.Before(b) {
			sources = append(sources, []Shift{{Schedule: s.Name, Person: o.Person, Start: a, End: b, Layer: OverrideLayer}})
		}
	}
	var cuts []time.Time
	for _, src := range sources {
		for _, sh := range src {
			cuts = append(cuts, sh.Start, sh.End)
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
	idx := make([]int, len(sources))
	var out []Shift
	for i := 0; i+1 < len(cuts); i++ {
		a, b := cuts[i], cuts[i+1]
		if !a.Before(b) {
			continue
		}
		var win *Shift
		for j := len(sources) - 1; j >= 0; j-- {
			src := sources[j]
			for idx[j] < len(src) && !src[idx[j]].End.After(a) {
				idx[j]++
			}
			if idx[j] < len(src) && !src[idx[j]].Start.After(a) {
				win = &src[idx[j]]
				break
			}
		}
		if win == nil {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End.Equal(a) && out[n-1].Person == win.Person && out[n-1].Layer == win.Layer {
			out[n-1].End = b
			continue
		}
		out = append(out, Shift{Schedule: s.Name, Person: win.Person, Start: a, End: b, Layer: win.Layer})
	}
	return out
}

// civilDays returns the day number of t's calendar date (in t's location)
// counted from 1970-01-01, by Howard Hinnant's days_from_civil.
func civilDays(t time.Time) int {
	y, m, d := t.Date()
	yy := y
	if m <= 2 {
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400
	mp := (int(m) + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, n int) int {
	r := a % n
	if r < 0 {
		r += n
	}
	return r
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
