package sli

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// seedMetrics is an export with each kind of metric the mapping reads.
func seedMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	ts := pcommon.NewTimestampFromTime(tm)
	s := ms.AppendEmpty()
	s.SetName("http.server.requests")
	sum := s.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	p := sum.DataPoints().AppendEmpty()
	p.SetTimestamp(ts)
	p.SetStartTimestamp(ts - 1e9)
	p.SetIntValue(7)
	p.Attributes().PutInt("http.response.status_code", 200)
	h := ms.AppendEmpty()
	h.SetName("http.server.request.duration")
	h.SetUnit("s")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	hp := hist.DataPoints().AppendEmpty()
	hp.SetTimestamp(ts)
	hp.Attributes().PutStr("http.request.method", "GET")
	hp.ExplicitBounds().FromRaw([]float64{0.1, 0.25})
	hp.BucketCounts().FromRaw([]uint64{1, 2, 3})
	hp.SetCount(6)
	e := ms.AppendEmpty()
	e.SetName("http.server.request.duration")
	e.SetUnit("ms")
	eh := e.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	ep := eh.DataPoints().AppendEmpty()
	ep.SetTimestamp(ts)
	ep.Attributes().PutStr("http.request.method", "GET")
	ep.SetScale(3)
	ep.Positive().SetOffset(60)
	ep.Positive().BucketCounts().FromRaw([]uint64{4, 5})
	ep.SetZeroCount(1)
	ep.SetCount(10)
	return md
}

func totalPoints(md pmetric.Metrics) int64 {
	var n int64
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				n += int64(pointCount(ms.At(k)))
			}
		}
	}
	return n
}

// fuzzMapping checks what the mapping makes of any decodable export: every
// point is either taken (by one or more SLOs) or dropped, once; counts are
// never negative and good never above total.
func fuzzMapping(t *testing.T, md pmetric.Metrics) {
	m := OTLP(md, NewOTLPIndex(otlpDefs()), tm)
	if got, want := m.Matched+m.DroppedTotal(), totalPoints(md); got != want {
		t.Fatalf("matched %d + dropped %d (%v) != %d points", m.Matched, m.DroppedTotal(), m.Dropped, want)
	}
	for _, p := range m.Points {
		if p.Good < 0 || p.Good > p.Total || p.Total > maxCount || p.Series == "" {
			t.Fatalf("point %+v", p)
		}
	}
}

// FuzzOTLPProto feeds POST /v1/metrics's protobuf decoding and the
// mapping onto SLOs arbitrary bytes.
func FuzzOTLPProto(f *testing.F) {
	b, err := pmetricotlp.NewExportRequestFromMetrics(seedMetrics()).MarshalProto()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			return
		}
		fuzzMapping(t, req.Metrics())
	})
}

// FuzzOTLPJSON is FuzzOTLPProto for the JSON encoding.
func FuzzOTLPJSON(f *testing.F) {
	b, err := pmetricotlp.NewExportRequestFromMetrics(seedMetrics()).MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"http.server.requests","sum":{"isMonotonic":true,"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"1795998000000000000","asDouble":1e300}]}}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalJSON(b); err != nil {
			return
		}
		fuzzMapping(t, req.Metrics())
	})
}
