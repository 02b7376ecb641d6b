package dora

import (
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: on a shared machine it
// says more about the code than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bigInputs builds an org of 200 services over a year with nDeploys deploys
// and ten commits per deploy on average: the input as a loader gives it
// (deploys in time order, commit times grouped per deploy).
func bigInputs(nDeploys, nCommits int) (Inputs, time.Time, time.Time) {
	rng := rand.New(rand.NewPCG(1, 2))
	const nsvc = 200
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	span := to.Sub(from).Milliseconds()
	in := Inputs{Services: make([]Service, nsvc), Deploys: make([]Deploy, nDeploys), CommitTimes: make([]int64, 0, nCommits)}
	for i := range in.Services {
		in.Services[i] = Service{Name: "svc-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Team: "team-" + string(rune('a'+i%20))}
	}
	step := span / int64(nDeploys)
	perDeploy := nCommits / nDeploys
	for i := range in.Deploys {
		t := from.UnixMilli() + int64(i)*step
		d := Deploy{ID: int64(i + 1), At: t, Service: int32(rng.IntN(nsvc)), CommitsFrom: int32(len(in.CommitTimes))}
		switch r := rng.IntN(100); {
		case r < 8:
			d.Status = Failed
		case r < 10:
			d.Rollback = true
		case r < 13:
			d.Hotfix = true
		}
		if d.Status == Success && !d.Rollback {
			for c := 0; c < perDeploy*2 && len(in.CommitTimes) < nCommits; c++ {
				in.CommitTimes = append(in.CommitTimes, t-rng.Int64N(7*24*3600*1000))
			}
		}
		d.CommitsTo = int32(len(in.CommitTimes))
		in.Deploys[i] = d
	}
	for i := 0; i < nDeploys/100; i++ {
		s := from.Add(time.Duration(rng.Int64N(span)) * time.Millisecond)
		in.Incidents = append(in.Incidents, Incident{Service: in.Services[rng.IntN(nsvc)].Name, StartedAt: s, ResolvedAt: s.Add(time.Duration(rng.IntN(600)) * time.Minute)})
	}
	return in, from, to
}

// BenchmarkReportMillion is the target: one org-wide report over 1,000,000
// deploys and 10,000,000 commits in under 2 s and under 1 GB.
func BenchmarkReportMillion(b *testing.B) {
	in, from, to := bigInputs(1_000_000, 10_000_000)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	var r Report
	cpu0 := cpuTime()
	for b.Loop() {
		r = Compute(in, from, to, Options{})
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Peak heap: the inputs plus what one computation holds at most.
	b.ReportMetric(float64(after.HeapSys)/(1<<20), "heap-sys-MB")
	b.ReportMetric(float64(len(in.CommitTimes)), "commits")
	if r.Deploys == 0 || r.LeadTimeCommits != len(in.CommitTimes) {
		b.Fatalf("report: %+v (commits %d)", r, len(in.CommitTimes))
	}
}

// BenchmarkByService is the /metrics collector's work: a report per service.
func BenchmarkByService(b *testing.B) {
	in, from, to := bigInputs(100_000, 1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		a := Analyze(in, Options{})
		a.ByService(from, to)
	}
}
