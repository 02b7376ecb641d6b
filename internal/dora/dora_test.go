package dora

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/change"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// history is a small, hand-built history over 10 days (Jan 1-11 2026) for
// two services of the payments team. The expectations in TestHandBuilt are
// worked out by hand from it in the comments.
func history() ([]Service, []change.Event, []change.Commit, []Incident) {
	services := []Service{{Name: "checkout", Team: "payments"}, {Name: "invoicing", Team: "payments"}}
	commits := []change.Commit{
		{Service: "checkout", SHA: "c1c1c1c", CommittedAt: at("2026-01-01 08:00")},
		{Service: "checkout", SHA: "c2c2c2c", CommittedAt: at("2026-01-01 10:00")},
		{Service: "checkout", SHA: "c3c3c3c", CommittedAt: at("2026-01-02 09:00")},
		{Service: "checkout", SHA: "c4c4c4c", CommittedAt: at("2026-01-03 12:00")},
		// A merge time, when known, starts lead time instead of the commit.
		{Service: "checkout", SHA: "c5c5c5c", CommittedAt: at("2026-01-03 20:00"), MergedAt: at("2026-01-04 06:00")},
		{Service: "invoicing", SHA: "11111111", CommittedAt: at("2026-01-01 12:00")},
	}
	ev := func(id int64, svc, kind, status, finished string, commits []string, labels ...string) change.Event {
		e := change.Event{ID: id, Service: svc, Kind: kind, Status: status, Commits: commits, Labels: labels, Environment: "production"}
		if status == change.StatusInProgress {
			e.StartedAt = at(finished)
		} else {
			e.FinishedAt = at(finished)
		}
		return e
	}
	events := []change.Event{
		ev(10, "checkout", "deploy", "failed", "2025-12-31 23:00", nil), // D0: before the period
		ev(1, "checkout", "deploy", "success", "2026-01-01 12:00", []string{"c1c1c1c", "c2c2c2c"}),
		ev(2, "checkout", "deploy", "failed", "2026-01-02 12:00", []string{"c3c3c3c"}),
		ev(3, "checkout", "deploy", "success", "2026-01-02 15:00", []string{"c3c3c3c"}),
		ev(4, "checkout", "deploy", "success", "2026-01-03 14:00", []string{"c4c4c4c"}),
		ev(5, "checkout", "rollback", "success", "2026-01-03 14:30", nil),
		ev(6, "checkout", "deploy", "success", "2026-01-04 08:00", []string{"c5c5c5c"}, "hotfix"),
		ev(7, "checkout", "deploy", "success", "2026-01-05 09:00", nil),
		ev(8, "checkout", "deploy", "success", "2026-01-07 10:00", nil),
		ev(9, "checkout", "deploy", "in_progress", "2026-01-10 10:00", nil),
		ev(20, "invoicing", "deploy", "success", "2026-01-06 12:00", []string{"11111111"}),
	}
	incidents := []Incident{
		// I1: within 24h after D6 (id 7), no explicit link.
		{Service: "checkout", StartedAt: at("2026-01-05 10:00"), ResolvedAt: at("2026-01-05 12:00")},
		// I2: linked to D7 (id 8) explicitly, two days later.
		{Service: "checkout", StartedAt: at("2026-01-09 00:00"), ResolvedAt: at("2026-01-09 00:30"), DeployID: 8},
		// I3: 36h after invoicing's deploy (outside the window), unresolved.
		{Service: "invoicing", StartedAt: at("2026-01-08 00:00")},
	}
	return services, events, commits, incidents
}

func f(v float64) *float64 { return &v }

func TestHandBuilt(t *testing.T) {
	services, events, commits, incidents := history()
	in := Build(services, events, commits, incidents)
	a := Analyze(in, Options{})
	from, to := at("2026-01-01 00:00"), at("2026-01-11 00:00")

	// checkout, in [Jan 1, Jan 11):
	//   finished deploys (rollback R and in-progress D8 excluded): D1..D7 = 7
	//   successful: D1 D3 D4 D5 D6 D7 = 6 (D4 succeeded, then was rolled back)
	//   frequency 6 / 10 days = 0.6 per day (4.2 per week) -> high (>= 1/7, < 1)
	//   failed: D2 (status), D4 (followed by rollback), D6 (I1 one hour after it),
	//           D7 (I2 links it) = 4 -> CFR 4/7 = 0.5714 -> low (> 0.40)
	//   rework: D1 (13h after failed D0, before the period), D3 (3h after D2),
	//           D5 (hotfix, and 18h after failed D4) = 3 -> 3/7 = 0.4286
	//   lead times: D1 c1 12:00-08:00 = 4h, c2 2h; D3 c3 15:00-09:00 = 6h
	//           (carried over from failed D2); D4 c4 14:00-12:00 = 2h;
	//           D5 c5 08:00 - merged 06:00 = 2h.
	//           sorted 2 2 2 4 6 (h), n=5: median h=(5-1)*0.5=2 -> 2h = 7200 s;
	//           p90 h=3.6 -> 4 + 0.6*(6-4) = 5.2h = 18720 s -> elite (< 1 day)
	//   recoveries: D2 -> D3 3h; D4 -> rollback 30m; I1 2h; I2 30m
	//           sorted 0.5 0.5 2 3 (h), n=4: median h=1.5 -> 0.5 + 0.5*(2-0.5) = 1.25h
	//           = 4500 s; p90 h=2.7 -> 2 + 0.7*(3-2) = 2.7h = 9720 s -> high (< 1 day)
	checkout := a.Report(from, to, []int32{0})
	want := Report{From: from, To: to, Days: 10,
		DeploymentFrequencyPerDay: 0.6, DeploymentFrequencyPerWeek: 4.2, DeploymentFrequencyTier: High,
		Deploys: 7, SuccessfulDeploys: 6,
		LeadTimeMedianSeconds: f(7200), LeadTimeP90Seconds: f(18720), LeadTimeTier: Elite, LeadTimeCommits: 5,
		ChangeFailureRate: f(4.0 / 7), ChangeFailureRateTier: Low, FailedDeploys: 4,
		RecoveryTimeMedianSeconds: f(4500), RecoveryTimeP90Seconds: f(9720), RecoveryTimeTier: High, Recoveries: 4,
		ReworkRate: f(3.0 / 7), ReworkDeploys: 3,
	}
	same(t, "checkout", checkout, want)

	// invoicing: one successful deploy, 0.1 per day -> medium (>= 1/30, < 1/7);
	//   lead 11111111: Jan 6 12:00 - Jan 1 12:00 = 5 days = 432000 s -> high (< 1 week)
	//   CFR 0/1 = 0 -> elite; I3 is 36h after the deploy (> 24h): not linked,
	//   unresolved -> 1 open failure, no recovery sample -> no_data; rework 0/1.
	invoicing := a.Report(from, to, []int32{1})
	same(t, "invoicing", invoicing, Report{From: from, To: to, Days: 10,
		DeploymentFrequencyPerDay: 0.1, DeploymentFrequencyPerWeek: 0.7, DeploymentFrequencyTier: Medium,
		Deploys: 1, SuccessfulDeploys: 1,
		LeadTimeMedianSeconds: f(432000), LeadTimeP90Seconds: f(432000), LeadTimeTier: High, LeadTimeCommits: 1,
		ChangeFailureRate: f(0), ChangeFailureRateTier: Elite,
		RecoveryTimeTier: NoData, OpenFailures: 1,
		ReworkRate: f(0),
	})

	// org (= team payments): deploys 7+1 = 8, successful 7 -> 0.7/day -> high;
	//   failed 4 -> CFR 4/8 = 0.5 -> low; rework 3/8 = 0.375;
	//   leads 2 2 2 4 6 120 (h), n=6: median h=2.5 -> 2 + 0.5*(4-2) = 3h = 10800 s;
	//   p90 h=4.5 -> 6 + 0.5*(120-6) = 63h = 226800 s -> elite;
	//   recoveries as checkout; open failures 1 (I3).
	org := Compute(in, from, to, Options{})
	wantOrg := Report{From: from, To: to, Days: 10,
		DeploymentFrequencyPerDay: 0.7, DeploymentFrequencyPerWeek: 4.9, DeploymentFrequencyTier: High,
		Deploys: 8, SuccessfulDeploys: 7,
		LeadTimeMedianSeconds: f(10800), LeadTimeP90Seconds: f(226800), LeadTimeTier: Elite, LeadTimeCommits: 6,
		ChangeFailureRate: f(0.5), ChangeFailureRateTier: Low, FailedDeploys: 4,
		RecoveryTimeMedianSeconds: f(4500), RecoveryTimeP90Seconds: f(9720), RecoveryTimeTier: High, Recoveries: 4, OpenFailures: 1,
		ReworkRate: f(0.375), ReworkDeploys: 3,
	}
	same(t, "org", org, wantOrg)
	teams := a.ByTeam(from, to)
	if len(teams) != 1 || teams[0].Team != "payments" {
		t.Fatalf("teams = %+v", teams)
	}
	wantOrg.Team = "payments"
	same(t, "team", teams[0], wantOrg)

	// A narrower incident window (30 minutes) unlinks I1 from D6 (1h):
	// failed 3 of 7 for checkout.
	narrow := Analyze(in, Options{IncidentWindow: 30 * time.Minute}).Report(from, to, []int32{0})
	if narrow.FailedDeploys != 3 {
		t.Errorf("30m incident window: failed = %d, want 3", narrow.FailedDeploys)
	}
}

func same(t *testing.T, name string, got, want Report) {
	t.Helper()
	round := func(p *float64) {
		if p != nil {
			*p = math.Round(*p*1e9) / 1e9
		}
	}
	for _, r := range []*Report{&got, &want} {
		r.DeploymentFrequencyPerDay = math.Round(r.DeploymentFrequencyPerDay*1e9) / 1e9
		r.DeploymentFrequencyPerWeek = math.Round(r.DeploymentFrequencyPerWeek*1e9) / 1e9
		round(r.ChangeFailureRate)
		round(r.ReworkRate)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got  %s\n want %s", name, g, w)
	}
}

func TestHeadOnlyDeploys(t *testing.T) {
	// Deploys that name only their head ship every known commit up to the
	// head's time that no earlier deploy shipped.
	services := []Service{{Name: "api", Team: "t"}}
	commits := []change.Commit{
		{Service: "api", SHA: "aaaaaaa", CommittedAt: at("2026-01-01 01:00")},
		{Service: "api", SHA: "bbbbbbb", CommittedAt: at("2026-01-01 02:00")},
		{Service: "api", SHA: "ccccccc", CommittedAt: at("2026-01-01 03:00")},
	}
	events := []change.Event{
		{ID: 1, Service: "api", Kind: "deploy", Status: "success", Commit: "bbbbbbb", FinishedAt: at("2026-01-01 04:00")},
		{ID: 2, Service: "api", Kind: "deploy", Status: "success", Commit: "ccccccc", FinishedAt: at("2026-01-01 05:00")},
	}
	in := Build(services, events, commits, nil)
	// Deploy 1 ships a (3h) and b (2h); deploy 2 ships c (2h).
	if got := in.CommitTimes; len(got) != 3 {
		t.Fatalf("commit times = %v", got)
	}
	r := Compute(in, at("2026-01-01 00:00"), at("2026-01-02 00:00"), Options{})
	// leads 2h 2h 3h: median 2h = 7200 s
	if r.LeadTimeMedianSeconds == nil || *r.LeadTimeMedianSeconds != 7200 {
		t.Errorf("median = %v", r.LeadTimeMedianSeconds)
	}
}

func TestEmptyPeriod(t *testing.T) {
	r := Compute(Inputs{Services: []Service{{Name: "x"}}}, at("2026-01-01 00:00"), at("2026-01-08 00:00"), Options{})
	if r.DeploymentFrequencyPerDay != 0 || r.DeploymentFrequencyTier != Low || r.LeadTimeTier != NoData ||
		r.ChangeFailureRate != nil || r.ChangeFailureRateTier != NoData || r.RecoveryTimeTier != NoData || r.ReworkRate != nil {
		t.Errorf("empty period: %+v", r)
	}
	b, _ := json.Marshal(r)
	for _, key := range []string{`"deployment_frequency_per_day":0`, `"lead_time_median_seconds":null`, `"lead_time_p90_seconds":null`,
		`"change_failure_rate":null`, `"recovery_time_median_seconds":null`, `"rework_rate":null`} {
		if !contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestPeriodsByWeek(t *testing.T) {
	services, events, commits, incidents := history()
	a := Analyze(Build(services, events, commits, incidents), Options{})
	// Jan 1 2026 is a Thursday: pieces Thu 1 - Mon 5, Mon 5 - Mon 12 cut at 11.
	ps := a.Periods(at("2026-01-01 00:00"), at("2026-01-11 00:00"), "week", nil)
	if len(ps) != 2 || !ps[0].To.Equal(at("2026-01-05 00:00")) || !ps[1].To.Equal(at("2026-01-11 00:00")) {
		t.Fatalf("periods = %+v", ps)
	}
	// First piece: D1 D2 D3 D4 D5 (5 deploys); second: D6 D7 and invoicing = 3.
	if ps[0].Deploys != 5 || ps[1].Deploys != 3 {
		t.Errorf("deploys per week = %d, %d; want 5, 3", ps[0].Deploys, ps[1].Deploys)
	}
}

func TestQuantile(t *testing.T) {
	for _, c := range []struct {
		xs   []int64
		p    float64
		want float64
	}{
		{[]int64{5}, 0.5, 5},
		{[]int64{1, 2}, 0.5, 1.5},              // h=0.5: 1 + 0.5*(2-1)
		{[]int64{4, 1, 3, 2}, 0.5, 2.5},        // sorted 1 2 3 4, h=1.5
		{[]int64{10, 20, 30, 40, 50}, 0.9, 46}, // h=3.6: 40 + 0.6*10
		{[]int64{7, 7, 7, 7}, 0.9, 7},
	} {
		if got := quantile(append([]int64(nil), c.xs...), c.p); got != c.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
	}
}

func TestSelectKAgainstSort(t *testing.T) {
	xs := make([]int64, 5000)
	seed := uint64(1)
	for i := range xs {
		seed = seed*6364136223846793005 + 1442695040888963407
		xs[i] = int64(seed>>40) % 997
	}
	sorted := append([]int64(nil), xs...)
	sortInts(sorted)
	for _, k := range []int{0, 1, 2499, 2500, 4499, 4999} {
		c := append([]int64(nil), xs...)
		if got := selectK(c, k); got != sorted[k] {
			t.Errorf("selectK(k=%d) = %d, want %d", k, got, sorted[k])
		}
	}
}

func sortInts(xs []int64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func TestQuantilesLarge(t *testing.T) {
	// The bucketed path (n >= 4096) agrees with sorting, on spread and on
	// clustered data with one far outlier.
	seed := uint64(7)
	next := func() int64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int64(seed >> 33)
	}
	spread := make([]int64, 20000)
	clustered := make([]int64, 20000)
	for i := range spread {
		spread[i] = next() % 10_000_000
		clustered[i] = 1000 + next()%5
	}
	clustered[0] = 1 << 50
	for _, xs := range [][]int64{spread, clustered} {
		got := quantiles(xs, 0.5, 0.9)
		for i, p := range []float64{0.5, 0.9} {
			if want := quantile(append([]int64(nil), xs...), p); got[i] != want {
				t.Errorf("quantiles p=%v = %v, want %v", p, got[i], want)
			}
		}
	}
}
