package sli

import (
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tandemhq/tandem/internal/slo"
)

// Explicit bounds are upper-inclusive: bucket i covers (bounds[i-1],
// bounds[i]]; a threshold inside a bucket leaves that bucket bad.
func TestExplicitGood(t *testing.T) {
	bounds := []float64{0.1, 0.25, 0.5, 1}
	counts := []uint64{5, 10, 20, 30, 35} // ≤0.1, (0.1,0.25], (0.25,0.5], (0.5,1], >1
	for _, c := range []struct {
		t    float64
		want uint64
	}{
		{0.05, 0},   // inside the first bucket: bad
		{0.1, 5},    // a boundary: the first bucket
		{0.25, 15},  // 5 + 10
		{0.3, 15},   // inside (0.25, 0.5]: that bucket is bad
		{0.5, 35},   // 5 + 10 + 20
		{100, 65},   // every finite bucket; (1, +Inf) is never good
		{1e-300, 0}, // below everything
	} {
		if got := ExplicitGood(bounds, counts, c.t); got != c.want {
			t.Errorf("ExplicitGood(t=%v) = %d, want %d", c.t, got, c.want)
		}
	}
	// Only a count, no buckets: nothing is known to be fast.
	if got := ExplicitGood(nil, nil, 1); got != 0 {
		t.Errorf("no buckets: %d, want 0", got)
	}
}

func expPoint(scale, offset int32, counts []uint64, zero uint64, zeroThreshold float64, neg []uint64) pmetric.ExponentialHistogramDataPoint {
	p := pmetric.NewExponentialHistogramDataPoint()
	p.SetScale(scale)
	p.Positive().SetOffset(offset)
	p.Positive().BucketCounts().FromRaw(counts)
	p.Negative().BucketCounts().FromRaw(neg)
	p.SetZeroCount(zero)
	p.SetZeroThreshold(zeroThreshold)
	n := zero
	for _, c := range append(append([]uint64(nil), counts...), neg...) {
		n += c
	}
	p.SetCount(n)
	return p
}

// Exponential bucket i covers (base^i, base^(i+1)], base = 2^(2^-scale);
// it is good when base^(i+1) is at most the threshold.
func TestExponentialGood(t *testing.T) {
	// Scale 0, base 2, offset -3: (1/8,1/4] 1, (1/4,1/2] 2, (1/2,1] 3,
	// (1,2] 4, (2,4] 5; zero bucket 6 (threshold 0).
	p0 := expPoint(0, -3, []uint64{1, 2, 3, 4, 5}, 6, 0, nil)
	// Scale 1, base √2, offset 0: (1,√2] (√2,2] (2,2√2] (2√2,4], 1 each.
	p1 := expPoint(1, 0, []uint64{1, 1, 1, 1}, 0, 0, nil)
	// Scale -1, base 4, offset -1: (1/4,1] 1, (1,4] 2, (4,16] 3.
	pm := expPoint(-1, -1, []uint64{1, 2, 3}, 0, 0, nil)
	// A zero bucket of threshold 0.5 and 2 negative observations.
	pz := expPoint(0, 0, []uint64{7}, 3, 0.5, []uint64{2})
	for _, c := range []struct {
		name string
		p    pmetric.ExponentialHistogramDataPoint
		t    float64
		want uint64
	}{
		{"scale 0 at 1", p0, 1, 12},     // zero 6 + 1 + 2 + 3
		{"scale 0 at 1.5", p0, 1.5, 12}, // (1,2] holds 1.5: bad
		{"scale 0 at 2", p0, 2, 16},     // + 4
		{"scale 0 at 0.2", p0, 0.2, 6},  // only the zero bucket
		{"scale 0 at 4", p0, 4, 21},     // all
		{"scale 1 at 2", p1, 2, 2},      // (1,√2] (√2,2]
		{"scale 1 at 2.8", p1, 2.8, 2},  // 2√2 = 2.828…: (2,2√2] is bad
		{"scale 1 at 2.83", p1, 2.83, 3},
		{"scale -1 at 4", pm, 4, 3},   // (1/4,1] (1,4]
		{"scale -1 at 8", pm, 8, 3},   // (4,16] holds 8: bad
		{"scale -1 at 16", pm, 16, 6}, // all
		{"zero threshold above t", pz, 0.25, 2},
		{"zero threshold at t", pz, 0.5, 5},
		{"zero and (1,2]", pz, 2, 12},
	} {
		if got := ExponentialGood(c.p, c.t); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// maxBoundIndex is exact at every power of two, for every scale.
func TestMaxBoundIndex(t *testing.T) {
	for scale := int32(-10); scale <= 20; scale++ {
		for _, e := range []int{-20, -3, -1, 0, 1, 7, 30} {
			v := math.Ldexp(1, e)
			// 2^e = base^j with j = e·2^scale (for scale < 0: when e is a
			// multiple of 2^-scale; otherwise the floor).
			var want int64
			if scale >= 0 {
				want = int64(e) << scale
			} else {
				want = floorDiv(int64(e), int64(1)<<-scale)
			}
			if got := maxBoundIndex(v, scale); got != want {
				t.Errorf("maxBoundIndex(2^%d, scale %d) = %d, want %d", e, scale, got, want)
			}
			if scale > 0 {
				if got := maxBoundIndex(math.Nextafter(v, 0), scale); got != want-1 {
					t.Errorf("maxBoundIndex(just below 2^%d, scale %d) = %d, want %d", e, scale, got, want-1)
				}
			}
		}
	}
}

var tm = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func otlpDefs() []*slo.Definition {
	return []*slo.Definition{
		{Name: "checkout-availability", Indicator: slo.Indicator{Source: slo.SourceNative, OTLP: &slo.OTLPSelector{
			Metric: "http.server.requests", MaxStatus: 500,
			Match: []slo.AttrMatcher{{Key: "service.name", Values: []string{"checkout"}}},
		}}},
		{Name: "checkout-latency", Indicator: slo.Indicator{Source: slo.SourceNative, OTLP: &slo.OTLPSelector{
			Metric: "http.server.request.duration", LatencyMaxMs: 250,
			Match: []slo.AttrMatcher{{Key: "service.name", Values: []string{"checkout"}}},
			Good:  []slo.AttrMatcher{{Key: "http.request.method", Values: []string{"GET", "POST"}}},
		}}},
	}
}

func TestOTLPMapping(t *testing.T) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	ts := pcommon.NewTimestampFromTime(tm.Add(-30 * time.Second))
	st := pcommon.NewTimestampFromTime(tm.Add(-90 * time.Second))

	sum := ms.AppendEmpty()
	sum.SetName("http.server.requests")
	s := sum.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for _, c := range []struct {
		code any
		n    int64
	}{{200, 90}, {"503", 7}, {nil, 3}} {
		p := s.DataPoints().AppendEmpty()
		p.SetStartTimestamp(st)
		p.SetTimestamp(ts)
		p.SetIntValue(c.n)
		switch v := c.code.(type) {
		case int:
			p.Attributes().PutInt("http.response.status_code", int64(v))
		case string:
			p.Attributes().PutStr("http.response.status_code", v)
		}
	}
	hist := ms.AppendEmpty()
	hist.SetName("http.server.request.duration")
	hist.SetUnit("s")
	h := hist.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	hp := h.DataPoints().AppendEmpty()
	hp.SetStartTimestamp(st)
	hp.SetTimestamp(ts)
	hp.Attributes().PutStr("http.request.method", "GET")
	hp.ExplicitBounds().FromRaw([]float64{0.1, 0.25, 1})
	hp.BucketCounts().FromRaw([]uint64{50, 30, 15, 5})
	hp.SetCount(100)
	// A DELETE: counted in total, never good.
	hp2 := h.DataPoints().AppendEmpty()
	hp.CopyTo(hp2)
	hp2.Attributes().PutStr("http.request.method", "DELETE")
	// Malformed: counts add up to 99, not 100.
	hp3 := h.DataPoints().AppendEmpty()
	hp.CopyTo(hp3)
	hp3.BucketCounts().FromRaw([]uint64{50, 30, 15, 4})

	g := ms.AppendEmpty()
	g.SetName("http.server.requests") // a gauge of a read metric name
	g.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	other := ms.AppendEmpty()
	other.SetName("queue.depth")
	other.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	// Another service's requests: no SLO matches.
	rm2 := md.ResourceMetrics().AppendEmpty()
	rm2.Resource().Attributes().PutStr("service.name", "cart")
	sum.CopyTo(rm2.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty())
	// Too old.
	old := ms.AppendEmpty()
	sum.CopyTo(old)
	old.Sum().DataPoints().RemoveIf(func(p pmetric.NumberDataPoint) bool {
		p.SetTimestamp(pcommon.NewTimestampFromTime(tm.Add(-slo.HourRetention - time.Hour)))
		return false
	})

	m := OTLP(md, NewOTLPIndex(otlpDefs()), tm)
	want := map[string]int64{DropMalformed: 1, DropUnsupported: 1, DropNoSLO: 1, DropNoMatch: 3, DropOutOfRange: 3}
	if len(m.Dropped) != len(want) {
		t.Errorf("dropped %v, want %v", m.Dropped, want)
	}
	for r, n := range want {
		if m.Dropped[r] != n {
			t.Errorf("dropped %s = %d, want %d (all: %v)", r, m.Dropped[r], n, m.Dropped)
		}
	}
	if m.Matched != 5 || len(m.Points) != 5 {
		t.Fatalf("matched %d, %d points: %+v", m.Matched, len(m.Points), m.Points)
	}
	type gt struct {
		good, total int64
		cum         bool
	}
	wantPts := []gt{
		{90, 90, true}, // 200 < 500
		{0, 7, true},   // 503
		{0, 3, true},   // no status: bad
		{80, 100, false},
		{0, 100, false}, // DELETE
	}
	series := map[string]bool{}
	for i, p := range m.Points {
		if p.Good != wantPts[i].good || p.Total != wantPts[i].total || p.Cumulative != wantPts[i].cum || !p.Time.Equal(ts.AsTime()) || !p.Start.Equal(st.AsTime()) {
			t.Errorf("point %d = %+v, want %+v", i, p, wantPts[i])
		}
		series[p.Series] = true
	}
	if len(series) != 5 {
		t.Errorf("%d distinct series among 5 points of distinct attributes", len(series))
	}
	// The same point again hashes to the same series, whatever the order
	// of its attributes.
	md2 := pmetric.NewMetrics()
	md.CopyTo(md2)
	a := md2.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Attributes()
	a.PutStr("zz", "1")
	a.Remove("zz")
	if m2 := OTLP(md2, NewOTLPIndex(otlpDefs()), tm); m2.Points[0].Series != m.Points[0].Series {
		t.Error("series key changed for the same attributes")
	}
}

// A latency SLO fed by a Sum, or by a histogram of a unit that is not a
// time, drops the point with its reason.
func TestOTLPDropReasons(t *testing.T) {
	defs := []*slo.Definition{{Name: "lat", Indicator: slo.Indicator{OTLP: &slo.OTLPSelector{Metric: "m", LatencyMaxMs: 100}}}}
	for _, c := range []struct {
		name   string
		build  func(m pmetric.Metric)
		reason string
	}{
		{"sum for latency", func(m pmetric.Metric) {
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			p := s.DataPoints().AppendEmpty()
			p.SetTimestamp(pcommon.NewTimestampFromTime(tm))
			p.SetIntValue(3)
		}, DropNotHistogram},
		{"unit By", func(m pmetric.Metric) {
			m.SetUnit("By")
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			p := h.DataPoints().AppendEmpty()
			p.SetTimestamp(pcommon.NewTimestampFromTime(tm))
			p.SetCount(1)
		}, DropUnit},
		{"up-down counter", func(m pmetric.Metric) {
			s := m.SetEmptySum()
			s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			s.DataPoints().AppendEmpty().SetTimestamp(pcommon.NewTimestampFromTime(tm))
		}, DropNonMonotonic},
		{"fractional", func(m pmetric.Metric) {
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			p := s.DataPoints().AppendEmpty()
			p.SetTimestamp(pcommon.NewTimestampFromTime(tm))
			p.SetDoubleValue(2.5)
		}, DropBadValue},
		{"no temporality", func(m pmetric.Metric) {
			h := m.SetEmptyExponentialHistogram()
			h.DataPoints().AppendEmpty().SetTimestamp(pcommon.NewTimestampFromTime(tm))
		}, DropTemporality},
		{"scale 21", func(m pmetric.Metric) {
			m.SetUnit("ms")
			h := m.SetEmptyExponentialHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			p := h.DataPoints().AppendEmpty()
			p.SetTimestamp(pcommon.NewTimestampFromTime(tm))
			p.SetScale(21)
		}, DropMalformed},
		{"no recorded value", func(m pmetric.Metric) {
			m.SetUnit("ms")
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			p := h.DataPoints().AppendEmpty()
			p.SetTimestamp(pcommon.NewTimestampFromTime(tm))
			p.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
		}, DropNoValue},
	} {
		md := pmetric.NewMetrics()
		m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("m")
		c.build(m)
		got := OTLP(md, NewOTLPIndex(defs), tm)
		if len(got.Points) != 0 || got.Dropped[c.reason] != 1 || got.DroppedTotal() != 1 {
			t.Errorf("%s: points %v dropped %v, want 1 %s", c.name, got.Points, got.Dropped, c.reason)
		}
		if DropReasons[c.reason] == "" {
			t.Errorf("reason %s unexplained", c.reason)
		}
	}
}
