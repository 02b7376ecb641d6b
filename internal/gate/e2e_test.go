package gate_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/cli"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/testenv"
)

// configDir is a tandem.d with the example catalog and the native SLOs
// only (no Prometheus-backed SLO, so nothing waits on a Prometheus).
func configDir(t testing.TB) string {
	t.Helper()
	src := apptest.ExamplesDir(t)
	dir := t.TempDir()
	for _, f := range []string{"services.yaml", "teams.yaml", "oncall.yaml", "slos-native.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs the tandem CLI in-process and returns its exit code and output.
func run(t testing.TB, srv *apptest.Server, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if srv != nil {
		args = append([]string{"--url", srv.URL, "--token", srv.AdminToken}, args...)
	}
	code := cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func counts(good, total int64) (*int64, *int64) { return &good, &total }

// ingest posts per-minute counts for an SLO over [from, to).
func ingest(t testing.TB, c *client.Client, sloName string, from, to time.Time, good, total int64, batch string) {
	t.Helper()
	var evs []client.SLOEvent
	for m := from.Truncate(time.Minute); m.Before(to); m = m.Add(time.Minute) {
		g, n := counts(good, total)
		evs = append(evs, client.SLOEvent{Time: m.Add(10 * time.Second), Good: g, Total: n})
	}
	if _, err := c.PostSLOEvents(context.Background(), sloName, client.SLOBatch{Source: "test", BatchID: batch, Events: evs}); err != nil {
		t.Fatalf("ingest %s: %v", sloName, err)
	}
}

// TestMigrationGate runs real psql migrations through the gate against the
// real PostgreSQL: a slow one fails with the threshold message, a fast one
// passes, and both are recorded as migration change events and gate results.
func TestMigrationGate(t *testing.T) {
	psql := testenv.Binary(t, "TANDEM_TEST_PSQL", "psql")
	srv := apptest.Start(t, apptest.Options{Postgres: true, ConfigDir: configDir(t)})
	target := dbtest.PostgresURL(t)

	code, out, errOut := run(t, srv, "gate", "migration", "--service", "postgres-main", "--max-duration", "1s",
		"--", psql, target, "-c", "SELECT pg_sleep(1.6)")
	if code != 1 || !strings.Contains(errOut, "Migration exceeded latency threshold (") || !strings.Contains(errOut, " s > 1 s)") {
		t.Fatalf("slow migration: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if !strings.Contains(out, "pg_sleep") { // psql's output is streamed
		t.Errorf("child output not streamed: %q", out)
	}
	code, out, errOut = run(t, srv, "gate", "migration", "--service", "postgres-main", "--max-duration", "10s",
		"--", psql, target, "-c", "CREATE TABLE gate_probe (id bigint)")
	if code != 0 {
		t.Fatalf("fast migration: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = run(t, srv, "gate", "migration", "--service", "postgres-main", "--", psql, target, "-c", "SELEC 1")
	if code != 1 || !strings.Contains(errOut, "migration command failed with exit code") {
		t.Fatalf("failing migration: exit %d %s", code, errOut)
	}
	ctx := context.Background()
	evs, err := srv.Client.Changes(ctx, client.ChangeQuery{Services: []string{"postgres-main"}, Kinds: []string{change.KindMigration}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("%d migration events, want 3: %+v", len(evs), evs)
	}
	// Newest first: the failing one, the fast one, the slow one.
	if evs[0].Status != change.StatusFailed || evs[1].Status != change.StatusSuccess || evs[2].Status != change.StatusSuccess ||
		!evs[2].HasLabel("exceeded-threshold") || evs[2].DurationMs < 1500 {
		t.Errorf("events: %+v", evs)
	}
	rs, err := srv.Client.Gates(ctx, client.GateQuery{Kind: gate.KindMigration})
	if err != nil || len(rs) != 3 || rs[0].Verdict != gate.Fail || rs[1].Verdict != gate.Pass || rs[2].Verdict != gate.Fail ||
		rs[2].ChangeID != evs[2].ID || !strings.HasPrefix(rs[2].Message, "Migration exceeded latency threshold") {
		t.Errorf("gate results %+v %v", rs, err)
	}
}

// TestMigrationGateKill stops a migration past its limit with
// --kill-on-timeout; pending files that are destructive (with an undo
// script, so the gate lets them run) get --destructive-max-duration.
func TestMigrationGateKill(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{ConfigDir: configDir(t)})
	dir := t.TempDir()
	for name, sql := range map[string]string{"V1__drop.sql": "DROP TABLE x;", "U1__drop.sql": "CREATE TABLE x (id bigint);"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	code, _, errOut := run(t, srv, "gate", "migration", "--service", "checkout", "--dir", dir, "--max-duration", "100ms", "--destructive-max-duration", "300ms",
		"--kill-on-timeout", "--", "sh", "-c", "sleep 30")
	if code != 1 || !strings.Contains(errOut, "pending files destructive") || !strings.Contains(errOut, "> 0.3 s)") || time.Since(start) > 15*time.Second {
		t.Fatalf("exit %d after %s: %s", code, time.Since(start), errOut)
	}
}

// TestMigrationGateStopsDatabaseWork: --kill-on-timeout with
// --database-url stops the query the migration started, not only the
// client. A psql running pg_sleep(60) with a 1 s limit: one second after
// the timeout, pg_stat_activity shows no active pg_sleep of the gate's
// application name (nor of the statement at all). Killing psql alone
// leaves the backend sleeping: PostgreSQL notices a closed connection only
// when it next talks to it.
func TestMigrationGateStopsDatabaseWork(t *testing.T) {
	psql := testenv.Binary(t, "TANDEM_TEST_PSQL", "psql")
	target := dbtest.PostgresURL(t)
	start := time.Now()
	code, _, errOut := run(t, nil, "gate", "migration", "--max-duration", "1s", "--kill-on-timeout", "--database-url", target,
		"--", psql, target, "-c", "select pg_sleep(60.0417)")
	returned := time.Since(start)
	if code != 1 || !strings.Contains(errOut, "Migration exceeded latency threshold") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	app := regexp.MustCompile(`PGAPPNAME=(tandem-gate-[0-9a-f]+)`).FindStringSubmatch(errOut)
	if app == nil {
		t.Fatalf("the gate names no PGAPPNAME: %s", errOut)
	}
	if returned > 2500*time.Millisecond {
		t.Errorf("the gate returned %s after the start, more than a second after its 1 s limit", returned)
	}
	if wait := time.Until(start.Add(2 * time.Second)); wait > 0 {
		tm := time.NewTimer(wait) // the moment the check is about: one second after the timeout
		<-tm.C
	}
	d, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var named, sleeping int
	if err := d.QueryRow(`SELECT count(*) FILTER (WHERE application_name = $1), count(*) FILTER (WHERE query LIKE '%pg_sleep(60.0417)%')
FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()`, app[1]).Scan(&named, &sleeping); err != nil {
		t.Fatal(err)
	}
	if named != 0 || sleeping != 0 {
		t.Errorf("one second after the timeout: %d active backends of %s, %d running pg_sleep(60.0417)\n%s", named, app[1], sleeping, errOut)
	}
	if !strings.Contains(errOut, "1 query cancelled") {
		t.Errorf("the gate does not say it cancelled the query: %s", errOut)
	}
}

// TestSLOGate checks pass, fail and cannot-evaluate against a real server,
// the --on-fail command, --fail-open, JSON output and the audit log.
func TestSLOGate(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{ConfigDir: configDir(t)})
	now := time.Now()
	// 0.05 % errors over the last two hours: half the budget of a 99.9 % SLO.
	ingest(t, srv.Client, "checkout-api-availability", now.Add(-2*time.Hour), now.Add(-time.Minute), 19990, 20000, "b1")

	code, out, _ := run(t, srv, "gate", "slo", "--service", "checkout", "--slo", "checkout-api-availability",
		"--min-budget-remaining", "10%", "--max-burn-rate", "2")
	if code != 0 || !strings.Contains(out, "PASS           budget_remaining checkout-api-availability = 50% over 28d (want >= 10%)") ||
		!strings.Contains(out, "burn_rate_1h checkout-api-availability = 0.5 over 1h (want <= 2)") || !strings.Contains(out, "PASS (exit 0)") {
		t.Fatalf("pass: exit %d\n%s", code, out)
	}
	code, out, errOut := run(t, srv, "gate", "slo", "--service", "checkout", "--max-burn-rate", "0.1",
		"--on-fail", "echo rolling back checkout")
	if code != 1 || !strings.Contains(out, "FAIL           burn_rate_1h") || !strings.Contains(out, "rolling back checkout") ||
		!strings.Contains(errOut, "running --on-fail") {
		t.Fatalf("fail: exit %d\n%s\n%s", code, out, errOut)
	}
	// search-api has an SLO without data: cannot evaluate.
	code, out, _ = run(t, srv, "gate", "slo", "--service", "search-api", "--format", "json")
	if code != 2 || !strings.Contains(out, `"verdict": "inconclusive"`) || !strings.Contains(out, `"exit_code": 2`) {
		t.Fatalf("no data: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, srv, "gate", "slo", "--service", "search-api", "--fail-open", "--commit", headSHA)
	if code != 0 || !strings.Contains(out, "WARNING: the gate could not evaluate") {
		t.Fatalf("fail-open: exit %d\n%s", code, out)
	}
	// An unreachable tandem cannot evaluate.
	var o, e bytes.Buffer
	code = cli.Execute(context.Background(), []string{"--url", "http://127.0.0.1:1", "gate", "slo", "--service", "checkout"}, strings.NewReader(""), &o, &e)
	if code != 2 || !strings.Contains(o.String(), "cannot read SLOs") {
		t.Fatalf("unreachable: exit %d\n%s\n%s", code, o.String(), e.String())
	}
	rs, err := srv.Client.Gates(context.Background(), client.GateQuery{Kind: gate.KindSLO})
	if err != nil || len(rs) != 4 || rs[3].Verdict != gate.Pass || rs[2].Verdict != gate.Fail || rs[1].Verdict != gate.Inconclusive {
		t.Fatalf("audit log %+v %v", rs, err)
	}
	if rs[2].Actor != "token:test-admin" || len(rs[2].Checks) == 0 {
		t.Errorf("recorded %+v", rs[2])
	}
	// The gate run with --fail-open and --commit records both, for the
	// GitHub check run (neutral, on that commit).
	if !rs[0].FailOpen || rs[0].Commit != headSHA || rs[1].FailOpen {
		t.Errorf("fail_open/commit recorded %v %q, then %v", rs[0].FailOpen, rs[0].Commit, rs[1].FailOpen)
	}
	// A misspelt filter of the audit log is a 400, not an empty log.
	for _, q := range []client.GateQuery{{Kind: "slos"}, {Verdict: "failed"}} {
		if _, err := srv.Client.Gates(context.Background(), q); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("gates %+v: %v", q, err)
		}
	}
	// Bad input is a 400 naming the field, an unknown service a 422.
	err = srv.Client.Do(context.Background(), http.MethodPost, "/api/v1/gates", nil, map[string]any{"kind": "slo", "verdict": "meh"}, nil)
	if err == nil || !strings.Contains(err.Error(), "verdict") {
		t.Errorf("bad verdict: %v", err)
	}
	err = srv.Client.Do(context.Background(), http.MethodPost, "/api/v1/gates", nil, map[string]any{"kind": "slo", "verdict": "pass", "service": "chekout"}, nil)
	if err == nil || !strings.Contains(err.Error(), "checkout") {
		t.Errorf("unknown service: %v", err)
	}
}

// prometheusBinary is the Prometheus to test against, or "".
func prometheusBinary() string {
	if p := os.Getenv("TANDEM_TEST_PROMETHEUS"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("prometheus")
	return p
}

// startPrometheus runs a real Prometheus on a free port with cfg as its
// configuration, data as its storage (a fresh directory when "") and
// flags, waits until it is ready and returns its base URL.
func startPrometheus(t testing.TB, bin, cfg, data string, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	if data == "" {
		data = filepath.Join(dir, "data")
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"--config.file=" + filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path=" + data,
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--log.level=warn"}, flags...)
	cmd := exec.CommandContext(ctx, bin, args...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus not ready after a minute:\n%s", logs.String())
		}
		tick := time.NewTimer(100 * time.Millisecond) // polling a real server: nothing to wait on
		<-tick.C
	}
}

// syncBuffer is a bytes.Buffer safe for a child's two output streams.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSLOGatePrometheus evaluates PromQL on a real Prometheus scraping an
// in-test exporter, with no tandem server.
func TestSLOGatePrometheus(t *testing.T) {
	bin := testenv.Binary(t, "TANDEM_TEST_PROMETHEUS", "prometheus")
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE checkout_error_ratio gauge\ncheckout_error_ratio 0.02\n")
	}))
	defer exporter.Close()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: checkout\n    static_configs:\n      - targets: ['%s']\n",
		strings.TrimPrefix(exporter.URL, "http://"))
	prom := startPrometheus(t, bin, cfg, "")
	// Wait until Prometheus has scraped the exporter once.
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, _ := run(t, nil, "gate", "slo", "--prometheus", prom, "--query", "checkout_error_ratio", "--threshold", "1", "--timeout", "1s")
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus never answered with data")
		}
		tick := time.NewTimer(200 * time.Millisecond)
		<-tick.C
	}
	code, out, _ := run(t, nil, "gate", "slo", "--prometheus", prom, "--query", "checkout_error_ratio", "--threshold", "0.01")
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "= 0.02 (want <= 0.01)") {
		t.Fatalf("fail: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "gate", "slo", "--prometheus", prom, "--query", "checkout_error_ratio", "--threshold", "0.05")
	if code != 0 {
		t.Fatalf("pass: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "gate", "slo", "--prometheus", prom, "--query", "no_such_metric", "--threshold", "1")
	if code != 2 || !strings.Contains(out, "no data") {
		t.Fatalf("no data: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "gate", "slo", "--prometheus", "http://127.0.0.1:1", "--query", "up", "--threshold", "1", "--timeout", "2s")
	if code != 2 || !strings.Contains(out, "query failed") {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
}

// TestVerifyDeploy: a deploy whose error ratio jumps from 0.1 % to 5 % is
// marked failed, counted by DORA's change failure rate, and raises the
// "SLO violation after deployment" incident; a clean deploy passes; a deploy
// without traffic is inconclusive.
func TestVerifyDeploy(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{Postgres: true, ConfigDir: configDir(t)})
	ctx := context.Background()
	now := time.Now().UTC()
	deployAt := now.Add(-17 * time.Minute).Truncate(time.Minute)
	// checkout-api-availability: 0.1 % errors in the hour before, 5 % after.
	ingest(t, srv.Client, "checkout-api-availability", deployAt.Add(-time.Hour), deployAt, 999, 1000, "before")
	ingest(t, srv.Client, "checkout-api-availability", deployAt, deployAt.Add(15*time.Minute), 950, 1000, "after")
	dep, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindDeploy, Version: "2.4.0",
		StartedAt: deployAt.Add(-2 * time.Minute), FinishedAt: deployAt, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, srv, "verify", "deploy", "--service", "checkout", "--window", "15m", "--baseline", "1h")
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "error_ratio checkout-api-availability") ||
		!strings.Contains(out, "the deploy is marked failed") {
		t.Fatalf("regression: exit %d\n%s\n%s", code, out, errOut)
	}
	got, err := srv.Client.Change(ctx, dep.ID)
	if err != nil || got.Status != change.StatusFailed || !strings.HasPrefix(got.FailureReason, "SLO violation after deployment") {
		t.Fatalf("deploy after verification: %+v %v", got, err)
	}
	rep, err := srv.Client.DORA(ctx, client.DORAQuery{Services: []string{"checkout"}, Since: "1d"})
	if err != nil || rep.ChangeFailureRate == nil || *rep.ChangeFailureRate != 1 || rep.FailedDeploys != 1 {
		t.Fatalf("DORA %+v %v", rep, err)
	}
	// The background SLO evaluation may also page for the same burn (an
	// incident of its own, source "slo"); verification raises exactly one.
	incs, err := srv.Main.API.Incident.Manager.List(ctx, incident.Filter{Limit: 10})
	var raised []incident.Incident
	for _, inc := range incs {
		if inc.Title == "SLO violation after deployment" {
			raised = append(raised, inc)
		}
	}
	if err != nil || len(raised) != 1 || raised[0].Labels["deploy_id"] != fmt.Sprint(dep.ID) {
		t.Fatalf("incidents %+v %v", incs, err)
	}
	// The deploy asked for automatic verification too, which the
	// background scheduler may run meanwhile: one result is the CLI's.
	all, err := srv.Client.Gates(ctx, client.GateQuery{Kind: gate.KindVerify})
	var rs []client.GateResult
	for _, r := range all {
		if r.Actor == "token:test-admin" {
			rs = append(rs, r)
		}
	}
	if err != nil || len(rs) != 1 || rs[0].Verdict != gate.Fail || rs[0].ChangeID != dep.ID {
		t.Fatalf("gate results %+v %v", all, err)
	}

	// The same error ratio after a later deploy: no regression.
	clean, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "search-api", Kind: change.KindDeploy, Version: "7", FinishedAt: deployAt})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, srv.Client, "search-query-failures", deployAt.Add(-time.Hour), deployAt.Add(15*time.Minute), 998, 1000, "search")
	code, out, _ = run(t, srv, "verify", "deploy", "--deploy", fmt.Sprint(clean.ID), "--format", "json")
	if code != 0 || !strings.Contains(out, `"verdict": "pass"`) {
		t.Fatalf("clean deploy: exit %d\n%s", code, out)
	}
	// No traffic at all: inconclusive, exit 2, and the deploy stays a success.
	quiet, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "identity-api", Kind: change.KindDeploy, FinishedAt: deployAt})
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, srv, "verify", "deploy", "--deploy", fmt.Sprint(quiet.ID))
	if code != 2 || !strings.Contains(out, "INCONCLUSIVE") {
		t.Fatalf("quiet deploy: exit %d\n%s", code, out)
	}
	if got, _ := srv.Client.Change(ctx, quiet.ID); got.Status != change.StatusSuccess {
		t.Errorf("quiet deploy became %s", got.Status)
	}
	// Bad requests: a backup changes nothing to verify (400), an unknown
	// deploy is 404, a deploy in progress 409, a bad window 400 naming it.
	mig, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindBackup, FinishedAt: deployAt})
	if err != nil {
		t.Fatal(err)
	}
	running, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindDeploy, StartedAt: now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  client.VerifyRequest
		code string
	}{
		{client.VerifyRequest{DeployID: mig.ID}, "invalid"},
		{client.VerifyRequest{DeployID: 99999}, "not_found"},
		{client.VerifyRequest{DeployID: running.ID}, "conflict"},
		{client.VerifyRequest{Service: "checkout", Window: "soon"}, "invalid"},
		{client.VerifyRequest{Service: "chekout"}, "unprocessable"},
	} {
		_, err := srv.Client.VerifyDeploy(ctx, c.req)
		if err == nil || !strings.Contains(err.Error(), c.code) {
			t.Errorf("%+v: %v, want %s", c.req, err, c.code)
		}
	}
}

// verify change accepts every kind of change but a backup, in the change's
// environment: a flag flip followed by a regression is marked failed and
// counts in change failure rate beside the deploys; a staging change has
// no staging SLO to be verified against.
func TestVerifyChangeKinds(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{ConfigDir: configDir(t)})
	ctx := context.Background()
	now := time.Now().UTC()
	at := now.Add(-17 * time.Minute).Truncate(time.Minute)
	ingest(t, srv.Client, "checkout-api-availability", at.Add(-time.Hour), at, 999, 1000, "before")
	ingest(t, srv.Client, "checkout-api-availability", at, at.Add(15*time.Minute), 950, 1000, "after")
	flag, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindFlag, Version: "new-cart=on", FinishedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, srv, "verify", "change", fmt.Sprint(flag.ID), "--window", "15m", "--baseline", "1h")
	if code != 1 || !strings.Contains(out, "flag "+fmt.Sprint(flag.ID)+" of checkout") || !strings.Contains(out, "the flag is marked failed") {
		t.Fatalf("flag regression: exit %d\n%s\n%s", code, out, errOut)
	}
	got, err := srv.Client.Change(ctx, flag.ID)
	if err != nil || got.Status != change.StatusFailed || !strings.HasPrefix(got.FailureReason, "SLO violation after flag change") {
		t.Fatalf("flag after verification: %+v %v", got, err)
	}
	rep, err := srv.Client.DORA(ctx, client.DORAQuery{Services: []string{"checkout"}, Since: "1d"})
	if err != nil || rep.ConfigChanges != 1 || rep.FailedConfigChanges != 1 || rep.ChangeFailureRate == nil || *rep.ChangeFailureRate != 1 {
		t.Fatalf("DORA %+v %v", rep, err)
	}
	// tandem changes shows the verdict beside the change.
	code, out, _ = run(t, srv, "changes", "--service", "checkout")
	if line := lineWith(out, "new-cart=on"); code != 0 || !strings.Contains(line, "verify fail") || !strings.Contains(out, "VERDICT") {
		t.Errorf("changes: exit %d, flag line %q\n%s", code, line, out)
	}
	for _, kind := range []string{change.KindConfig, change.KindMigration, change.KindChaos, change.KindRollback} {
		c, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: kind, FinishedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := run(t, srv, "verify", "change", fmt.Sprint(c.ID), "--no-wait"); code != 1 || !strings.Contains(out, kind+" "+fmt.Sprint(c.ID)) {
			t.Errorf("%s: exit %d\n%s\n%s", kind, code, out, errOut)
		}
	}
	staging, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Environment: "staging", Kind: change.KindConfig, FinishedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, srv, "verify", "change", fmt.Sprint(staging.ID)); code != 2 || !strings.Contains(out, "no SLO measured from requests in staging") {
		t.Errorf("staging change: exit %d\n%s", code, out)
	}
	backup, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindBackup, FinishedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, srv, "verify", "change", fmt.Sprint(backup.ID)); code != 2 || !strings.Contains(out, "changes nothing to verify") {
		t.Errorf("backup: exit %d\n%s", code, out)
	}
}

// TestAutomaticVerification: a deploy recorded with verify has its
// verification job from the request that recorded it (no poller), and the
// job verifies the deploy once its window has passed.
func TestAutomaticVerification(t *testing.T) {
	// Manual: the engine must not take the job before the test runs it.
	srv := apptest.Start(t, apptest.Options{ConfigDir: configDir(t), Manual: true})
	ctx := context.Background()
	now := time.Now().UTC()
	deployAt := now.Add(-20 * time.Minute).Truncate(time.Minute)
	ingest(t, srv.Client, "checkout-api-availability", deployAt.Add(-time.Hour), deployAt, 999, 1000, "before")
	ingest(t, srv.Client, "checkout-api-availability", deployAt, deployAt.Add(15*time.Minute), 950, 1000, "after")
	dep, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindDeploy, FinishedAt: deployAt, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := srv.Client.Jobs(ctx, "queued", gate.JobKind, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Key != fmt.Sprintf("%s:%d", gate.JobKind, dep.ID) {
		t.Fatalf("verification jobs after the deploy was recorded: %+v %v", jobs, err)
	}
	// The same deploy again (an idempotent retry of the request) and a
	// deploy without verify enqueue nothing more.
	if _, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindDeploy, FinishedAt: deployAt.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := srv.Client.Jobs(ctx, "", gate.JobKind, 10); len(jobs) != 1 {
		t.Fatalf("verification jobs: %+v", jobs)
	}
	// A deploy recorded in progress gets its job when it is finished.
	running, err := srv.Client.RecordChange(ctx, client.ChangeEvent{Service: "checkout", Kind: change.KindDeploy, StartedAt: now.Add(-2 * time.Minute), Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if jobs, _ := srv.Client.Jobs(ctx, "", gate.JobKind, 10); len(jobs) != 1 {
		t.Fatalf("a deploy in progress has a verification job: %+v", jobs)
	}
	if _, err := srv.Client.SetChangeStatus(ctx, running.ID, change.StatusSuccess, "", now); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := srv.Client.Jobs(ctx, "", gate.JobKind, 10); len(jobs) != 2 || jobs[0].Key != fmt.Sprintf("%s:%d", gate.JobKind, running.ID) {
		t.Fatalf("verification jobs after the deploy finished: %+v", jobs)
	}
	if _, err := srv.Main.Engine.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Client.Change(ctx, dep.ID)
	if err != nil || got.Status != change.StatusFailed {
		t.Fatalf("deploy %+v %v", got, err)
	}
}

// TestMigrateCommands runs `tandem migrate lint` and `validate` as a
// pipeline would: exit codes and output formats.
func TestMigrateCommands(t *testing.T) {
	rules := filepath.Join("..", "migration", "testdata", "rules")
	safe := filepath.Join("..", "migration", "testdata", "safe")
	code, out, _ := run(t, nil, "migrate", "lint", safe)
	if code != 0 || !strings.Contains(out, "10 files: 10 safe, 0 risky, 0 destructive; 0 errors, 0 warnings, 0 allowed: PASS") {
		t.Fatalf("safe: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "migrate", "lint", rules, "--format", "sarif")
	if code != 1 || !strings.Contains(out, `"version": "2.1.0"`) {
		t.Fatalf("rules sarif: exit %d", code)
	}
	code, out, _ = run(t, nil, "migrate", "lint", rules, "--format", "json", "--allow", "drop-table", "--allow", "drop-column")
	if code != 1 || !strings.Contains(out, `"allowed_by": "--allow drop-table"`) {
		t.Fatalf("allow: exit %d", code)
	}
	if code, _, errOut := run(t, nil, "migrate", "lint", rules, "--allow", "no-such-rule"); code != 1 || !strings.Contains(errOut, "unknown rule") {
		t.Fatalf("unknown --allow: exit %d %s", code, errOut)
	}
	if code, _, _ := run(t, nil, "migrate", "lint", "/no/such/dir"); code != 1 {
		t.Fatalf("missing dir: exit %d", code)
	}
	url := dbtest.PostgresURL(t)
	code, _, errOut := run(t, nil, "migrate", "validate", safe, "--database-url", url)
	if code != 2 || !strings.Contains(errOut, "flyway_schema_history") {
		t.Fatalf("no history table: exit %d %s", code, errOut)
	}
}

// TestGateNotification: a failing gate result is sent to the webhook of the
// gates: config, signed, through a durable job.
func TestGateNotification(t *testing.T) {
	got := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(r.Body)
		got <- r.Header.Get("X-Tandem-Delivery") + " " + b.String()
	}))
	defer hook.Close()
	dir := configDir(t)
	cfg := "gates:\n  notify:\n    - type: webhook\n      url: " + hook.URL + "\n  verification:\n    window: 10m\n    min_events: 50\n"
	if err := os.WriteFile(filepath.Join(dir, "gates.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir})
	if w := srv.Main.Config.Get().Gate.Verification; w.Window != 10*time.Minute || w.MinEvents != 50 || w.Baseline != time.Hour {
		t.Errorf("verification config %+v", w)
	}
	ctx := context.Background()
	if _, err := srv.Client.RecordGate(ctx, client.GateResult{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Pass}); err != nil {
		t.Fatal(err)
	}
	r, err := srv.Client.RecordGate(ctx, client.GateResult{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Fail, Message: "budget exhausted",
		Checks: []client.GateCheck{{Name: "budget_remaining checkout-api-availability", Value: gate.Measured(-0.1), Op: ">=", Threshold: 0.1, Unit: "ratio", Verdict: gate.Fail}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Main.Engine.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-got:
		if !strings.HasPrefix(body, fmt.Sprintf("gate.notify:%d:0 ", r.ID)) || !strings.Contains(body, `"event":"gate.blocked"`) ||
			!strings.Contains(body, "budget_remaining checkout-api-availability") {
			t.Errorf("webhook body %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook call for the failing gate")
	}
	select {
	case body := <-got:
		t.Errorf("a second notification: %s", body)
	default:
	}
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
