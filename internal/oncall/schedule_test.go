package oncall

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestLayerWhoHandoffs(t *testing.T) {
	daily := Layer{Name: "d", Users: []string{"a", "b", "c"}, Start: mustTime(t, "2026-01-01T09:00:00Z"), Rotation: Rotation{Days: 1}}
	halfDay := Layer{Name: "h", Users: []string{"a", "b"}, Start: mustTime(t, "2026-01-01T00:00:00Z"), Rotation: Rotation{Hours: 12}}
	threeDay := Layer{Name: "3d", Users: []string{"a", "b"}, Start: mustTime(t, "2026-01-01T09:00:00Z"), Rotation: Rotation{Days: 3}}
	ended := daily
	ended.End = mustTime(t, "2026-01-03T09:00:00Z")
	cases := []struct {
		name  string
		layer Layer
		at    string
		want  string
	}{
		{"before start: nobody", daily, "2026-01-01T08:59:59Z", ""},
		{"turn 0 starts at 09:00", daily, "2026-01-01T09:00:00Z", "a"},
		{"turn 0 ends just before next 09:00", daily, "2026-01-02T08:59:59Z", "a"},
		{"turn 1 at Jan 2 09:00", daily, "2026-01-02T09:00:00Z", "b"},
		{"turn 2 at Jan 3 09:00", daily, "2026-01-03T09:00:00Z", "c"},
		{"turn 3 wraps to a (3 mod 3 = 0)", daily, "2026-01-04T09:00:00Z", "a"},
		// 365 days after Jan 1 09:00 is turn 365; 365 mod 3 = 2 -> c.
		{"a year later: turn 365 mod 3 = 2", daily, "2027-01-01T09:00:00Z", "c"},
		{"12h: 11:59 is turn 0", halfDay, "2026-01-01T11:59:00Z", "a"},
		{"12h: 12:00 is turn 1", halfDay, "2026-01-01T12:00:00Z", "b"},
		{"12h: next midnight is turn 2", halfDay, "2026-01-02T00:00:00Z", "a"},
		{"3d: Jan 4 08:59 still turn 0", threeDay, "2026-01-04T08:59:00Z", "a"},
		{"3d: Jan 4 09:00 is turn 1", threeDay, "2026-01-04T09:00:00Z", "b"},
		{"3d: Jan 7 09:00 is turn 2", threeDay, "2026-01-07T09:00:00Z", "a"},
		{"ended layer: last moment", ended, "2026-01-03T08:59:59Z", "b"},
		{"ended layer: at End nobody", ended, "2026-01-03T09:00:00Z", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.layer.Who(mustTime(t, c.at)); got != c.want {
				t.Errorf("Who(%s) = %q, want %q", c.at, got, c.want)
			}
		})
	}
}

// The Berlin weekly rotation hands off at Monday 09:00 local time on both
// sides of each daylight-saving change. 2026 changes: Sunday 29 March
// (CET UTC+1 -> CEST UTC+2) and Sunday 25 October (back to CET).
func TestBerlinWeeklyHandoffAcrossDST(t *testing.T) {
	loc := berlin(t)
	l := Layer{Name: "primary", Users: []string{"alice", "bob"}, Location: loc,
		Start:    time.Date(2026, 3, 23, 9, 0, 0, 0, loc), // Monday, CET: 08:00Z
		Rotation: Rotation{Days: 7}}
	s := &Schedule{Name: "payments", Location: loc, Layers: []Layer{l}}
	cases := []struct {
		at, want string
	}{
		// Turn 0: Mon 23 Mar 09:00 CET (08:00Z) until Mon 30 Mar 09:00 CEST (07:00Z).
		{"2026-03-23T07:59:59Z", ""},
		{"2026-03-23T08:00:00Z", "alice"},
		{"2026-03-30T06:59:59Z", "alice"}, // 08:59:59 CEST
		{"2026-03-30T07:00:00Z", "bob"},   // 09:00 CEST: the handoff after the March change
		// Mar 23 -> Oct 26 is 217 days = 31 weeks: turn 31 (odd, bob) starts
		// Mon 26 Oct 09:00 CET (08:00Z); turn 30 (alice) started Mon 19 Oct
		// 09:00 CEST (07:00Z).
		{"2026-10-19T06:59:59Z", "bob"},
		{"2026-10-19T07:00:00Z", "alice"},
		{"2026-10-26T07:59:59Z", "alice"}, // 08:59:59 CET
		{"2026-10-26T08:00:00Z", "bob"},   // 09:00 CET: the handoff after the October change
	}
	for _, c := range cases {
		got := ""
		if w := s.Who(mustTime(t, c.at)); len(w) > 0 {
			got = w[0]
		}
		if got != c.want {
			t.Errorf("Who(%s) = %q, want %q", c.at, got, c.want)
		}
	}
	// Every handoff of the year falls on a Monday at 09:00 local time.
	shifts := s.Shifts(mustTime(t, "2026-03-01T00:00:00Z"), mustTime(t, "2026-12-01T00:00:00Z"))
	if len(shifts) < 30 {
		t.Fatalf("got %d shifts, want a weekly handoff from 23 Mar to 1 Dec", len(shifts))
	}
	for _, sh := range shifts[1:] {
		st := sh.Start.In(loc)
		if st.Weekday() != time.Monday || st.Hour() != 9 || st.Minute() != 0 {
			t.Errorf("handoff at %s (%s), want Monday 09:00 local", st, sh.Start.UTC())
		}
	}
	if got, want := shifts[0].Start, mustTime(t, "2026-03-23T08:00:00Z"); !got.Equal(want) {
		t.Errorf("first shift starts %s, want %s", got, want)
	}
	// The shift across the March change is one hour shorter (167h), the
	// one across October one hour longer (169h).
	for _, sh := range shifts {
		if sh.Start.Equal(mustTime(t, "2026-03-23T08:00:00Z")) && sh.End.Sub(sh.Start) != 167*time.Hour {
			t.Errorf("March shift lasts %s, want 167h", sh.End.Sub(sh.Start))
		}
		if sh.Start.Equal(mustTime(t, "2026-10-19T07:00:00Z")) && sh.End.Sub(sh.Start) != 169*time.Hour {
			t.Errorf("October shift lasts %s, want 169h", sh.End.Sub(sh.Start))
		}
	}
}

// 2026-11-23 is a Monday; 2026-11-28 a Saturday.
func TestRestrictions(t *testing.T) {
	base := Layer{Name: "l", Users: []string{"p"}, Start: mustTime(t, "2026-01-05T00:00:00Z"), Rotation: Rotation{Days: 7}}
	weekdays := base
	weekdays.Restrictions = []Restriction{{Type: DailyRestriction, StartOfDay: 9 * time.Hour, Duration: 8 * time.Hour,
		Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}}
	weekend := base // Friday 17:00 for 64h: until Monday 09:00
	weekend.Restrictions = []Restriction{{Type: WeeklyRestriction, StartDayOfWeek: time.Friday, StartOfDay: 17 * time.Hour, Duration: 64 * time.Hour}}
	overnight := base // every day 22:00 for 10h: until 08:00
	overnight.Restrictions = []Restriction{{Type: DailyRestriction, StartOfDay: 22 * time.Hour, Duration: 10 * time.Hour}}
	cases := []struct {
		name  string
		layer Layer
		at    string
		want  string
	}{
		{"weekday 10:00 inside", weekdays, "2026-11-25T10:00:00Z", "p"},
		{"weekday 09:00 opens", weekdays, "2026-11-25T09:00:00Z", "p"},
		{"weekday 08:59 closed", weekdays, "2026-11-25T08:59:59Z", ""},
		{"weekday 17:00 closed (end exclusive)", weekdays, "2026-11-25T17:00:00Z", ""},
		{"saturday 10:00 closed", weekdays, "2026-11-28T10:00:00Z", ""},
		{"weekly: Friday 16:59 closed", weekend, "2026-11-27T16:59:00Z", ""},
		{"weekly: Friday 17:00 opens", weekend, "2026-11-27T17:00:00Z", "p"},
		{"weekly: Saturday inside", weekend, "2026-11-28T10:00:00Z", "p"},
		{"weekly: Monday 08:59 inside", weekend, "2026-11-30T08:59:00Z", "p"},
		{"weekly: Monday 09:00 closed (17:00 + 64h)", weekend, "2026-11-30T09:00:00Z", ""},
		{"overnight: 23:00 inside", overnight, "2026-11-25T23:00:00Z", "p"},
		{"overnight: 07:59 next day inside", overnight, "2026-11-26T07:59:00Z", "p"},
		{"overnight: 08:00 closed", overnight, "2026-11-26T08:00:00Z", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.layer.Who(mustTime(t, c.at)); got != c.want {
				t.Errorf("Who(%s) = %q, want %q", c.at, got, c.want)
			}
		})
	}
	// Shifts are cut to the windows: Monday to Wednesday gives three 8h shifts.
	got := weekdays.LayerShifts("s", mustTime(t, "2026-11-23T00:00:00Z"), mustTime(t, "2026-11-26T00:00:00Z"))
	var spans []string
	for _, sh := range got {
		spans = append(spans, sh.Start.Format("Mon 15:04")+"-"+sh.End.Format("Mon 15:04"))
	}
	want := []string{"Mon 09:00-Mon 17:00", "Tue 09:00-Tue 17:00", "Wed 09:00-Wed 17:00"}
	if !reflect.DeepEqual(spans, want) {
		t.Errorf("shifts %v, want %v", spans, want)
	}
}

// followTheSun is a weekly base layer (a, b) with a weekday day-time layer
// (x) above it.
func followTheSun(t testing.TB) *Schedule {
	return &Schedule{Name: "sre", Location: time.UTC, Layers: []Layer{
		{Name: "base", Users: []string{"a", "b"}, Start: mustTime(t, "2026-11-23T00:00:00Z"), Rotation: Rotation{Days: 7}},
		{Name: "day", Users: []string{"x"}, Start: mustTime(t, "2026-11-23T00:00:00Z"), Rotation: Rotation{Days: 1},
			Restrictions: []Restriction{{Type: DailyRestriction, StartOfDay: 9 * time.Hour, Duration: 8 * time.Hour,
				Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}}},
	}}
}

func TestLayerPrecedenceAndOverrides(t *testing.T) {
	s := followTheSun(t)
	s.Overrides = []Override{{Schedule: "sre", Person: "y", Start: mustTime(t, "2026-11-25T12:00:00Z"), End: mustTime(t, "2026-11-25T14:00:00Z"), Source: SourceConfig}}
	// A run-time override overlapping the config one; it comes later, so it wins.
	s = s.WithOverrides([]Override{{Schedule: "sre", Person: "z", Start: mustTime(t, "2026-11-25T13:00:00Z"), End: mustTime(t, "2026-11-25T15:00:00Z"), Source: SourceAPI}})
	cases := []struct{ at, want string }{
		{"2026-11-25T08:00:00Z", "a"}, // day layer closed: base layer (turn 0: a)
		{"2026-11-25T10:00:00Z", "x"}, // day layer open and higher
		{"2026-11-25T12:30:00Z", "y"}, // config override
		{"2026-11-25T13:30:00Z", "z"}, // later override wins the overlap
		{"2026-11-25T14:30:00Z", "z"},
		{"2026-11-25T15:00:00Z", "x"}, // override ends
		{"2026-11-25T18:00:00Z", "a"},
		{"2026-11-28T10:00:00Z", "a"}, // Saturday: base only
		{"2026-11-30T08:00:00Z", "b"}, // base turn 1 (from Mon 30 Nov 00:00)
	}
	for _, c := range cases {
		got := s.Who(mustTime(t, c.at))
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("Who(%s) = %v, want [%s]", c.at, got, c.want)
		}
	}
	r := s.Resolve(mustTime(t, "2026-11-25T13:30:00Z"))
	if r.Override == nil || r.Override.Person != "z" || r.Layers[0].Person != "a" || r.Layers[1].Person != "x" {
		t.Errorf("Resolve detail = %+v", r)
	}
	got := s.Shifts(mustTime(t, "2026-11-25T00:00:00Z"), mustTime(t, "2026-11-26T00:00:00Z"))
	var lines []string
	for _, sh := range got {
		lines = append(lines, fmt.Sprintf("%s-%s %s/%s", sh.Start.Format("15:04"), sh.End.Format("15:04"), sh.Person, sh.Layer))
	}
	want := []string{
		"00:00-09:00 a/base",
		"09:00-12:00 x/day",
		"12:00-13:00 y/override",
		"13:00-15:00 z/override",
		"15:00-17:00 x/day",
		"17:00-00:00 a/base",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("shifts:\n got %q\nwant %q", lines, want)
	}
}

func TestCurrent(t *testing.T) {
	s := followTheSun(t)
	c := CurrentOf(s, mustTime(t, "2026-11-25T10:00:00Z"))
	if len(c.OnCall) != 1 || c.OnCall[0] != "x" || !c.Until.Equal(mustTime(t, "2026-11-25T17:00:00Z")) ||
		c.Next == nil || c.Next.Person != "a" || !c.Next.Start.Equal(mustTime(t, "2026-11-25T17:00:00Z")) {
		t.Errorf("Current = %+v (next %+v)", c, c.Next)
	}
	empty := CurrentOf(&Schedule{Name: "none"}, mustTime(t, "2026-11-25T10:00:00Z"))
	if len(empty.OnCall) != 0 || empty.Next != nil {
		t.Errorf("empty schedule Current = %+v", empty)
	}
}

// Shifts and Who agree at every shift boundary and in between.
func TestShiftsAgreeWithWho(t *testing.T) {
	loc := berlin(t)
	s := followTheSun(t)
	s.Layers[0].Location, s.Layers[1].Location = loc, loc
	from, to := mustTime(t, "2026-10-20T00:00:00Z"), mustTime(t, "2026-11-05T00:00:00Z")
	s.Layers[0].Start = time.Date(2026, 10, 19, 9, 0, 0, 0, loc)
	s.Layers[1].Start = time.Date(2026, 10, 19, 0, 0, 0, 0, loc)
	shifts := s.Shifts(from, to)
	for at := from; at.Before(to); at = at.Add(17 * time.Minute) {
		want := s.Who(at)
		var got []string
		for _, sh := range shifts {
			if !at.Before(sh.Start) && at.Before(sh.End) {
				got = []string{sh.Person}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("at %s: shifts say %v, Who says %v", at, got, want)
		}
	}
}

func BenchmarkWho1000Schedules(b *testing.B) {
	loc := berlin(b)
	scheds := make([]*Schedule, 1000)
	for i := range scheds {
		s := followTheSun(b)
		s.Name = fmt.Sprint("s", i)
		s.Layers[0].Location = loc
		s.Layers[0].Users = []string{"a", "b", "c", "d"}
		s.Overrides = []Override{{Person: "o", Start: mustTime(b, "2026-11-20T00:00:00Z"), End: mustTime(b, "2026-11-21T00:00:00Z")}}
		scheds[i] = s
	}
	at := mustTime(b, "2026-11-25T10:30:00Z")
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, s := range scheds {
			n += len(s.Who(at))
		}
		if n != 1000 {
			b.Fatalf("on call in %d schedules, want 1000", n)
		}
	}
}

// Far-away instants neither overflow nor loop: a 12h layer asked about
// the year 9000 answers at once.
func TestFarFuture(t *testing.T) {
	l := Layer{Name: "h", Users: []string{"a", "b"}, Start: mustTime(t, "2026-01-01T00:00:00Z"), Rotation: Rotation{Hours: 12}}
	s := &Schedule{Name: "s", Layers: []Layer{l}}
	from := mustTime(t, "9000-01-01T00:00:00Z")
	shifts := s.Shifts(from, from.Add(48*time.Hour))
	if len(shifts) != 4 {
		t.Fatalf("got %d shifts, want 4 twelve-hour turns", len(shifts))
	}
	for _, sh := range shifts {
		if w := s.Who(sh.Start); len(w) != 1 || w[0] != sh.Person {
			t.Errorf("at %s: Who %v, shift %s", sh.Start, w, sh.Person)
		}
	}
}

// FuzzShifts: for any layer shape and range, Shifts and Who agree at every
// shift's start and end, and shifts are ordered and inside the range.
func FuzzShifts(f *testing.F) {
	f.Add(int64(0), uint16(200), uint8(12), uint8(0), uint8(9), uint8(8), true)
	f.Add(int64(-86400*30), uint16(900), uint8(0), uint8(7), uint8(22), uint8(10), false)
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	base := time.Date(2026, 3, 20, 9, 0, 0, 0, loc)
	f.Fuzz(func(t *testing.T, off int64, spanHours uint16, hours, days, startHour, durHours uint8, daily bool) {
		if hours == 0 && days == 0 {
			days = 1
		}
		if hours > 0 {
			days = 0
		}
		l := Layer{Name: "l", Users: []string{"a", "b", "c"}, Start: base, Location: loc, Rotation: Rotation{Hours: int(hours), Days: int(days)}}
		if durHours%25 > 0 {
			r := Restriction{Type: DailyRestriction, StartOfDay: time.Duration(startHour%24) * time.Hour, Duration: time.Duration(durHours%25) * time.Hour}
			if !daily {
				r.Type, r.StartDayOfWeek, r.Duration = WeeklyRestriction, time.Weekday(startHour%7), time.Duration(durHours)*time.Hour
			}
			l.Restrictions = []Restriction{r}
		}
		s := &Schedule{Name: "s", Layers: []Layer{l}}
		from := base.Add(time.Duration(off%(86400*400)) * time.Second)
		to := from.Add(time.Duration(spanHours%2000) * time.Hour)
		var prev time.Time
		for _, sh := range s.Shifts(from, to) {
			if sh.Start.Before(from) || sh.End.After(to) || !sh.Start.Before(sh.End) || sh.Start.Before(prev) {
				t.Fatalf("bad shift %+v in [%s, %s)", sh, from, to)
			}
			prev = sh.End
			if w := s.Who(sh.Start); len(w) != 1 || w[0] != sh.Person {
				t.Fatalf("at %s Who %v, shift says %s", sh.Start, w, sh.Person)
			}
			if w := s.Who(sh.End.Add(-time.Nanosecond)); len(w) != 1 || w[0] != sh.Person {
				t.Fatalf("just before %s Who %v, shift says %s", sh.End, w, sh.Person)
			}
		}
	})
}

// BenchmarkDirectoryWho1000 is what a request for every schedule does:
// build the directory with 200 stored overrides attached, then resolve a
// schedule target in each of 1,000 schedules.
func BenchmarkDirectoryWho1000(b *testing.B) {
	loc := berlin(b)
	cfg := Config{}
	var overrides []Override
	for i := range 1000 {
		s := followTheSun(b)
		s.Name = fmt.Sprint("s", i)
		s.Layers[0].Location = loc
		cfg.Schedules = append(cfg.Schedules, s)
		if i%5 == 0 {
			overrides = append(overrides, Override{Schedule: s.Name, Person: "o", Start: mustTime(b, "2026-11-25T10:00:00Z"), End: mustTime(b, "2026-11-25T11:00:00Z")})
		}
	}
	at := mustTime(b, "2026-11-25T10:30:00Z")
	b.ReportAllocs()
	for b.Loop() {
		d := NewDirectory(cfg, nil, overrides)
		n := 0
		for _, s := range cfg.Schedules {
			n += len(d.Resolve(Target{Type: ScheduleReference, ID: s.Name}, at))
		}
		if n != 1000 {
			b.Fatalf("resolved %d, want 1000", n)
		}
	}
}

func BenchmarkShiftsMonth(b *testing.B) {
	s := followTheSun(b)
	from := mustTime(b, "2026-11-01T00:00:00Z")
	for b.Loop() {
		if len(s.Shifts(from, from.AddDate(0, 1, 0))) == 0 {
			b.Fatal("no shifts")
		}
	}
}
