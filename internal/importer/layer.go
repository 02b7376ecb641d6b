package importer

import (
	"fmt"
	"slices"
	"time"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

// layerAt writes a layer whose first turn starts at start. tandem reads a
// layer's start as a local date and handoff time in the layer's zone;
// where that wall-clock time does not name start (a time repeated or
// skipped by a DST change), an hourly layer without restrictions is
// written in UTC instead, which is exact, and any other is left out with
// a warning at pos.
func layerAt(name string, users []string, rot oncall.Rotation, start time.Time, loc *time.Location, restr []config.RestrictionSpec, pos string, res *Result) (config.LayerSpec, bool) {
	l := config.LayerSpec{Name: name, Users: users, Rotation: rot.String(), Restrictions: restr}
	st := start.In(loc)
	y, m, d := st.Date()
	hh, mm, ss := st.Clock()
	if !time.Date(y, m, d, hh, mm, ss, 0, loc).Equal(start) || st.Nanosecond() != 0 {
		if rot.Days > 0 || len(restr) > 0 || st.Nanosecond() != 0 {
			res.warn(pos, "the layer starts at %s, a wall-clock time that %s does not name once; layer left out", start.Format(time.RFC3339), loc)
			return l, false
		}
		st = start.UTC()
		l.TimeZone = "UTC"
		y, m, d = st.Date()
		hh, mm, ss = st.Clock()
	}
	l.Start = fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	l.Handoff = fmt.Sprintf("%02d:%02d", hh, mm)
	if ss != 0 {
		l.Handoff += fmt.Sprintf(":%02d", ss)
	}
	return l, true
}

// rotation is a source's rotation in turns: turn k starts at Anchor plus
// k turns of Rotation (days on the calendar of Loc, so a handoff keeps
// its wall-clock time across DST; hours elapsed) and belongs to
// Users[k mod n]. The rotation is on call from Start (before or after the
// anchor) until End (zero: no end), inside Restrictions.
type rotation struct {
	Name         string
	Users        []string
	Rotation     oncall.Rotation
	Anchor       time.Time
	Start, End   time.Time
	Loc          *time.Location
	Restrictions []config.RestrictionSpec
	// TimeZone is written on the layers when the rotation's zone is not
	// the schedule's.
	TimeZone string
	Pos      string
}

// boundary returns the start of turn k.
func (r rotation) boundary(k int64) time.Time {
	if r.Rotation.Days > 0 {
		a := r.Anchor.In(r.Loc)
		y, m, d := a.Date()
		hh, mm, ss := a.Clock()
		return time.Date(y, m, d+int(k)*r.Rotation.Days, hh, mm, ss, a.Nanosecond(), r.Loc)
	}
	// Seconds, not a Duration, which overflows after 292 years.
	return time.Unix(r.Anchor.Unix()+k*int64(r.Rotation.Hours)*3600, int64(r.Anchor.Nanosecond()))
}

// turn returns the k whose turn holds t.
func (r rotation) turn(t time.Time) int64 {
	var k int64
	if r.Rotation.Days > 0 {
		day := func(t time.Time) int64 {
			l := t.In(r.Loc)
			return time.Date(l.Year(), l.Month(), l.Day(), 12, 0, 0, 0, time.UTC).Unix() / 86400
		}
		k = floorDiv(day(t)-day(r.Anchor), int64(r.Rotation.Days))
	} else {
		k = floorDiv(t.Unix()-r.Anchor.Unix(), int64(r.Rotation.Hours)*3600)
	}
	// The estimate is off by a turn at most (the anchor's time of day).
	for r.boundary(k).After(t) {
		k--
	}
	for !r.boundary(k + 1).After(t) {
		k++
	}
	return k
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// minTime and maxTime bound the times an import writes: tandem's
// schedules are for the years people are on call in, and outside input
// with a year 1 or 9999 is a mistake.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// inRange reports whether every non-zero t is within minTime and maxTime.
func inRange(ts ...time.Time) bool {
	for _, t := range ts {
		if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
			return false
		}
	}
	return true
}

// override writes an override, or warns at pos why it cannot.
func override(person string, start, end time.Time, reason, pos string, res *Result) (config.OverrideSpec, bool) {
	switch {
	case !end.After(start):
		res.warn(pos, "the override ends before it starts; left out")
		return config.OverrideSpec{}, false
	case !inRange(start, end):
		res.warn(pos, "the override's times are outside 1970 to 2200; left out")
		return config.OverrideSpec{}, false
	}
	return config.OverrideSpec{Person: person, Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339), Reason: reason}, true
}

// layers writes the rotation as tandem layers: one that starts at the
// handoff where the rotation starts, or, when it starts inside a turn, a
// head layer for the rest of that turn (its one person) and the rotation
// from the next handoff. ok is false (with a warning) when a layer cannot
// be written; then none is.
func (r rotation) layers(res *Result) (out []config.LayerSpec, ok bool) {
	if !r.End.IsZero() && !r.End.After(r.Start) {
		res.warn(r.Pos, "the rotation ends before it starts; left out")
		return nil, false
	}
	if r.Rotation.Days > 365 || r.Rotation.Hours > 8760 || (r.Rotation.Days <= 0 && r.Rotation.Hours <= 0) {
		res.warn(r.Pos, "a turn of %s is not between an hour and a year, tandem's limits; left out", r.Rotation)
		return nil, false
	}
	if !inRange(r.Anchor, r.Start, r.End) {
		res.warn(r.Pos, "the rotation's times are outside 1970 to 2200; left out")
		return nil, false
	}
	if r.Rotation.Hours > 0 && observesDST(r.Loc, r.Start) {
		res.warn(r.Pos, "the source does not document how turns counted in hours meet a daylight-saving change in %s; tandem counts elapsed hours, so the wall-clock handoff moves by an hour at each change: check this layer's handoffs after the next one", r.Loc)
	}
	rotated := func(k int64) []string {
		n := int64(len(r.Users))
		i := ((k % n) + n) % n
		return append(append([]string(nil), r.Users[i:]...), r.Users[:i]...)
	}
	write := func(name string, users []string, start, end time.Time) bool {
		l, ok := layerAt(name, users, r.Rotation, start, r.Loc, r.Restrictions, r.Pos, res)
		if !ok {
			return false
		}
		if !end.IsZero() {
			l.End = end.Format(time.RFC3339)
		}
		if r.TimeZone != "" && l.TimeZone == "" {
			l.TimeZone = r.TimeZone
		}
		out = append(out, l)
		return true
	}
	k := r.turn(r.Start)
	from := r.Start
	if next := r.boundary(k + 1); !r.boundary(k).Equal(r.Start) {
		end := next
		if !r.End.IsZero() && r.End.Before(end) {
			end = r.End
		}
		if !write(r.Name+"-start", rotated(k)[:1], r.Start, end) {
			return nil, false
		}
		if !r.End.IsZero() && !r.End.After(next) {
			return out, true
		}
		k, from = k+1, next
	}
	if !write(r.Name, rotated(k), from, r.End) {
		return nil, false
	}
	return out, true
}

// observesDST reports whether loc's offset changes in the year of t.
func observesDST(loc *time.Location, t time.Time) bool {
	y := t.In(loc).Year()
	_, jan := time.Date(y, 1, 1, 12, 0, 0, 0, loc).Zone()
	_, jul := time.Date(y, 7, 1, 12, 0, 0, 0, loc).Zone()
	return jan != jul
}

// model is tandem's model of the rotation as one layer, for checks of
// when it has someone on call.
func (r rotation) model() *oncall.Layer {
	m := &oncall.Layer{Name: r.Name, Users: r.Users, Start: r.Start, End: r.End, Location: r.Loc, Rotation: r.Rotation}
	for _, rs := range r.Restrictions {
		m.Restrictions = append(m.Restrictions, restrictionModel(rs))
	}
	return m
}

// restrictionModel is tandem's model of a restriction the import wrote
// (only forms the import writes: duration in seconds, numeric weekday).
func restrictionModel(rs config.RestrictionSpec) oncall.Restriction {
	tod, _ := oncall.ParseClock(rs.StartTimeOfDay)
	r := oncall.Restriction{Type: rs.Type, StartOfDay: tod, Duration: time.Duration(rs.DurationSeconds) * time.Second}
	if rs.StartDayOfWeek != "" {
		r.StartDayOfWeek, _ = oncall.ParseWeekday(rs.StartDayOfWeek)
	}
	r.Days, _ = oncall.ParseDays(rs.Days)
	return r
}

// bothOnCall finds an instant in the first two weeks after both layers
// have started at which both have someone on call, sampling every quarter
// hour (the sources' restrictions open on whole or half hours, and their
// windows repeat weekly).
func bothOnCall(a, b *oncall.Layer) (time.Time, bool) {
	from := a.Start
	if b.Start.After(from) {
		from = b.Start
	}
	for t := from; t.Before(from.Add(14 * 24 * time.Hour)); t = t.Add(15 * time.Minute) {
		if a.Who(t) != "" && b.Who(t) != "" {
			return t, true
		}
	}
	return time.Time{}, false
}

// minutes in a day and a week.
const dayMin, weekMin = 24 * 60, 7 * 24 * 60

// shift is a daylight-saving change of a zone as it meets the wall clock
// each week: between minute lo and hi of the week (Monday 00:00 is 0)
// the wall-clock time is skipped or repeated.
type shift struct{ lo, hi int }

// zoneShifts returns where loc's offset changes fall in the week, over
// the years around year (a change falls on one weekday and time each
// year in most zones; every position found is returned).
func zoneShifts(loc *time.Location, year int) []shift {
	var out []shift
	minuteOfWeek := func(t time.Time) int {
		return (int(t.Weekday())+6)%7*dayMin + t.Hour()*60 + t.Minute()
	}
	offset := func(t time.Time) int { _, o := t.In(loc).Zone(); return o }
	day := time.Date(year-1, 1, 1, 0, 0, 0, 0, time.UTC)
	for end := time.Date(year+3, 1, 1, 0, 0, 0, 0, time.UTC); day.Before(end); day = day.Add(24 * time.Hour) {
		if offset(day) == offset(day.Add(24*time.Hour)) {
			continue
		}
		// The change is on a quarter hour of this day: the wall clock
		// jumps from before to after.
		t := day
		for offset(t) == offset(day) {
			t = t.Add(15 * time.Minute)
		}
		before := minuteOfWeek(t.Add(-time.Minute).In(loc)) + 1
		after := minuteOfWeek(t.In(loc))
		sh := shift{lo: min(before, after), hi: max(before, after)}
		if sh.hi-sh.lo > dayMin { // across the week's end
			sh = shift{lo: sh.hi, hi: sh.lo + weekMin}
		}
		if !slices.Contains(out, sh) {
			out = append(out, sh)
		}
	}
	return out
}

// wallWindow returns weekly restrictions that are on call from minute
// open to minute close of the week on the wall clock of loc (close at or
// before open: the next week), as tandem reads them (each opens at a
// wall-clock time and stays open for an elapsed duration) in every week,
// those of a daylight-saving change included. A window that holds a
// change is cut just after it; the part before the cut stays open as
// much longer as the change is long, which the part after absorbs. exact
// is false when a change sits too near the window's ends for that.
func wallWindow(loc *time.Location, year, open, close int) (out []config.RestrictionSpec, exact bool) {
	if close <= open {
		close += weekMin
	}
	exact = true
	var inside []shift
	for _, sh := range zoneShifts(loc, year) {
		for _, w := range []int{-weekMin, 0, weekMin} {
			lo, hi := sh.lo+w, sh.hi+w
			if hi <= open || lo >= close {
				continue // outside the window
			}
			inside = append(inside, shift{lo, hi})
		}
	}
	slices.SortFunc(inside, func(a, b shift) int { return a.hi - b.hi })
	cuts := []int{open}
	extra := map[int]int{} // piece start → minutes added for the change it holds
	for i, sh := range inside {
		next := close
		if i+1 < len(inside) {
			next = inside[i+1].hi
		}
		if sh.lo < cuts[len(cuts)-1] || next-sh.hi < 2*(sh.hi-sh.lo) {
			exact = false // starts inside the change, or ends too soon after it
			continue
		}
		extra[cuts[len(cuts)-1]] += sh.hi - sh.lo
		cuts = append(cuts, sh.hi)
	}
	cuts = append(cuts, close)
	for i := 0; i+1 < len(cuts); i++ {
		from := cuts[i] % weekMin
		out = append(out, config.RestrictionSpec{Type: oncall.WeeklyRestriction, StartDayOfWeek: fmt.Sprint(from/dayMin + 1),
			StartTimeOfDay: hhmm(from % dayMin), DurationSeconds: (cuts[i+1] - cuts[i] + extra[cuts[i]]) * 60})
	}
	return out, exact
}
