package change

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)

		// Recording the same external id twice stores one and answers the first.
		first, err := s.Record(ctx, []Event{{Service: "checkout", Version: "1.2.3", Commit: "ABCDEF1", ExternalID: "run-1",
			FinishedAt: t0.Add(-time.Hour), Labels: []string{"hotfix"}, Links: map[string]string{"ci": "https://ci/1"}}}, t0)
		if err != nil {
			t.Fatal(err)
		}
		e := first[0]
		if e.ID == 0 || e.Existing || e.Environment != "production" || e.Kind != "deploy" || e.Status != "success" || e.Source != "api" || e.Commit != "abcdef1" {
			t.Fatalf("first record: %+v", e)
		}
		again, err := s.Record(ctx, []Event{{Service: "checkout", Version: "9.9.9", ExternalID: "run-1", FinishedAt: t0}}, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if again[0].ID != e.ID || !again[0].Existing || again[0].Version != "1.2.3" {
			t.Fatalf("second record: %+v, want the first (id %d)", again[0], e.ID)
		}
		all, err := s.List(ctx, Filter{})
		if err != nil || len(all) != 1 {
			t.Fatalf("list = %d events, %v; want 1", len(all), err)
		}
		if got := all[0]; got.Links["ci"] != "https://ci/1" || !got.HasLabel("hotfix") || !got.FinishedAt.Equal(t0.Add(-time.Hour)) {
			t.Fatalf("stored: %+v", got)
		}

		// A batch is all-or-nothing and names the bad item.
		_, err = s.Record(ctx, []Event{
			{Service: "a", FinishedAt: t0},
			{Service: "b", FinishedAt: t0},
			{Service: "c", Status: "exploded", FinishedAt: t0},
		}, t0)
		var te *tandem.Error
		if !errors.As(err, &te) || te.Code != tandem.EInvalid || te.Field != "events[2].status" {
			t.Fatalf("bad batch: %v", err)
		}
		if n, _ := s.List(ctx, Filter{}); len(n) != 1 {
			t.Fatalf("bad batch stored %d events", len(n)-1)
		}
		// Times more than 5 minutes ahead are refused.
		_, err = s.Record(ctx, []Event{{Service: "a", FinishedAt: t0.Add(6 * time.Minute)}}, t0)
		if !errors.As(err, &te) || te.Field != "finished_at" {
			t.Fatalf("future: %v", err)
		}
		// Duplicates inside one batch store one.
		dup, err := s.Record(ctx, []Event{{Service: "a", ExternalID: "x", FinishedAt: t0}, {Service: "a", ExternalID: "x", FinishedAt: t0}}, t0)
		if err != nil || dup[0].ID != dup[1].ID || !dup[1].Existing {
			t.Fatalf("duplicate in batch: %+v %v", dup, err)
		}

		// Start, then finish.
		started, err := s.Record(ctx, []Event{{Service: "search-api", StartedAt: t0.Add(-10 * time.Minute)}}, t0)
		if err != nil || started[0].Status != StatusInProgress {
			t.Fatalf("start: %+v %v", started, err)
		}
		done, err := s.SetStatus(ctx, started[0].ID, StatusFailed, "smoke test failed", t0)
		if err != nil || done.Status != StatusFailed || !done.FinishedAt.Equal(t0) || done.DurationMs != 600000 || done.FailureReason != "smoke test failed" {
			t.Fatalf("finish: %+v %v", done, err)
		}
		if _, err := s.SetStatus(ctx, started[0].ID, StatusInProgress, "", t0); tandem.ErrorCode(err) != tandem.EConflict {
			t.Fatalf("back to in_progress: %v", err)
		}
		if _, err := s.SetStatus(ctx, 9999, StatusFailed, "", t0); tandem.ErrorCode(err) != tandem.ENotFound {
			t.Fatalf("missing: %v", err)
		}
		got, err := s.Get(ctx, started[0].ID)
		if err != nil || got.Status != StatusFailed {
			t.Fatalf("get: %+v %v", got, err)
		}

		// Filters and Around.
		if _, err := s.Record(ctx, []Event{
			{Service: "checkout", Kind: "config", FinishedAt: t0.Add(-30 * time.Minute)},
			{Service: "checkout", Kind: "migration", FinishedAt: t0.Add(-3 * time.Hour)},
			{Service: "checkout", Kind: "flag", FinishedAt: t0.Add(-5 * time.Minute), Environment: "staging"},
		}, t0); err != nil {
			t.Fatal(err)
		}
		cfg, _ := s.List(ctx, Filter{Services: []string{"checkout"}, Kinds: []string{"config", "migration"}})
		if len(cfg) != 2 || cfg[0].Kind != "config" {
			t.Fatalf("kinds filter: %+v", cfg)
		}
		staging, _ := s.List(ctx, Filter{Environment: "staging"})
		if len(staging) != 1 {
			t.Fatalf("environment filter: %d", len(staging))
		}
		sus, err := s.Around(ctx, []string{"checkout"}, t0, 2*time.Hour, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// flag -5m, config -30m, deploy -1h; the migration (-3h) is outside.
		if len(sus) != 3 || sus[0].Kind != "flag" || sus[1].Kind != "config" || sus[2].Kind != "deploy" {
			t.Fatalf("around: %+v", kinds(sus))
		}

		// Commits: stored once; a merge time is filled in later.
		n, err := s.RecordCommits(ctx, []Commit{
			{Service: "checkout", SHA: "aaaaaaa", CommittedAt: t0.Add(-5 * time.Hour)},
			{Service: "checkout", SHA: "bbbbbbb", CommittedAt: t0.Add(-4 * time.Hour)},
		}, t0)
		if err != nil || n != 2 {
			t.Fatalf("commits: %d %v", n, err)
		}
		n, err = s.RecordCommits(ctx, []Commit{{Service: "checkout", SHA: "aaaaaaa", CommittedAt: t0, MergedAt: t0.Add(-2 * time.Hour)}}, t0)
		if err != nil || n != 0 {
			t.Fatalf("commits again: %d %v", n, err)
		}
		cs, err := s.Commits(ctx, CommitFilter{Services: []string{"checkout"}})
		if err != nil || len(cs) != 2 || !cs[0].CommittedAt.Equal(t0.Add(-5*time.Hour)) || !cs[0].MergedAt.Equal(t0.Add(-2*time.Hour)) {
			t.Fatalf("stored commits: %+v %v", cs, err)
		}
		if _, err := s.RecordCommits(ctx, []Commit{{Service: "x", SHA: "nothex!", CommittedAt: t0}}, t0); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Fatalf("bad sha: %v", err)
		}
	})
}

func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind+"@"+e.At().Format(time.Kitchen))
	}
	return out
}

// BenchmarkRecord measures small records per second through the store, in
// batches of 500 (one transaction, one prepared statement each). The
// foundation's target is 5,000 records/s on both engines.
func BenchmarkRecord(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var d *db.DB
			if engine == "sqlite" {
				d = dbtest.SQLite(b)
			} else {
				d = dbtest.Postgres(b)
			}
			s := NewStore(d)
			ctx := context.Background()
			const batch = 500
			evs := make([]Event, batch)
			n := 0
			start := time.Now()
			for b.Loop() {
				for i := range evs {
					n++
					evs[i] = Event{Service: fmt.Sprintf("svc-%d", n%50), Version: "1.0", Commit: "abcdef0",
						FinishedAt: t0.Add(time.Duration(n) * time.Second), ExternalID: fmt.Sprintf("e-%d", n)}
				}
				if _, err := s.Record(ctx, evs, t0.Add(100*24*time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
		})
	}
}

func TestApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		start := Event{Service: "api", Status: StatusInProgress, StartedAt: t0.Add(-time.Hour), Source: "ci", ExternalID: "p1"}
		out, err := s.Apply(ctx, []Event{start, {Service: "api", Source: "ci", ExternalID: "p2", FinishedAt: t0}}, t0)
		if err != nil || out[0].Status != StatusInProgress || out[1].Status != StatusSuccess {
			t.Fatalf("apply: %+v %v", out, err)
		}
		// The outcome of p1 arrives; p2 is sent again with another status and
		// stays as first recorded (it is not in progress).
		out, err = s.Apply(ctx, []Event{
			{Service: "api", Status: StatusFailed, FinishedAt: t0.Add(-30 * time.Minute), Source: "ci", ExternalID: "p1", FailureReason: "tests"},
			{Service: "api", Status: StatusFailed, FinishedAt: t0, Source: "ci", ExternalID: "p2"},
		}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if e := out[0]; !e.Existing || e.Status != StatusFailed || !e.FinishedAt.Equal(t0.Add(-30*time.Minute)) || e.FailureReason != "tests" || e.DurationMs != 1800000 {
			t.Errorf("finished p1: %+v", e)
		}
		if e := out[1]; !e.Existing || e.Status != StatusSuccess {
			t.Errorf("p2: %+v", e)
		}
		got, _ := s.Get(ctx, out[0].ID)
		if got.Status != StatusFailed {
			t.Errorf("stored p1: %+v", got)
		}
	})
}

// A deploy keeps the GitHub deployment it came from, through the single
// and the multi-row insert; a negative id is refused.
func TestGitHubDeploymentID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		got, err := s.Record(ctx, []Event{{Service: "checkout", FinishedAt: t0, GitHubDeploymentID: 145988746}}, t0)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := s.Record(ctx, []Event{{Service: "checkout", FinishedAt: t0, ExternalID: "a", GitHubDeploymentID: 7},
			{Service: "checkout", FinishedAt: t0, ExternalID: "b"}}, t0)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]int64{got[0].ID: 145988746, batch[0].ID: 7, batch[1].ID: 0} {
			e, err := s.Get(ctx, id)
			if err != nil || e.GitHubDeploymentID != want {
				t.Errorf("event %d: github_deployment_id %d, %v; want %d", id, e.GitHubDeploymentID, err, want)
			}
		}
		var te *tandem.Error
		if _, err := s.Record(ctx, []Event{{Service: "checkout", FinishedAt: t0, GitHubDeploymentID: -1}}, t0); !errors.As(err, &te) || te.Field != "github_deployment_id" {
			t.Errorf("negative id: %v", err)
		}
	})
}
