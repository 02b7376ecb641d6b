package oncall

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseRotation reads a turn length: "daily", "weekly", or a number and a
// unit, hours ("12h") or days ("3d", "2w" for weeks). Hour rotations must be
// whole hours from 1 to 8760; day rotations from 1 to 365 days.
func ParseRotation(s string) (Rotation, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "daily":
		return Rotation{Days: 1}, nil
	case "weekly":
		return Rotation{Days: 7}, nil
	case "":
		return Rotation{}, fmt.Errorf("empty rotation; expected daily, weekly, or a length such as 12h or 3d")
	}
	unit := s[len(s)-1]
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return Rotation{}, fmt.Errorf("invalid rotation %q; expected daily, weekly, or a length such as 12h, 3d or 2w", s)
	}
	switch unit {
	case 'h':
		if n > 8760 {
			return Rotation{}, fmt.Errorf("rotation %q is longer than a year", s)
		}
		return Rotation{Hours: n}, nil
	case 'd', 'w':
		if unit == 'w' {
			n *= 7
		}
		if n > 365 {
			return Rotation{}, fmt.Errorf("rotation %q is longer than a year", s)
		}
		return Rotation{Days: n}, nil
	}
	return Rotation{}, fmt.Errorf("invalid rotation %q; expected daily, weekly, or a length such as 12h, 3d or 2w", s)
}

// String renders the rotation the way ParseRotation reads it.
func (r Rotation) String() string {
	switch {
	case r.Hours > 0:
		return strconv.Itoa(r.Hours) + "h"
	case r.Days == 1:
		return "daily"
	case r.Days == 7:
		return "weekly"
	}
	return strconv.Itoa(r.Days) + "d"
}

// ParseClock reads a wall-clock time of day, "HH:MM" or "HH:MM:SS" (24-hour),
// as the offset from midnight.
func ParseClock(s string) (time.Duration, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("invalid time of day %q; expected HH:MM such as 09:00", s)
	}
	limits := []int{23, 59, 59}
	var v [3]int
	for i, p := range parts {
		if len(p) != 2 {
			return 0, fmt.Errorf("invalid time of day %q; expected HH:MM such as 09:00", s)
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > limits[i] {
			return 0, fmt.Errorf("invalid time of day %q; expected HH:MM such as 09:00", s)
		}
		v[i] = n
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second, nil
}

var weekdays = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday, "1": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday, "2": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday, "3": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday, "4": time.Thursday,
	"fri": time.Friday, "friday": time.Friday, "5": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday, "6": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday, "7": time.Sunday,
}

// ParseWeekday reads a day of the week: "mon" or "monday" (any case), or
// PagerDuty's ISO number 1 (Monday) to 7 (Sunday).
func ParseWeekday(s string) (time.Weekday, error) {
	if d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("invalid day of week %q; expected mon…sun or 1 (Monday) to 7 (Sunday)", s)
}

// ParseDays reads a list of days, each a weekday or a range ("mon-fri"), or
// the words "weekdays" and "weekends".
func ParseDays(items []string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, it := range items {
		it = strings.ToLower(strings.TrimSpace(it))
		switch it {
		case "weekdays":
			out = append(out, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)
			continue
		case "weekends":
			out = append(out, time.Saturday, time.Sunday)
			continue
		}
		if a, b, ok := strings.Cut(it, "-"); ok {
			from, err := ParseWeekday(a)
			if err != nil {
				return nil, err
			}
			to, err := ParseWeekday(b)
			if err != nil {
				return nil, err
			}
			for d := from; ; d = (d + 1) % 7 {
				out = append(out, d)
				if d == to {
					break
				}
			}
			continue
		}
		d, err := ParseWeekday(it)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
