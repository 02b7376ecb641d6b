package gate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the gate table of docs/gates.md from the test's rows")

const gatesDoc = "../../docs/gates.md"

// buildTandem builds the tandem binary into a temporary directory: the
// gate table is tested as a pipeline runs it, exit codes and all.
func buildTandem(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tandem")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/tandemhq/tandem/cmd/tandem")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs the built tandem with env added to the test's and returns
// its exit code and output.
func runBinary(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("run %v: %v", args, err)
	return 0, "", ""
}

// gateSLOs are the SLOs the gate table needs beside the example's native
// ones: one whose Prometheus cannot be reached, and one more native SLO for
// the verification rows.
const gateSLOs = `apiVersion: openslo/v1
kind: DataSource
metadata:
  name: unreachable-prometheus
spec:
  type: Prometheus
  connectionDetails:
    url: http://127.0.0.1:1
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: payments-api-availability
spec:
  service: payments-api
  indicator:
    metadata:
      name: payments-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: unreachable-prometheus
            spec:
              query: http_requests_total{job="payments",code!~"5.."}
        total:
          metricSource:
            metricSourceRef: unreachable-prometheus
            spec:
              query: http_requests_total{job="payments"}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: invoicing-availability
spec:
  service: invoicing
  indicator:
    metadata:
      name: invoicing-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: tandem
            spec:
              source: ingest
        total:
          metricSource:
            type: tandem
            spec:
              source: ingest
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
`

// tableFixture is the world the gate table runs in: a real server with
// data, the built binary, migration directories and a Prometheus.
type tableFixture struct {
	srv        *apptest.Server
	bin        string
	prometheus string // "" when none runs
	safe       string // a migration directory of safe files
	drop       string // V1 drops a column, no undo script
	dropUndo   string // the same with U1__…
	unjudged   string // V1 is not valid SQL
	readToken  string
	deploys    map[string]int64
}

// gateRow is one row of the gate table in docs/gates.md: what a gate is
// given, what it exits with by default, with --fail-closed and with
// --fail-open, and what it says.
type gateRow struct {
	id   string
	gate string // slo, migration, verify
	// input is the row's description in the table.
	input string
	// args are the command line (without --url and --token, which the
	// table adds unless the row gives --url); setup runs first, once.
	args  func(fx *tableFixture) []string
	setup func(t *testing.T, fx *tableFixture)
	// exits: default, --fail-closed, --fail-open.
	exits [3]int
	// message is a line (or part of one) the output must hold.
	message string
	// ran, for migration rows: whether the command must have run.
	ran *bool
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

// marker is where a migration row's command leaves a trace.
const marker = `touch "$TANDEM_TEST_MARKER"`

// gateRows is the gate table: docs/gates.md shows these rows (go test
// ./internal/gate -run TestGateTable -update rewrites it) and
// TestGateTable runs every one through the built binary.
var gateRows = []gateRow{
	// tandem gate slo, against tandem.
	{id: "slo-pass", gate: "slo", input: "every check holds",
		args:  func(*tableFixture) []string { return sloArgs("--service", "checkout", "--min-budget-remaining", "10%") },
		exits: [3]int{0, 0, 0}, message: "SLO gate for checkout: PASS (exit 0)"},
	{id: "slo-fail", gate: "slo", input: "a check fails (burn rate over 1h above the limit)",
		args:  func(*tableFixture) []string { return sloArgs("--service", "checkout", "--max-burn-rate", "0.1") },
		exits: [3]int{1, 1, 1}, message: "FAIL           burn_rate_1h checkout-api-availability = 0.5 over 1h (want <= 0.1)"},
	{id: "slo-p95-recent", gate: "slo", input: "p95 over the last 15m above the limit",
		args:  func(*tableFixture) []string { return sloArgs("--service", "identity-api", "--p95-latency-ms", "500") },
		exits: [3]int{1, 1, 1}, message: "over 15m (want <= 500ms)"},
	{id: "slo-unknown-slo", gate: "slo", input: "a misspelt SLO",
		args: func(*tableFixture) []string {
			return sloArgs("--service", "checkout", "--slo", "checkout-api-availabilty")
		},
		exits: [3]int{2, 2, 2}, message: "unknown SLO checkout-api-availabilty (did you mean checkout-api-availability?)"},
	{id: "slo-unknown-slos", gate: "slo", input: "two misspelt SLOs",
		args: func(*tableFixture) []string {
			return sloArgs("--service", "checkout", "--slo", "checkout-api-availabilty", "--slo", "search-query-failure")
		},
		exits:   [3]int{2, 2, 2},
		message: "unknown SLO checkout-api-availabilty (did you mean checkout-api-availability?); unknown SLO search-query-failure (did you mean search-query-failures?)"},
	{id: "slo-unknown-service", gate: "slo", input: "a misspelt service",
		args:  func(*tableFixture) []string { return sloArgs("--service", "chekout") },
		exits: [3]int{2, 2, 2}, message: "unknown service chekout (did you mean checkout?)"},
	{id: "slo-freeze-unknown-service", gate: "slo", input: "`--respect-freeze` on a misspelt service",
		args:  func(*tableFixture) []string { return sloArgs("--service", "chekout", "--respect-freeze") },
		exits: [3]int{2, 2, 2}, message: "unknown service chekout (did you mean checkout?)"},
	{id: "slo-other-service", gate: "slo", input: "an SLO of another service",
		args: func(*tableFixture) []string {
			return sloArgs("--service", "checkout", "--slo", "search-query-failures")
		},
		exits: [3]int{2, 2, 2}, message: "SLO search-query-failures belongs to service search-api, not checkout"},
	{id: "slo-no-slo", gate: "slo", input: "a service without SLOs (empty selection)",
		args:  func(*tableFixture) []string { return sloArgs("--service", "ci-runners") },
		exits: [3]int{2, 2, 2}, message: "service ci-runners has no SLO"},
	{id: "slo-no-data", gate: "slo", input: "an SLO without data in its window",
		args:  func(*tableFixture) []string { return sloArgs("--service", "search-api") },
		exits: [3]int{2, 2, 0}, message: "no events in the SLO's 7d window"},
	{id: "slo-freeze-no-data", gate: "slo", input: "`--respect-freeze` with an SLO without data",
		args:  func(*tableFixture) []string { return sloArgs("--service", "search-api", "--respect-freeze") },
		exits: [3]int{2, 2, 0}, message: "cannot tell whether the service is in release freeze"},
	{id: "slo-source-unreadable", gate: "slo", input: "an SLO whose Prometheus cannot be read",
		args:  func(*tableFixture) []string { return sloArgs("--service", "payments-api") },
		exits: [3]int{2, 2, 0}, message: "reading the SLI failed"},
	{id: "slo-p95-no-latency", gate: "slo", input: "`--p95-latency-ms` on an SLO without latency data in the window",
		args:  func(*tableFixture) []string { return sloArgs("--service", "checkout", "--p95-latency-ms", "500") },
		exits: [3]int{2, 2, 0}, message: "no latency observations over the 15m window"},
	{id: "slo-tandem-unreachable", gate: "slo", input: "tandem unreachable",
		args:  func(*tableFixture) []string { return sloArgs("--url", "http://127.0.0.1:1", "--service", "checkout") },
		exits: [3]int{2, 2, 0}, message: "cannot read SLOs"},
	{id: "slo-bad-token", gate: "slo", input: "a token tandem does not know",
		args: func(*tableFixture) []string {
			return sloArgs("--token", "tdm_wrongwrong_0000000000", "--service", "checkout")
		},
		exits: [3]int{2, 2, 2}, message: "invalid or revoked token"},
	{id: "slo-bad-value", gate: "slo", input: "a bad flag value",
		args: func(*tableFixture) []string {
			return sloArgs("--service", "checkout", "--min-budget-remaining", "lots")
		},
		exits: [3]int{2, 2, 2}, message: "want a percentage (10%) or a ratio (0.1)"},
	{id: "slo-unknown-flag", gate: "slo", input: "a misspelt flag",
		args:  func(*tableFixture) []string { return sloArgs("--service", "checkout", "--p95-latency", "500") },
		exits: [3]int{2, 2, 2}, message: "unknown flag: --p95-latency"},
	{id: "slo-bad-window", gate: "slo", input: "a bad `--window`",
		args: func(*tableFixture) []string {
			return sloArgs("--service", "checkout", "--p95-latency-ms", "500", "--window", "soon")
		},
		exits: [3]int{2, 2, 2}, message: `want a duration from 1s to 7d such as 15m or 1h, got "soon"`},
	{id: "slo-no-service", gate: "slo", input: "no `--service`",
		args:  func(*tableFixture) []string { return sloArgs("--min-budget-remaining", "10%") },
		exits: [3]int{2, 2, 2}, message: "required (or use --prometheus and --query)"},

	// tandem gate slo --prometheus: one PromQL value, no tandem server.
	{id: "prom-pass", gate: "slo", input: "`--prometheus`: the value holds",
		args:  func(fx *tableFixture) []string { return promArgs(fx, "vector(0.02)", "0.05") },
		exits: [3]int{0, 0, 0}, message: "SLO gate (prometheus): PASS (exit 0)"},
	{id: "prom-fail", gate: "slo", input: "`--prometheus`: the value is over the threshold",
		args:  func(fx *tableFixture) []string { return promArgs(fx, "vector(0.02)", "0.01") },
		exits: [3]int{1, 1, 1}, message: "= 0.02 (want <= 0.01)"},
	{id: "prom-no-series", gate: "slo", input: "`--prometheus`: the query selects no series (a misspelt metric)",
		args:  func(fx *tableFixture) []string { return promArgs(fx, "no_such_metric", "1") },
		exits: [3]int{2, 2, 2}, message: "the query returned no data: it selects no series"},
	{id: "prom-bad-query", gate: "slo", input: "`--prometheus`: Prometheus rejects the query",
		args:  func(fx *tableFixture) []string { return promArgs(fx, "sum(", "1") },
		exits: [3]int{2, 2, 2}, message: "query failed: bad_data"},
	{id: "prom-range", gate: "slo", input: "`--prometheus`: the query is a range, not an instant value",
		args:  func(fx *tableFixture) []string { return promArgs(fx, "vector(1)[5m:1m]", "1") },
		exits: [3]int{2, 2, 2}, message: "the query returned a matrix; want an instant vector or a scalar"},
	{id: "prom-unknown-service", gate: "slo", input: "`--prometheus` with a tandem server: a misspelt `--service`",
		args: func(fx *tableFixture) []string {
			return append([]string{"--url", fx.srv.URL, "--token", fx.srv.AdminToken}, append(promArgs(fx, "vector(0.02)", "0.05"), "--service", "chekout")...)
		},
		exits: [3]int{2, 2, 2}, message: "did you mean checkout?"},
	{id: "prom-nan", gate: "slo", input: "`--prometheus`: the value is NaN (0/0: nothing happened)",
		args:  func(fx *tableFixture) []string { return promArgs(fx, "vector(0)/0", "1") },
		exits: [3]int{2, 2, 0}, message: "the query returned NaN"},
	{id: "prom-unreachable", gate: "slo", input: "`--prometheus`: Prometheus unreachable",
		args: func(*tableFixture) []string {
			return []string{"gate", "slo", "--prometheus", "http://127.0.0.1:1", "--query", "up", "--threshold", "1", "--timeout", "2s"}
		},
		exits: [3]int{2, 2, 0}, message: "query failed"},

	// tandem gate migration.
	{id: "mig-pass", gate: "migration", input: "safe files, the command succeeds in time",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "postgres-main", "--dir", fx.safe, "--", "sh", "-c", marker)
		},
		exits: [3]int{0, 0, 0}, message: "migration gate for postgres-main: PASS (exit 0)", ran: yes},
	{id: "mig-slow", gate: "migration", input: "the command passes `--max-duration`",
		args: func(*tableFixture) []string {
			return migArgs("--service", "postgres-main", "--max-duration", "200ms", "--kill-on-timeout", "--", "sh", "-c", marker+"; sleep 5")
		},
		exits: [3]int{1, 1, 1}, message: "Migration exceeded latency threshold (", ran: yes},
	{id: "mig-exit", gate: "migration", input: "the command fails",
		args: func(*tableFixture) []string {
			return migArgs("--service", "postgres-main", "--", "sh", "-c", marker+"; exit 3")
		},
		exits: [3]int{1, 1, 1}, message: "migration command failed with exit code 3", ran: yes},
	{id: "mig-unknown-service", gate: "migration", input: "a misspelt `--service`",
		args:  func(*tableFixture) []string { return migArgs("--service", "postgres-mian", "--", "sh", "-c", marker) },
		exits: [3]int{2, 2, 2}, message: "did you mean postgres-main?", ran: no},
	{id: "mig-unknown-slo-service", gate: "migration", input: "safe files, a misspelt `--slo-service`",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "postgres-main", "--slo-service", "chekout", "--dir", fx.safe, "--", "sh", "-c", marker)
		},
		exits: [3]int{2, 2, 2}, message: "unknown service chekout (did you mean checkout?)", ran: no},
	{id: "mig-dir-unreadable", gate: "migration", input: "`--dir` cannot be read",
		args:  func(*tableFixture) []string { return migArgs("--dir", "/no/such/dir", "--", "sh", "-c", marker) },
		exits: [3]int{2, 2, 2}, message: "migrations directory", ran: no},
	{id: "mig-history-unreadable", gate: "migration", input: "`--database-url` cannot be read (the pending files are unknown)",
		args: func(fx *tableFixture) []string {
			return migArgs("--dir", fx.safe, "--database-url", "postgres://gate@127.0.0.1:1/none?connect_timeout=2", "--", "sh", "-c", marker)
		},
		exits: [3]int{2, 2, 2}, message: "(the pending files cannot be told apart)", ran: no},
	{id: "mig-destructive-no-rollback", gate: "migration", input: "destructive files, no undo script, no backup step",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "checkout", "--dir", fx.drop, "--", "sh", "-c", marker)
		},
		exits: [3]int{1, 1, 1}, message: "V1__drop_note.sql (drop-column) has no undo script", ran: no},
	{id: "mig-unjudged", gate: "migration", input: "a pending file that cannot be judged (not valid SQL) counts as destructive",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "checkout", "--dir", fx.unjudged, "--", "sh", "-c", marker)
		},
		exits: [3]int{1, 1, 1}, message: "V1__broken.sql (syntax-error) has no undo script", ran: no},
	{id: "mig-destructive-no-service", gate: "migration", input: "destructive files without `--service`",
		args:  func(fx *tableFixture) []string { return migArgs("--dir", fx.dropUndo, "--", "sh", "-c", marker) },
		exits: [3]int{2, 2, 2}, message: "name the service whose latency and error SLOs are checked after them", ran: no},
	{id: "mig-destructive-no-request-slo", gate: "migration", input: "destructive files, the service has no latency or error SLO",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "postgres-main", "--dir", fx.dropUndo, "--", "sh", "-c", marker)
		},
		exits: [3]int{2, 2, 2}, message: "service postgres-main has no SLO measured from requests", ran: no},
	{id: "mig-destructive-unknown-slo-service", gate: "migration", input: "destructive files, a misspelt `--slo-service`",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "postgres-main", "--slo-service", "chekout", "--dir", fx.dropUndo, "--", "sh", "-c", marker)
		},
		exits: [3]int{2, 2, 2}, message: "unknown service chekout (did you mean checkout?)", ran: no},
	{id: "mig-destructive-pass", gate: "migration", input: "destructive files with undo scripts, the SLOs hold over the migration",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "checkout", "--dir", fx.dropUndo, "--", "sh", "-c", marker)
		},
		exits: [3]int{0, 0, 0}, message: "PASS           burn_rate_", ran: yes},
	{id: "mig-destructive-slo-fail", gate: "migration", input: "destructive files, an SLO burns over the migration (`--on-fail` runs)",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "identity-api", "--dir", fx.dropUndo, "--on-fail", "echo remediation for $TANDEM_GATE_SERVICE", "--", "sh", "-c", marker)
		},
		exits: [3]int{1, 1, 1}, message: "remediation for identity-api", ran: yes},
	{id: "mig-destructive-slo-no-data", gate: "migration", input: "destructive files, no traffic over the migration",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "search-api", "--dir", fx.dropUndo, "--", "sh", "-c", marker)
		},
		exits: [3]int{2, 2, 0}, message: "no events over the 1m window", ran: yes},
	{id: "mig-backup-cmd", gate: "migration", input: "destructive files, `--backup-cmd` exits 0",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "checkout", "--dir", fx.drop, "--backup-step", "pre-drop", "--backup-cmd", "echo dumped", "--", "sh", "-c", marker)
		},
		exits: [3]int{0, 0, 0}, message: "backup step pre-drop exited 0", ran: yes},
	{id: "mig-backup-cmd-fails", gate: "migration", input: "destructive files, `--backup-cmd` fails",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "checkout", "--dir", fx.drop, "--backup-step", "pre-drop", "--backup-cmd", "exit 4", "--", "sh", "-c", marker)
		},
		exits: [3]int{1, 1, 1}, message: "backup step pre-drop failed with exit code 4", ran: no},
	{id: "mig-backup-event", gate: "migration", input: "destructive files, a recorded `backup` change event names the step",
		setup: func(t *testing.T, fx *tableFixture) {
			if _, err := fx.srv.Client.RecordChange(context.Background(), client.ChangeEvent{Service: "checkout", Kind: change.KindBackup,
				Version: "nightly", FinishedAt: time.Now().Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
		},
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "checkout", "--dir", fx.drop, "--backup-step", "nightly", "--", "sh", "-c", marker)
		},
		exits: [3]int{0, 0, 0}, message: "backup nightly of checkout succeeded at", ran: yes},
	{id: "mig-backup-missing", gate: "migration", input: "destructive files, no backup event for the step",
		args: func(fx *tableFixture) []string {
			return migArgs("--service", "checkout", "--dir", fx.drop, "--backup-step", "weekly", "--", "sh", "-c", marker)
		},
		exits: [3]int{1, 1, 1}, message: "no successful backup change event weekly of checkout", ran: no},

	// tandem verify deploy.
	{id: "verify-pass", gate: "verify", input: "the SLIs after the deploy are no worse",
		args:  func(fx *tableFixture) []string { return verifyArgs("--deploy", fmt.Sprint(fx.deploys["clean"])) },
		exits: [3]int{0, 0, 0}, message: "PASS           error_ratio invoicing-availability"},
	{id: "verify-regression", gate: "verify", input: "the error ratio rose after the deploy",
		args:  func(fx *tableFixture) []string { return verifyArgs("--deploy", fmt.Sprint(fx.deploys["regression"])) },
		exits: [3]int{1, 1, 1}, message: "FAIL           error_ratio invoicing-availability"},
	{id: "verify-no-traffic", gate: "verify", input: "no traffic after the deploy",
		args:  func(fx *tableFixture) []string { return verifyArgs("--deploy", fmt.Sprint(fx.deploys["quiet"])) },
		exits: [3]int{2, 2, 0}, message: "0 events after the deploy, need 100"},
	{id: "verify-source-unreadable", gate: "verify", input: "the SLO's Prometheus cannot be read",
		args:  func(fx *tableFixture) []string { return verifyArgs("--deploy", fmt.Sprint(fx.deploys["payments"])) },
		exits: [3]int{2, 2, 0}, message: "cannot read the SLI"},
	{id: "verify-no-slo", gate: "verify", input: "the service has no SLO measured from requests (empty selection)",
		args:  func(fx *tableFixture) []string { return verifyArgs("--deploy", fmt.Sprint(fx.deploys["ci"])) },
		exits: [3]int{2, 2, 2}, message: "service ci-runners has no SLO measured from requests"},
	{id: "verify-unknown-service", gate: "verify", input: "a misspelt service",
		args:  func(*tableFixture) []string { return verifyArgs("--service", "chekout") },
		exits: [3]int{2, 2, 2}, message: "unknown service chekout"},
	{id: "verify-unknown-deploy", gate: "verify", input: "an unknown deploy id",
		args:  func(*tableFixture) []string { return verifyArgs("--deploy", "99999") },
		exits: [3]int{2, 2, 2}, message: "99999"},
	{id: "verify-no-deploy", gate: "verify", input: "a service without a recorded deploy",
		args:  func(*tableFixture) []string { return verifyArgs("--service", "search-api") },
		exits: [3]int{2, 2, 2}, message: "no deploy of search-api recorded"},
	{id: "verify-unreachable", gate: "verify", input: "tandem unreachable",
		args: func(*tableFixture) []string {
			return verifyArgs("--url", "http://127.0.0.1:1", "--service", "checkout")
		},
		exits: [3]int{2, 2, 0}, message: "cannot verify"},
}

func sloArgs(a ...string) []string    { return append([]string{"gate", "slo"}, a...) }
func migArgs(a ...string) []string    { return append([]string{"gate", "migration"}, a...) }
func verifyArgs(a ...string) []string { return append([]string{"verify", "deploy", "--no-wait"}, a...) }
func promArgs(fx *tableFixture, query, threshold string) []string {
	return []string{"gate", "slo", "--prometheus", fx.prometheus, "--query", query, "--threshold", threshold}
}

// TestGateTable runs every row of the gate table through the built
// binary against a real server, with the default, --fail-closed and
// --fail-open, and checks the exit code and the message; migration rows
// also check whether the command ran.
func TestGateTable(t *testing.T) {
	fx := newTableFixture(t)
	modes := []struct {
		name string
		flag []string
	}{{"default", nil}, {"fail-closed", []string{"--fail-closed"}}, {"fail-open", []string{"--fail-open"}}}
	for _, row := range gateRows {
		t.Run(row.id, func(t *testing.T) {
			if strings.HasPrefix(row.id, "prom-") && fx.prometheus == "" {
				testenv.Missing(t, "prometheus for the --prometheus rows")
				return
			}
			if row.setup != nil {
				row.setup(t, fx)
			}
			args := row.args(fx)
			for i, m := range modes {
				full := append(append([]string(nil), args...), m.flag...)
				if dash := indexOf(full, "--"); dash >= 0 { // flags go before the migration's command
					full = append(append(append(append([]string(nil), args[:dash]...), m.flag...), "--"), args[dash+1:]...)
				}
				if !strings.HasPrefix(row.id, "prom-") && indexOf(full, "--url") < 0 {
					full = append([]string{"--url", fx.srv.URL, "--token", fx.srv.AdminToken}, full...)
				}
				mark := filepath.Join(t.TempDir(), "ran")
				code, out, errOut := runBinary(t, fx.bin, []string{"TANDEM_TEST_MARKER=" + mark}, full...)
				if code != row.exits[i] || !strings.Contains(out+errOut, row.message) {
					t.Errorf("%s: exit %d, want %d with %q\nargs %q\nstdout:\n%s\nstderr:\n%s", m.name, code, row.exits[i], row.message, full, out, errOut)
				}
				if row.exits[i] == 0 && row.exits[0] == 2 && !strings.Contains(out+errOut, "WARNING: the gate could not evaluate") {
					t.Errorf("%s: a pass by --fail-open without the warning:\n%s%s", m.name, out, errOut)
				}
				if row.ran != nil {
					_, err := os.Stat(mark)
					if ran := err == nil; ran != *row.ran {
						t.Errorf("%s: the migration ran = %v, want %v\n%s%s", m.name, ran, *row.ran, out, errOut)
					}
				}
			}
		})
	}
	// JSON output says the same, with the window read.
	code, out, _ := runBinary(t, fx.bin, nil, "--url", fx.srv.URL, "--token", fx.srv.AdminToken,
		"gate", "slo", "--service", "identity-api", "--p95-latency-ms", "500", "--format", "json")
	for _, want := range []string{`"verdict": "fail"`, `"exit_code": 1`, `"window": "15m"`, `"name": "p95_latency_ms identity-login-latency"`} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("json: exit %d, want %s in\n%s", code, want, out)
		}
	}
	code, out, _ = runBinary(t, fx.bin, nil, "--url", fx.srv.URL, "--token", fx.srv.AdminToken,
		"gate", "slo", "--service", "search-api", "--format", "json", "--fail-open")
	for _, want := range []string{`"verdict": "inconclusive"`, `"exit_code": 0`, `"value": null`, `"warning": "WARNING: the gate could not evaluate`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("json no data: exit %d, want %s in\n%s", code, want, out)
		}
	}
	// The API names a bad field.
	for body, field := range map[string]string{
		`{"service":"checkout","from":"2026-01-01T00:00:00Z"}`:     "from",
		`{"service":"checkout","max_burn_rate":-1}`:                "max_burn_rate",
		`{"service":"checkout","burn_window":"0s"}`:                "burn_window",
		`{"service":"checkout","p95_latency_ms":500,"windw":"1h"}`: "windw",
		`{"slos":["checkout-api-availability"]}`:                   "service",
	} {
		err := fx.srv.Client.Do(context.Background(), "POST", "/api/v1/gates/slo/evaluate", nil, json.RawMessage(body), nil)
		if tandem.ErrorCode(err) != tandem.EInvalid || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want invalid naming %s", body, err, field)
		}
	}
	// The backup steps the gate ran are change events; the migrations it
	// ran carry their class.
	evs, err := fx.srv.Client.Changes(context.Background(), client.ChangeQuery{Services: []string{"checkout"}})
	if err != nil {
		t.Fatal(err)
	}
	var backups, destructive []string
	for _, e := range evs {
		switch {
		case e.Kind == change.KindBackup:
			backups = append(backups, e.Version+":"+e.Status)
		case e.Kind == change.KindMigration && e.HasLabel("destructive"):
			destructive = append(destructive, e.Version)
		}
	}
	// Three runs each of mig-backup-cmd and mig-backup-cmd-fails, and the
	// nightly event of mig-backup-event.
	if got := strings.Join(backups, " "); strings.Count(got, "pre-drop:success") != 3 || strings.Count(got, "pre-drop:failed") != 3 ||
		strings.Count(got, "nightly:success") != 1 {
		t.Errorf("backup change events: %s", got)
	}
	// mig-destructive-pass, mig-backup-cmd and mig-backup-event ran, three
	// times each.
	if len(destructive) != 9 || destructive[0] != "1" {
		t.Errorf("destructive migration events: %v", destructive)
	}
	// A read-only token can evaluate; the result is then not recorded.
	code, out, errOut := runBinary(t, fx.bin, nil, "--url", fx.srv.URL, "--token", fx.readToken, "gate", "slo", "--service", "checkout")
	if code != 0 || !strings.Contains(errOut, "gate result not recorded") {
		t.Errorf("read token: exit %d\n%s\n%s", code, out, errOut)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func newTableFixture(t *testing.T) *tableFixture {
	t.Helper()
	dir := configDir(t)
	if err := os.WriteFile(filepath.Join(dir, "slos-gate.yaml"), []byte(gateSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	fx := &tableFixture{bin: buildTandem(t), srv: apptest.Start(t, apptest.Options{ConfigDir: dir}), deploys: map[string]int64{}}
	fx.readToken = fx.srv.Token(t, "reader", auth.ScopeRead)
	ctx := context.Background()
	c := fx.srv.Client
	now := time.Now().UTC()
	// checkout: 0.05 % errors from two hours ago to a few minutes ahead (a
	// migration row's window must hold data): half the budget of a 99.9 %
	// SLO, burn rate 0.5.
	ingest(t, c, "checkout-api-availability", now.Add(-2*time.Hour), now.Add(4*time.Minute), 19990, 20000, "checkout")
	// identity-api: a canary whose last ten minutes (and the next few) run
	// at 700 ms against a 250 ms latency objective: every request is bad.
	var evs []client.SLOEvent
	for m := now.Add(-10 * time.Minute).Truncate(time.Minute); m.Before(now.Add(4 * time.Minute)); m = m.Add(time.Minute) {
		for i := range 20 {
			ms := 700.0
			evs = append(evs, client.SLOEvent{Time: m.Add(time.Duration(i) * time.Second), LatencyMs: &ms})
		}
	}
	if _, err := c.PostSLOEvents(ctx, "identity-login-latency", client.SLOBatch{Source: "test", BatchID: "identity", Events: evs}); err != nil {
		t.Fatal(err)
	}
	// invoicing: 0.1 % errors, 5 % for the 15 minutes after the
	// "regression" deploy, 0.1 % again after the "clean" one.
	regression := now.Add(-50 * time.Minute).Truncate(time.Minute)
	clean := regression.Add(20 * time.Minute)
	ingest(t, c, "invoicing-availability", regression.Add(-time.Hour), regression, 999, 1000, "inv-before")
	ingest(t, c, "invoicing-availability", regression, regression.Add(15*time.Minute), 950, 1000, "inv-bad")
	ingest(t, c, "invoicing-availability", regression.Add(15*time.Minute), now, 999, 1000, "inv-after")
	for name, e := range map[string]client.ChangeEvent{
		"regression": {Service: "invoicing", Kind: change.KindDeploy, Version: "5.0", FinishedAt: regression},
		"clean":      {Service: "invoicing", Kind: change.KindDeploy, Version: "5.1", FinishedAt: clean},
		"quiet":      {Service: "identity-api", Kind: change.KindDeploy, Version: "9", FinishedAt: now.Add(-3 * time.Hour)},
		"payments":   {Service: "payments-api", Kind: change.KindDeploy, Version: "2", FinishedAt: now.Add(-30 * time.Minute)},
		"ci":         {Service: "ci-runners", Kind: change.KindDeploy, Version: "1", FinishedAt: now.Add(-30 * time.Minute)},
	} {
		ev, err := c.RecordChange(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		fx.deploys[name] = ev.ID
	}
	write := func(files map[string]string) string {
		d := t.TempDir()
		for n, s := range files {
			if err := os.WriteFile(filepath.Join(d, n), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	fx.safe = write(map[string]string{"V1__create.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, note text);"})
	fx.drop = write(map[string]string{"V1__drop_note.sql": "SET lock_timeout = '2s';\nALTER TABLE orders DROP COLUMN note;\n"})
	fx.dropUndo = write(map[string]string{"V1__drop_note.sql": "SET lock_timeout = '2s';\nALTER TABLE orders DROP COLUMN note;\n",
		"U1__drop_note.sql": "ALTER TABLE orders ADD COLUMN note text;\n"})
	fx.unjudged = write(map[string]string{"V1__broken.sql": "ALTER TABLE orders DROPP COLUMN note;\n"})
	if bin := prometheusBinary(); bin != "" {
		fx.prometheus = startPrometheus(t, bin, "global:\n  scrape_interval: 1m\n", "")
	}
	return fx
}

// TestGateTableDocs: docs/gates.md shows exactly the rows TestGateTable
// runs (go test -run TestGateTableDocs -update rewrites it).
func TestGateTableDocs(t *testing.T) {
	b, err := os.ReadFile(gatesDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	const begin, end = "<!-- gate-table:begin -->", "<!-- gate-table:end -->"
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("docs/gates.md has no %s … %s section", begin, end)
	}
	want := gateTableMarkdown()
	if *update {
		s = s[:i+len(begin)] + "\n" + want + s[j:]
		if err := os.WriteFile(gatesDoc, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := strings.TrimSpace(s[i+len(begin) : j]); got != strings.TrimSpace(want) {
		t.Errorf("docs/gates.md's gate table differs from the test's rows (go test ./internal/gate -run TestGateTableDocs -update):\n%s", got)
	}
}

// gateTableMarkdown renders gateRows as the docs table.
func gateTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| row | gate | given | default | `--fail-closed` | `--fail-open` | says |\n|---|---|---|---|---|---|---|\n")
	for _, r := range gateRows {
		msg := strings.ReplaceAll(r.message, "|", `\|`)
		fmt.Fprintf(&b, "| `%s` | %s | %s | %d | %d | %d | `%s` |\n", r.id, r.gate, r.input, r.exits[0], r.exits[1], r.exits[2], msg)
	}
	return b.String()
}
