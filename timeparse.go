package tandem

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration extends time.ParseDuration with days and weeks ("90d",
// "2w", "1d12h", "1.5d"), the units people use for windows. It accepts no
// sign: a duration is never negative. A value past about 292 years is an
// error, not a wrapped-around duration.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q: want a number and a unit such as 15m, 2h, 90d, 2w", s)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var mult time.Duration
		switch unit {
		case "d":
			mult = 24 * time.Hour
		case "w":
			mult = 7 * 24 * time.Hour
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q: want a number and a unit such as 15m, 2h, 90d, 2w", s)
			}
			if total > math.MaxInt64-d {
				return 0, fmt.Errorf("invalid duration %q: too long", s)
			}
			total += d
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		v := f * float64(mult)
		if v >= math.MaxInt64 || float64(total)+v >= math.MaxInt64 {
			return 0, fmt.Errorf("invalid duration %q: too long", s)
		}
		total += time.Duration(v)
	}
	return total, nil
}

// ParseTime reads a moment given as RFC 3339 ("2026-11-25T14:00:00Z"), a
// minute without zone ("2026-11-25T14:00", UTC), a date ("2026-11-25",
// midnight UTC), Unix seconds (a number above 1e9), "now", or a duration ago
// ("90d", "2h", "2h ago" mean now minus that). Results other than "now" and
// durations ago are in UTC.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("empty time")
	case s == "now":
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04", s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 1e9 {
		return time.Unix(n, 0).UTC(), nil
	}
	if d, err := ParseDuration(strings.TrimSuffix(s, " ago")); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want RFC 3339 (2026-11-25T14:00:00Z), a date (2026-11-25), Unix seconds, or a duration ago (90d)", s)
}
