package sli

import (
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
)

// TestEventsExpr: a Timeslices ratio SLO queries its events beside its
// slices, for the alerts' minimum-events guard; Occurrences (whose units
// are events) and threshold indicators (which have no events) do not.
func TestEventsExpr(t *testing.T) {
	ratio := &slo.Definition{Method: slo.Timeslices, TimeSliceWindow: 5 * time.Minute, TimeSliceTarget: 0.95,
		Indicator: slo.Indicator{Good: `http_requests_total{code!~"5.."}`, Total: "http_requests_total"}}
	if got, want := EventsExpr(ratio, "1h"), "sum(increase(http_requests_total[1h]))"; got != want {
		t.Errorf("EventsExpr = %q, want %q", got, want)
	}
	if q := WindowsQuery(ratio, []time.Duration{time.Hour}); !strings.Contains(q, `"tandem_k", "events"`) {
		t.Errorf("windows query lacks the events: %s", q)
	}
	occ := *ratio
	occ.Method = slo.Occurrences
	th := *ratio
	th.Indicator = slo.Indicator{Query: "p95_seconds", Op: "lte", Threshold: 0.3}
	for _, d := range []*slo.Definition{&occ, &th} {
		if e := EventsExpr(d, "1h"); e != "" {
			t.Errorf("%s: EventsExpr = %q, want none", d.Method, e)
		}
		if q := WindowsQuery(d, []time.Duration{time.Hour}); strings.Contains(q, `"events"`) {
			t.Errorf("%s: windows query counts events: %s", d.Method, q)
		}
	}
}
