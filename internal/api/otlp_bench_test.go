package api_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/tandemhq/tandem/internal/auth"
)

// BenchmarkOTLPIngest posts OTLP/HTTP protobuf exports of 1,000 cumulative
// counter points each (1,000 series of checkout.requests, as 1,000
// instances by status would send) to a tandem on SQLite, through HTTP,
// decoding, mapping, the series state and the bucket writes, and reports
// data points per second. Target: 50,000/s.
func BenchmarkOTLPIngest(b *testing.B) {
	s := otlpServerB(b)
	tok := s.Token(b, "bench", auth.ScopeWrite)
	const series = 1000
	start := time.Now().Add(-time.Minute)
	body := func(i int) []byte {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "checkout")
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("checkout.requests")
		sum := m.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		ts := pcommon.NewTimestampFromTime(start.Add(time.Duration(i+1) * time.Millisecond))
		for k := range series {
			p := sum.DataPoints().AppendEmpty()
			p.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			p.SetTimestamp(ts)
			p.SetIntValue(int64(10 * (i + 1)))
			p.Attributes().PutInt("http.response.status_code", int64(200+k%2*300))
			p.Attributes().PutInt("instance", int64(k))
		}
		out, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	reqs := make([][]byte, b.N)
	for i := range reqs {
		reqs[i] = body(i)
	}
	b.ResetTimer()
	for i := range b.N {
		req, _ := http.NewRequest("POST", s.URL+"/v1/metrics", bytes.NewReader(reqs[i]))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("export %d: %d", i, resp.StatusCode)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*series)/b.Elapsed().Seconds(), "points/s")
}
