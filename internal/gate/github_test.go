package gate_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/github"
	"github.com/tandemhq/tandem/internal/github/githubtest"
)

const (
	headSHA  = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	otherSHA = "0000000000000000000000000000000000000001"
)

// The conclusion of each verdict: no data is never success, an
// inconclusive gate that failed closed is a failure, one that failed open
// or a verification that could not decide is neutral.
func TestConclusion(t *testing.T) {
	some := []gate.Check{{Name: "c", Verdict: gate.Pass, Value: gate.Measured(1)}}
	for _, tt := range []struct {
		name  string
		r     gate.Result
		want  string
		state string
	}{
		{"pass", gate.Result{Kind: gate.KindSLO, Verdict: gate.Pass, Checks: some}, "success", ""},
		{"pass without checks", gate.Result{Kind: gate.KindSLO, Verdict: gate.Pass}, "neutral", ""},
		{"fail", gate.Result{Kind: gate.KindMigration, Verdict: gate.Fail, Checks: some}, "failure", ""},
		{"inconclusive, failed closed", gate.Result{Kind: gate.KindSLO, Verdict: gate.Inconclusive}, "failure", ""},
		{"inconclusive, failed open", gate.Result{Kind: gate.KindSLO, Verdict: gate.Inconclusive, FailOpen: true}, "neutral", ""},
		{"verification inconclusive", gate.Result{Kind: gate.KindVerify, Verdict: gate.Inconclusive}, "neutral", ""},
		{"verification pass", gate.Result{Kind: gate.KindVerify, Verdict: gate.Pass, Checks: some}, "success", "success"},
		{"verification fail", gate.Result{Kind: gate.KindVerify, Verdict: gate.Fail, Checks: some}, "failure", "failure"},
	} {
		if got := gate.Conclusion(tt.r); got != tt.want {
			t.Errorf("%s: conclusion %q, want %q", tt.name, got, tt.want)
		}
		if st, _ := gate.DeploymentState(tt.r); st != tt.state {
			t.Errorf("%s: deployment state %q, want %q", tt.name, st, tt.state)
		}
	}
}

// The check run's text is the checks as a Markdown table; a check
// without data reads "no data" and its reason, never 0.
func TestCheckRunFor(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	r := gate.Result{ID: 17, Kind: gate.KindSLO, Service: "checkout", Target: "checkout-availability", Verdict: gate.Inconclusive,
		Source: "https://github.com/acme/checkout/actions/runs/9", CreatedAt: at, Checks: []gate.Check{
			{Name: "budget_remaining checkout-availability", Value: gate.Measured(0.42), Op: ">=", Threshold: 0.1, Unit: "ratio", Verdict: gate.Pass, Window: "28d"},
			{Name: "p95_latency_ms checkout-latency", Op: "<=", Threshold: 300, Unit: "ms", Verdict: gate.Inconclusive, Detail: "no events | in 15m"},
		}}
	run := gate.CheckRunFor(r, headSHA, "https://tandem.example/delivery?service=checkout#deploys")
	if run.Name != "tandem SLO gate: checkout" || run.HeadSHA != headSHA || run.Status != "completed" || run.Conclusion != "failure" ||
		run.CompletedAt != "2026-03-01T09:30:00Z" || run.ExternalID != "tandem-gate-result-17" {
		t.Errorf("run %+v", run)
	}
	if run.Output.Title != "INCONCLUSIVE: 1 of 2 checks could not decide" || !strings.Contains(run.Output.Summary, "failed closed") ||
		!strings.Contains(run.Output.Summary, "gate result 17") {
		t.Errorf("title %q, summary %q", run.Output.Title, run.Output.Summary)
	}
	want := "| Check | Value | Limit | Window | Verdict | Detail |\n|---|---|---|---|---|---|\n" +
		"| budget_remaining checkout-availability | 42% | >= 10% | 28d | ✅ pass |  |\n" +
		"| p95_latency_ms checkout-latency | no data — no events \\| in 15m | <= 300ms | — | ⚠️ inconclusive |  |\n"
	if run.Output.Text != want {
		t.Errorf("text:\n%s\nwant:\n%s", run.Output.Text, want)
	}
}

// reporting is a database, an engine on a fake clock, the gate and change
// stores, and the GitHub reporter wired as the app wires it, against a
// fake GitHub that knows acme/checkout, its commit and deployment 42.
type reporting struct {
	d       *db.DB
	clk     *clock.Fake
	eng     *engine.Engine
	results *gate.Store
	changes *change.Store
	gh      *githubtest.Server
}

func newReporting(t *testing.T, d *db.DB) *reporting {
	rp := &reporting{d: d, clk: clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)), results: gate.NewStore(d), changes: change.NewStore(d)}
	rp.eng = engine.New(d, rp.clk, nil, nil)
	rp.gh = githubtest.New(t)
	rp.gh.AddToken("ghs_test")
	rp.gh.AddCommit("acme/checkout", headSHA)
	rp.gh.AddDeployment("acme/checkout", 42)
	client := &github.Client{BaseURL: rp.gh.URL, Token: "ghs_test"}
	rep := &gate.GitHubReporter{Results: rp.results, Changes: rp.changes,
		Settings: func() gate.GitHubSettings {
			return gate.GitHubSettings{Client: client, CheckRuns: true, DeploymentStatuses: true, BaseURL: "https://tandem.example"}
		},
		Repo: func(svc string) (string, bool) { return "acme/" + svc, svc == "checkout" },
	}
	rp.results.OnRecorded(rep.EnqueueTx)
	rp.eng.Register(gate.GitHubJobKind, rep.HandleJob)
	return rp
}

func (rp *reporting) record(t *testing.T, r gate.Result) gate.Result {
	t.Helper()
	out, err := rp.results.Record(context.Background(), r, rp.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (rp *reporting) runDue(t *testing.T) {
	t.Helper()
	if _, err := rp.eng.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (rp *reporting) job(t *testing.T, resultID int64) engine.Info {
	t.Helper()
	jobs, err := rp.eng.List(context.Background(), engine.Filter{Kind: gate.GitHubJobKind})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Key == gate.GitHubJobKey(resultID) {
			return j
		}
	}
	t.Fatalf("no GitHub job for result %d", resultID)
	return engine.Info{}
}

// Gate results PASS, FAIL and inconclusive become check runs with their
// conclusions; a failed verification of a deploy recorded with a GitHub
// deployment id becomes a failing check run and a failure deployment
// status; results of services without a repository, or with nothing to
// attach to, enqueue nothing.
func TestGitHubReporter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		rp := newReporting(t, d)
		ctx := context.Background()
		checks := []gate.Check{{Name: "budget_remaining checkout-availability", Value: gate.Measured(0.05), Op: ">=", Threshold: 0.1, Unit: "ratio", Verdict: gate.Fail}}
		pass := rp.record(t, gate.Result{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Pass, Commit: headSHA,
			Checks: []gate.Check{{Name: "budget_remaining checkout-availability", Value: gate.Measured(0.5), Op: ">=", Threshold: 0.1, Unit: "ratio", Verdict: gate.Pass}}})
		fail := rp.record(t, gate.Result{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Fail, Commit: strings.ToUpper(headSHA), Checks: checks})
		unsure := rp.record(t, gate.Result{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Inconclusive, Commit: headSHA,
			Checks: []gate.Check{{Name: "p95_latency_ms checkout-latency", Op: "<=", Threshold: 300, Unit: "ms", Verdict: gate.Inconclusive, Detail: "no events in 15m"}}})
		rp.record(t, gate.Result{Kind: gate.KindSLO, Service: "search-api", Verdict: gate.Pass, Commit: headSHA, Checks: checks})
		rp.record(t, gate.Result{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Pass, Checks: checks})

		deps, err := rp.changes.Record(ctx, []change.Event{{Service: "checkout", Commit: headSHA, FinishedAt: rp.clk.Now().Add(-20 * time.Minute), GitHubDeploymentID: 42}}, rp.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		verify := rp.record(t, gate.Result{Kind: gate.KindVerify, Service: "checkout", Verdict: gate.Fail, ChangeID: deps[0].ID,
			Message: "SLO violation after deployment: error_ratio checkout-availability: rose", Checks: []gate.Check{
				{Name: "error_ratio checkout-availability", Value: gate.Measured(0.08), Op: "<=", Threshold: 0.006, Unit: "ratio", Verdict: gate.Fail, Detail: "rose"}}})

		jobs, err := rp.eng.List(ctx, engine.Filter{Kind: gate.GitHubJobKind})
		if err != nil || len(jobs) != 4 {
			t.Fatalf("%d GitHub jobs (%v), want 4: one per result with a repository and something to attach to", len(jobs), err)
		}
		rp.runDue(t)
		runs, statuses := rp.gh.Snapshot()
		byID := map[string]githubtest.CheckRun{}
		for _, r := range runs {
			byID[r.ExternalID] = r
		}
		for _, c := range []struct {
			r    gate.Result
			want string
		}{{pass, "success"}, {fail, "failure"}, {unsure, "failure"}, {verify, "failure"}} {
			run, ok := byID["tandem-gate-result-"+itoa(c.r.ID)]
			if !ok || run.Conclusion != c.want || run.HeadSHA != headSHA || run.Status != "completed" || run.Repo != "acme/checkout" {
				t.Errorf("result %d (%s): check run %+v, want conclusion %s", c.r.ID, c.r.Verdict, run, c.want)
			}
			if j := rp.job(t, c.r.ID); j.State != engine.StateDone {
				t.Errorf("job of result %d: %s %s", c.r.ID, j.State, j.LastError)
			}
		}
		if len(runs) != 4 {
			t.Errorf("%d check runs, want 4", len(runs))
		}
		if txt := byID["tandem-gate-result-"+itoa(unsure.ID)].Output.Text; !strings.Contains(txt, "no data — no events in 15m") || strings.Contains(txt, "| 0") {
			t.Errorf("inconclusive text:\n%s", txt)
		}
		if run := byID["tandem-gate-result-"+itoa(verify.ID)]; run.Name != "tandem deploy verification: checkout" || !strings.Contains(run.Output.Summary, "SLO violation after deployment") {
			t.Errorf("verification run %+v", run)
		}
		if len(statuses) != 1 || statuses[0].State != "failure" || statuses[0].DeploymentID != 42 ||
			statuses[0].LogURL != "https://tandem.example/delivery?service=checkout#deploys" ||
			statuses[0].Description != "tandem verification failed: error_ratio checkout-availability" {
			t.Errorf("deployment statuses %+v", statuses)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A 502 whose check run GitHub did create (the answer was lost) and a
// 502 before anything was created: each result ends with exactly one check
// run; a 429 with Retry-After requeues the job for then; a commit GitHub
// does not have fails the job at once, with GitHub's reason.
func TestGitHubReporterRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		rp := newReporting(t, d)
		ctx := context.Background()
		checks := []gate.Check{{Name: "exit_code", Value: gate.Measured(0), Op: "==", Threshold: 0, Verdict: gate.Pass}}

		rp.gh.Inject(githubtest.Fault{Method: "POST", Path: "/repos/acme/checkout/check-runs", Status: http.StatusBadGateway, Handled: true})
		lost := rp.record(t, gate.Result{Kind: gate.KindMigration, Service: "checkout", Verdict: gate.Pass, Commit: headSHA, Checks: checks})
		rp.runDue(t)
		if j := rp.job(t, lost.ID); j.State != engine.StateQueued || j.Attempts != 1 || !strings.Contains(j.LastError, "502") {
			t.Fatalf("after a 502: %+v", j)
		}
		rp.clk.Advance(time.Hour)
		rp.runDue(t)
		runs, _ := rp.gh.Snapshot()
		if j := rp.job(t, lost.ID); j.State != engine.StateDone || len(runs) != 1 {
			t.Fatalf("after the retry: job %+v, %d check runs, want done and exactly 1", j, len(runs))
		}

		rp.gh.Inject(githubtest.Fault{Method: "POST", Path: "/repos/acme/checkout/check-runs", Status: http.StatusBadGateway})
		second := rp.record(t, gate.Result{Kind: gate.KindMigration, Service: "checkout", Verdict: gate.Pass, Commit: headSHA, Checks: checks})
		rp.runDue(t)
		rp.clk.Advance(time.Hour)
		rp.runDue(t)
		runs, _ = rp.gh.Snapshot()
		if j := rp.job(t, second.ID); j.State != engine.StateDone || len(runs) != 2 {
			t.Fatalf("502 then success: job %+v, %d check runs, want done and 2 in all", j, len(runs))
		}

		rp.gh.Inject(githubtest.Fault{Method: "POST", Path: "/repos/acme/checkout/check-runs", Status: http.StatusForbidden,
			Header: http.Header{"Retry-After": {"600"}}, Body: `{"message":"You have exceeded a secondary rate limit."}`})
		limited := rp.record(t, gate.Result{Kind: gate.KindMigration, Service: "checkout", Verdict: gate.Pass, Commit: headSHA, Checks: checks})
		rp.runDue(t)
		j := rp.job(t, limited.ID)
		if j.State != engine.StateQueued || j.RunAt.Before(rp.clk.Now().Add(600*time.Second)) {
			t.Fatalf("secondary rate limit: %+v, want queued until at least %s", j, rp.clk.Now().Add(600*time.Second))
		}
		rp.clk.Advance(5 * time.Minute)
		rp.runDue(t)
		if runs, _ = rp.gh.Snapshot(); len(runs) != 2 {
			t.Fatalf("a request went out before Retry-After passed: %d check runs", len(runs))
		}
		rp.clk.Advance(6 * time.Minute)
		rp.runDue(t)
		if runs, _ = rp.gh.Snapshot(); len(runs) != 3 || rp.job(t, limited.ID).State != engine.StateDone {
			t.Fatalf("after Retry-After: %d check runs, job %+v", len(runs), rp.job(t, limited.ID))
		}

		bad := rp.record(t, gate.Result{Kind: gate.KindMigration, Service: "checkout", Verdict: gate.Pass, Commit: otherSHA, Checks: checks})
		rp.runDue(t)
		j = rp.job(t, bad.ID)
		if j.State != engine.StateFailed || j.Attempts != 1 || !strings.Contains(j.LastError, "422") || !strings.Contains(j.LastError, "No commit found for SHA") {
			t.Errorf("unknown commit: %+v, want failed at once with GitHub's reason", j)
		}
		if strings.Contains(j.LastError, "ghs_test") {
			t.Errorf("the token reached the job's error: %s", j.LastError)
		}
		short := rp.record(t, gate.Result{Kind: gate.KindMigration, Service: "checkout", Verdict: gate.Pass, Commit: "f95f852", Checks: checks})
		rp.runDue(t)
		if j := rp.job(t, short.ID); j.State != engine.StateFailed || !strings.Contains(j.LastError, "abbreviated") {
			t.Errorf("abbreviated commit: %+v", j)
		}
		_ = ctx
	})
}

// The job commits with its result or not at all: a hook that fails after
// the report was enqueued rolls both back.
func TestGitHubReporterSameTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		rp := newReporting(t, d)
		ctx := context.Background()
		boom := errors.New("notification queue refused")
		r := gate.Result{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Fail, Commit: headSHA,
			Checks: []gate.Check{{Name: "c", Value: gate.Measured(1), Op: "<=", Threshold: 0, Verdict: gate.Fail}}}
		if _, err := rp.results.RecordThen(ctx, r, rp.clk.Now(), func(context.Context, *db.Tx, gate.Result) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("RecordThen = %v, want the hook's error", err)
		}
		jobs, err := rp.eng.List(ctx, engine.Filter{Kind: gate.GitHubJobKind})
		if err != nil || len(jobs) != 0 {
			t.Fatalf("%d GitHub jobs after the rollback (%v), want 0", len(jobs), err)
		}
		if rs, _ := rp.results.List(ctx, gate.Filter{}); len(rs) != 0 {
			t.Fatalf("%d results after the rollback", len(rs))
		}
		out := rp.record(t, r)
		if j := rp.job(t, out.ID); j.State != engine.StateQueued {
			t.Errorf("committed result's job: %+v", j)
		}
		got, err := rp.results.Get(ctx, out.ID)
		if err != nil || got.Commit != headSHA || got.FailOpen {
			t.Errorf("stored commit %q fail_open %v, %v", got.Commit, got.FailOpen, err)
		}
	})
}
