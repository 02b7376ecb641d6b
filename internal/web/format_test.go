package web

import (
	"testing"
	"time"
)

func TestOneFormatter(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 12 * time.Minute: "12m", 5*time.Hour + 25*time.Minute: "5h 25m", 3 * time.Hour: "3h",
		52 * time.Hour: "2d 4h", 48 * time.Hour: "2d", -90 * time.Minute: "1h 30m",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 recoveries"}, {1, "1 recovery"}, {2, "2 recoveries"}} {
		if got := plural(c.n, "recovery", "recoveries"); got != c.want {
			t.Errorf("plural(%d) = %q", c.n, got)
		}
	}
	for kind, want := range map[string]string{"page_failed": "Page failed", "alert_fired": "Alert fired", "something_new": "Something new"} {
		if got := eventWord(kind); got != want {
			t.Errorf("eventWord(%q) = %q, want %q", kind, got, want)
		}
	}
	for d, want := range map[time.Duration]string{90 * 24 * time.Hour: "90d", 36 * time.Hour: "36h", 50 * time.Hour: "2d 2h", 45 * time.Minute: "45m"} {
		if got := compactDuration(d); got != want {
			t.Errorf("compactDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
