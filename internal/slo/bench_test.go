package slo

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkEvaluate10kSLOs evaluates 10,000 SLOs, each with 28 days of
// per-minute data held as the in-memory rollup (hours, then the last 6 h of
// minutes): SLI, budget, every burn window and the alert state. Target:
// under 1 s and 1 GB for all of them. The heap-MB metric is the live heap
// with every series loaded.
func BenchmarkEvaluate10kSLOs(b *testing.B) {
	const n = 10000
	now := time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)
	def := &Definition{Name: "x", Service: "s", Objective: 0.999, Method: Occurrences,
		Window: Window{Rolling: 28 * 24 * time.Hour}, Alerting: DefaultPolicy(28 * 24 * time.Hour)}
	from := now.Add(-28 * 24 * time.Hour)
	hs, ms, end := SeriesLayout(from, now)
	series := make([]Series, n)
	for i := range series {
		s := Series{HourStart: hs, MinuteStart: ms, End: end, LatencyP95Ms: -1}
		s.Hours = make([]Counts, int(ms.Sub(hs)/time.Hour))
		s.Minutes = make([]Counts, int(end.Sub(ms)/time.Minute))
		for j := range s.Hours {
			// 60 minutes of 100 requests, a few failing.
			s.Hours[j] = Counts{Good: 6000 - float64((i+j)%7), Total: 6000}
		}
		for j := range s.Minutes {
			s.Minutes[j] = Counts{Good: 100 - float64((i+j)%3), Total: 100}
		}
		series[i] = s
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heap := float64(m.HeapInuse) / (1 << 20)
	b.ResetTimer()
	for b.Loop() {
		for i := range series {
			st := Evaluate(def, &series[i], now)
			if st.Total == nil || *st.Total == 0 {
				b.Fatal("no data")
			}
		}
	}
	b.ReportMetric(n, "SLOs/op")
	b.ReportMetric(heap, "heap-MB")
	runtime.KeepAlive(series)
}
