package sli

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/slo"
)

var now = time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)

func nativeDef() *slo.Definition {
	return &slo.Definition{Name: "q", Objective: 0.995, Indicator: slo.Indicator{Source: slo.SourceNative, MaxStatus: 500, LatencyMaxMs: 500}}
}

func ptr[T any](v T) *T { return &v }

func TestAggregate(t *testing.T) {
	m := now.Truncate(time.Minute)
	b := Batch{Source: "edge", BatchID: "1", Events: []Event{
		{Time: m.Add(-time.Minute), Good: ptr[int64](90), Total: ptr[int64](100)},
		{Time: m.Add(-50 * time.Second), LatencyMs: ptr(120.0), Status: ptr(200)}, // good, bucket ≤250
		{Time: m.Add(-40 * time.Second), LatencyMs: ptr(700.0), Status: ptr(200)}, // too slow
		{Time: m.Add(10 * time.Second), LatencyMs: ptr(5.0), Status: ptr(503)},    // 5xx
	}}
	got, err := Aggregate(nativeDef(), b, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d minutes, want 2: %+v", len(got), got)
	}
	// Minute m-1: 90 + 1 good of 100 + 2.
	// Minute m-1 holds two latencies, 120 and 700 ms; minute m one, 5 ms.
	lo, _ := got[0].Latency.Quantile(0)
	hi, _ := got[0].Latency.Quantile(1)
	if got[0].Good != 91 || got[0].Total != 102 || got[0].Latency.Count() != 2 || math.Abs(lo-120) > 1.2 || math.Abs(hi-700) > 7 {
		t.Errorf("minute 0: %+v (latency %v–%v)", got[0], lo, hi)
	}
	if v, _ := got[1].Latency.Quantile(0.5); got[1].Good != 0 || got[1].Total != 1 || got[1].Latency.Count() != 1 || math.Abs(v-5) > 0.05 {
		t.Errorf("minute 1: %+v (latency %v)", got[1], v)
	}
}

func TestAggregateErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		ev    Event
		field string
	}{
		{"no time", Event{Good: ptr[int64](1), Total: ptr[int64](1)}, "events[0].time"},
		{"future", Event{Time: now.Add(time.Hour), Good: ptr[int64](1), Total: ptr[int64](1)}, "events[0].time"},
		{"good > total", Event{Time: now, Good: ptr[int64](2), Total: ptr[int64](1)}, "events[0].good"},
		{"missing total", Event{Time: now, Good: ptr[int64](2)}, "events[0].total"},
		{"both", Event{Time: now, Good: ptr[int64](1), Total: ptr[int64](1), Status: ptr(200)}, "events[0].good"},
		{"empty", Event{Time: now}, "events[0].total"},
		{"status", Event{Time: now, Status: ptr(42), LatencyMs: ptr(1.0)}, "events[0].status"},
		{"negative latency", Event{Time: now, LatencyMs: ptr(-1.0)}, "events[0].latency_ms"},
		{"latency required", Event{Time: now, Status: ptr(200)}, "events[0].latency_ms"},
	} {
		_, err := Aggregate(nativeDef(), Batch{Events: []Event{c.ev}}, now)
		var te *tandem.Error
		if err == nil || !asErr(err, &te) || te.Field != c.field || te.Code != tandem.EInvalid {
			t.Errorf("%s: got %v, want an invalid error on %s", c.name, err, c.field)
		}
	}
	if _, err := Aggregate(nativeDef(), Batch{BatchID: "x", Events: []Event{{Time: now, Good: ptr[int64](1), Total: ptr[int64](1)}}}, now); err == nil || !strings.Contains(err.Error(), "source") {
		t.Errorf("batch id without source: %v", err)
	}
}

func asErr(err error, te **tandem.Error) bool {
	e, ok := err.(*tandem.Error)
	*te = e
	return ok
}

func TestExprs(t *testing.T) {
	def := &slo.Definition{Objective: 0.999, Indicator: slo.Indicator{Good: `a{x="1"}`, Total: "a"}}
	if got := GoodExpr(def, "5m"); got != `sum(increase(a{x="1"}[5m]))` {
		t.Error(got)
	}
	def.Indicator.Good, def.Indicator.Bad = "", "b"
	if got := GoodExpr(def, "1h"); got != `(sum(increase(a[1h])) - (sum(increase(b[1h])) or vector(0)))` {
		t.Error(got)
	}
	def.Method, def.TimeSliceWindow, def.TimeSliceTarget = slo.Timeslices, time.Minute, 0.95
	if got := TotalExpr(def, "1d"); got != `sum(count_over_time((((1 - sum(increase(b[1m])) / (sum(increase(a[1m])) > 0))) >= bool 0.95)[86399s:1m]))` {
		t.Error(got)
	}
	// The guard of a ratio in time slices counts events, not slices.
	if got := EventsExpr(def, "1h"); got != `sum(increase(a[1h]))` {
		t.Error(got)
	}
	// A threshold drops a point it cannot compute (NaN) before comparing;
	// a 5-minute slice is good when 95 % of its 5 points (a minute apart)
	// meet the threshold.
	th := &slo.Definition{Method: slo.Timeslices, TimeSliceWindow: 5 * time.Minute, TimeSliceTarget: 0.95, Indicator: slo.Indicator{Query: "p95", Op: "lte", Threshold: 0.3}}
	if got := GoodExpr(th, "28d"); got != `sum(sum_over_time((avg_over_time((((p95) <= +Inf) <= bool 0.3)[299s:1m]) >= bool 0.95)[2419199s:5m]))` {
		t.Error(got)
	}
	// A 1-minute slice is its one point; {{.window}} is the slice.
	th.TimeSliceWindow, th.Indicator.Query, th.Indicator.Op = time.Minute, `q(x[{{.window}}])`, "gt"
	if got := TotalExpr(th, "1h"); got != `sum(count_over_time((((q(x[1m])) <= +Inf) > bool 0.3)[3599s:1m]))` {
		t.Error(got)
	}
	// It has no event count (its guard counts the slices with data), nor
	// has an SLI whose units are events.
	if EventsExpr(th, "1h") != "" || EventsExpr(&slo.Definition{Indicator: slo.Indicator{Total: "a"}}, "1h") != "" {
		t.Error(EventsExpr(th, "1h"))
	}
}

func FuzzAggregate(f *testing.F) {
	f.Add([]byte(`{"source":"a","batch_id":"1","events":[{"time":"2026-11-25T12:00:00Z","good":9,"total":10}]}`))
	f.Add([]byte(`{"events":[{"time":"2026-11-25T11:59:00Z","latency_ms":120.5,"status":200},{"time":"2026-11-25T11:00:00Z","latency_ms":1e12}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var batch Batch
		if json.Unmarshal(b, &batch) != nil {
			return
		}
		bs, err := Aggregate(nativeDef(), batch, now)
		if err != nil {
			if _, ok := err.(*tandem.Error); !ok {
				t.Fatalf("not an application error: %v", err)
			}
			return
		}
		for _, m := range bs {
			if m.Good < 0 || m.Good > m.Total {
				t.Fatalf("bad bucket %+v", m)
			}
		}
	})
}
