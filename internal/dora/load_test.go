package dora_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/dora"
)

// TestLoaderBothEngines reads a small history through the store on both
// engines and computes the same report as the pure function over the same
// events.
func TestLoaderBothEngines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := change.NewStore(d)
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		// api: commits a (10:00) b (11:00); deploys at 12:00 (a), 13:00 failed
		// (b), 14:00 (b) in production; one deploy in staging.
		if _, err := s.RecordCommits(ctx, []change.Commit{
			{Service: "api", SHA: "aaaaaaa", CommittedAt: now.Add(-14 * time.Hour)},
			{Service: "api", SHA: "bbbbbbb", CommittedAt: now.Add(-13 * time.Hour)},
		}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, []change.Event{
			{Service: "api", FinishedAt: now.Add(-12 * time.Hour), Commit: "aaaaaaa"},
			{Service: "api", FinishedAt: now.Add(-11 * time.Hour), Commit: "bbbbbbb", Status: "failed"},
			{Service: "api", FinishedAt: now.Add(-10 * time.Hour), Commit: "bbbbbbb"},
			{Service: "api", FinishedAt: now.Add(-10 * time.Hour), Environment: "staging"},
		}, now); err != nil {
			t.Fatal(err)
		}
		cat := catalog.New([]catalog.Team{{Name: "t"}}, nil, []catalog.Service{{Name: "api", Team: "t"}}, nil)
		l := dora.Loader{Changes: s}
		r, err := l.Report(ctx, cat, dora.Query{From: now.Add(-24 * time.Hour), To: now})
		if err != nil {
			t.Fatal(err)
		}
		// 3 production deploys, 1 failed; leads: a 12:00-10:00 = 2h, b carried
		// over from the failed deploy to 14:00: 3h. median 2.5h = 9000 s.
		// recovery 1h = 3600 s; rework: the third follows the failed second.
		if r.Deploys != 3 || r.FailedDeploys != 1 || r.LeadTimeCommits != 2 || *r.LeadTimeMedianSeconds != 9000 ||
			*r.RecoveryTimeMedianSeconds != 3600 || r.ReworkDeploys != 1 || r.Environment != "production" {
			t.Errorf("report: %+v", r)
		}
	})
}

// BenchmarkLoadReport measures a 90-day org report read from the database:
// 20 services, 20,000 deploys and 100,000 commits over a year.
func BenchmarkLoadReport(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var d *db.DB
			if engine == "sqlite" {
				d = dbtest.SQLite(b)
			} else {
				d = dbtest.Postgres(b)
			}
			ctx := context.Background()
			s := change.NewStore(d)
			now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			rng := rand.New(rand.NewPCG(3, 4))
			var services []catalog.Service
			for i := 0; i < 20; i++ {
				services = append(services, catalog.Service{Name: fmt.Sprintf("svc-%02d", i), Team: fmt.Sprintf("team-%d", i%5)})
			}
			const deploys = 20000
			var evs []change.Event
			var commits []change.Commit
			for i := 0; i < deploys; i++ {
				svc := services[rng.IntN(len(services))].Name
				at := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
				e := change.Event{Service: svc, FinishedAt: at, ExternalID: fmt.Sprint(i), Source: "bench"}
				if rng.IntN(10) == 0 {
					e.Status = "failed"
				}
				for c := 0; c < 5; c++ {
					sha := fmt.Sprintf("%08x%032x", i, c)
					commits = append(commits, change.Commit{Service: svc, SHA: sha, CommittedAt: at.Add(-time.Duration(rng.IntN(72)) * time.Hour)})
					e.Commits = append(e.Commits, sha)
				}
				evs = append(evs, e)
			}
			for i := 0; i < len(commits); i += 5000 {
				if _, err := s.RecordCommits(ctx, commits[i:i+5000], now); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < len(evs); i += 1000 {
				if _, err := s.Record(ctx, evs[i:i+1000], now); err != nil {
					b.Fatal(err)
				}
			}
			cat := catalog.New([]catalog.Team{{Name: "team-0"}}, nil, services, nil)
			l := dora.Loader{Changes: s}
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := l.Report(ctx, cat, dora.Query{From: now.Add(-90 * 24 * time.Hour), To: now})
				if err != nil || r.Deploys == 0 {
					b.Fatal(r, err)
				}
			}
			// This process's CPU only (PostgreSQL's own work is not in it).
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
