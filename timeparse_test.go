package tandem

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"15m", 15 * time.Minute, ""},
		{"2h", 2 * time.Hour, ""},
		{"90d", 90 * 24 * time.Hour, ""},
		{"2w", 14 * 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""}, // 24h + 12h
		{"1.5d", 36 * time.Hour, ""},  // 1.5 × 24h
		{"1w1d1h1m", (8*24+1)*time.Hour + time.Minute, ""},
		{" 30s ", 30 * time.Second, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"", 0, "empty"},
		{"90", 0, "want a number and a unit"},
		{"d", 0, "want a number and a unit"},
		{"-5m", 0, "want a number and a unit"},
		{"5x", 0, "want a number and a unit"},
		{"1..5d", 0, "invalid duration"},
		{"300000w", 0, "too long"}, // 300000 weeks ≈ 5753 years > 292
		{"2562047h2562047h", 0, "too long"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDuration(%q) = %v, %v; want error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"now", now, false},
		{"2026-11-25T14:00:00Z", now, false},
		{"2026-11-25T15:00:00+01:00", now, false},
		{"2026-11-25T14:00:00.5Z", now.Add(500 * time.Millisecond), false},
		{"2026-11-25T14:00", now, false},
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), false},
		{"1795615200", time.Unix(1795615200, 0).UTC(), false},
		{"90d", now.Add(-90 * 24 * time.Hour), false},
		{"2h ago", now.Add(-2 * time.Hour), false},
		{"", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"12345", time.Time{}, true}, // too small to be Unix seconds, no unit
		{"2026-13-01", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now)
		if tt.err {
			if err == nil {
				t.Errorf("ParseTime(%q) = %v; want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"15m", "90d", "1d12h", "1.5w", "", "-1h", "9999999999999999999d", "1e9d", "0.0000001ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "2026-11-25T14:00:00Z", "2026-11-25", "1795615200", "90d", "2h ago", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now)
		if err == nil && got.IsZero() && s != "" {
			// Only a literal zero moment may parse to the zero time.
			if !strings.HasPrefix(strings.TrimSpace(s), "0001-01-01") {
				t.Fatalf("ParseTime(%q) = zero time without an error", s)
			}
		}
	})
}
