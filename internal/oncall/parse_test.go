package oncall

import (
	"reflect"
	"testing"
	"time"
)

func TestParseRotation(t *testing.T) {
	for in, want := range map[string]Rotation{
		"daily": {Days: 1}, "weekly": {Days: 7}, "Weekly": {Days: 7}, "12h": {Hours: 12}, "3d": {Days: 3}, "2w": {Days: 14},
	} {
		got, err := ParseRotation(in)
		if err != nil || got != want {
			t.Errorf("ParseRotation(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "h", "0d", "-1h", "1.5d", "fortnightly", "9000h", "400d"} {
		if _, err := ParseRotation(in); err == nil {
			t.Errorf("ParseRotation(%q): no error", in)
		}
	}
}

func TestParseClockAndDays(t *testing.T) {
	if d, err := ParseClock("09:30"); err != nil || d != 9*time.Hour+30*time.Minute {
		t.Errorf("ParseClock(09:30) = %s %v", d, err)
	}
	if d, err := ParseClock("23:59:59"); err != nil || d != 24*time.Hour-time.Second {
		t.Errorf("ParseClock(23:59:59) = %s %v", d, err)
	}
	for _, in := range []string{"", "9:00", "24:00", "12:60", "aa:bb", "12:00:00:00"} {
		if _, err := ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q): no error", in)
		}
	}
	got, err := ParseDays([]string{"mon-wed", "sat", "7"})
	want := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Saturday, time.Sunday}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseDays = %v %v", got, err)
	}
	if got, _ := ParseDays([]string{"fri-mon"}); len(got) != 4 {
		t.Errorf("fri-mon wraps the week: %v", got)
	}
	if _, err := ParseDays([]string{"funday"}); err == nil {
		t.Error("ParseDays(funday): no error")
	}
}

func FuzzParseRotation(f *testing.F) {
	for _, s := range []string{"daily", "weekly", "12h", "3d", "2w", "0h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRotation(s)
		if err != nil {
			return
		}
		if (r.Days > 0) == (r.Hours > 0) {
			t.Fatalf("%q gave %+v: exactly one unit must be set", s, r)
		}
		back, err := ParseRotation(r.String())
		if err != nil || back != r {
			t.Fatalf("%q -> %+v -> %q -> %+v %v", s, r, r.String(), back, err)
		}
	})
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"09:00", "23:59:59", "24:00", "1:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseClock(s)
		if err == nil && (d < 0 || d >= 24*time.Hour) {
			t.Fatalf("%q -> %s outside a day", s, d)
		}
		_, _ = ParseDays([]string{s})
	})
}
