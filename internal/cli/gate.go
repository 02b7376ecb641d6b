package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/migration"
)

// gateCommands are the commands for CI/CD gates, post-deploy verification
// and migration checks: gate (slo, migration, log), migrate (lint,
// validate) and verify (deploy).
func gateCommands(g *globals) []*cobra.Command {
	gateCmd := &cobra.Command{Use: "gate", Short: "Stop a pipeline on SLOs, release freezes and slow migrations"}
	gateCmd.AddCommand(newGateSLOCmd(g), newGateMigrationCmd(g), newGateLogCmd(g))
	migrate := &cobra.Command{Use: "migrate", Short: "Lint and validate Flyway-style SQL migrations"}
	migrate.AddCommand(newMigrateLintCmd(g), newMigrateValidateCmd(g))
	verify := &cobra.Command{Use: "verify", Short: "Verify a change against the SLIs before it"}
	verify.AddCommand(newVerifyChangeCmd(g), newVerifyDeployCmd(g))
	return []*cobra.Command{gateCmd, migrate, verify}
}

// ciSource names the CI run that runs a gate, from the usual variables.
func ciSource() string {
	if s, r := os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_RUN_ID"); s != "" && r != "" {
		return s + "/" + os.Getenv("GITHUB_REPOSITORY") + "/actions/runs/" + r
	}
	for _, k := range []string{"BUILD_URL", "CI_JOB_URL", "CIRCLE_BUILD_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// ---- what every gate command shares ----

// gateFlags are the flags every gate command has: what "could not
// evaluate" gives (--fail-open, --fail-closed), the output format and the
// remediation command of a failing verdict (--on-fail).
type gateFlags struct {
	failOpen, failClosed bool
	format               string
	onFail               string
	commit               string
}

func (f *gateFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&f.onFail, "on-fail", "", "command run (with sh -c) when the gate fails, e.g. a rollback")
	fl.BoolVar(&f.failOpen, "fail-open", false, "pass (exit 0, with a warning) when the gate cannot read its data")
	fl.BoolVar(&f.failClosed, "fail-closed", false, "exit 2 when the gate cannot read its data (the default)")
	fl.StringVar(&f.format, "format", "text", "output: text or json")
}

// addCommit adds --commit to a gate whose result is recorded by the CLI
// (the SLO and migration gates; verification reports on the change's
// commit).
func (f *gateFlags) addCommit(fl *pflag.FlagSet) {
	fl.StringVar(&f.commit, "commit", ciCommit(), "SHA of the commit gated, where a GitHub check run reports the result (default $GITHUB_SHA, $CI_COMMIT_SHA)")
}

// ciCommit is the commit a CI run builds, from the variables GitHub
// Actions and GitLab CI set.
func ciCommit() string {
	for _, k := range []string{"GITHUB_SHA", "CI_COMMIT_SHA"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func (f *gateFlags) check() error {
	if f.failOpen && f.failClosed {
		return tandem.FieldErrorf("--fail-open", "give --fail-open or --fail-closed, not both")
	}
	return checkFormat(f.format, "text", "json")
}

// gateCommand makes cmd a gate command: a bad flag, a bad argument and
// any error before a verdict are "could not evaluate" (exit 2, the error
// on stderr), never a plain failure that a pipeline could mistake for a
// gate that ran.
func gateCommand(g *globals, cmd *cobra.Command, run func(cmd *cobra.Command, args []string) error) *cobra.Command {
	cannot := func(err error) error {
		fmt.Fprintln(g.stderr, "error:", errorText(err))
		return &ExitError{Code: 2}
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cannot(err) })
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return cannot(err)
			}
			return nil
		}
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		err := run(c, args)
		var ee *ExitError
		if err == nil || errors.As(err, &ee) {
			return err
		}
		return cannot(err)
	}
	return cmd
}

// refused reports whether err is tandem refusing the gate's input (an
// unknown name, an empty selection, a bad value, a token that may not)
// rather than tandem or its data being out of reach. A refusal fails
// closed whatever --fail-open says: a typo must never read PASS.
func refused(err error) bool {
	switch tandem.ErrorCode(err) {
	case tandem.EUnavailable, tandem.EInternal:
		return false
	}
	return true
}

// gateOutcome is how one gate run ended, for gateFlags.finish.
type gateOutcome struct {
	// Kind is the gate (slo, migration, verify), Service what it gated.
	Kind, Service string
	Verdict       string
	// Closed is set when the gate could not evaluate because its input
	// does not resolve: exit 2 even with --fail-open.
	Closed bool
	// Lines are the text output's body (one per check, then messages);
	// Title starts the verdict line ("SLO gate for checkout").
	Lines []string
	Title string
	// Report is the JSON output, given the exit code and the warning.
	Report func(exitCode int, warning string) any
	// Remedy is set when --on-fail may run on a failing verdict (the
	// migration gate sets it only once the migration ran).
	Remedy   bool
	ResultID int64
	// Out receives the output (stdout, or stderr where the child's output
	// owns stdout).
	Out io.Writer
}

// exitCode is a verdict's exit code: 0 pass, 1 fail, 2 could not evaluate
// (0 with a warning under --fail-open, unless the input did not resolve).
func (f *gateFlags) exitCode(o gateOutcome) (int, string) {
	switch o.Verdict {
	case gate.Pass:
		return 0, ""
	case gate.Fail:
		return 1, ""
	}
	switch {
	case o.Closed && f.failOpen:
		return 2, "--fail-open does not apply: the gate's input does not resolve"
	case f.failOpen:
		return 0, "WARNING: the gate could not evaluate; passing because of --fail-open"
	}
	return 2, ""
}

// finish ends a gate run: it prints the outcome (text or JSON), runs
// --on-fail on a failing verdict, and returns the exit code as an
// *ExitError (nil for 0).
func (f *gateFlags) finish(ctx context.Context, g *globals, o gateOutcome) error {
	code, warn := f.exitCode(o)
	out := o.Out
	if out == nil {
		out = g.stdout
	}
	if f.format == "json" {
		if err := writeJSON(out, o.Report(code, warn)); err != nil {
			return err
		}
	} else {
		var b strings.Builder
		for _, l := range o.Lines {
			b.WriteString(l + "\n")
		}
		if warn != "" {
			b.WriteString(warn + "\n")
		}
		fmt.Fprintf(&b, "%s: %s (exit %d)\n", o.Title, strings.ToUpper(o.Verdict), code)
		if _, err := io.WriteString(out, b.String()); err != nil {
			return err
		}
	}
	if o.Verdict == gate.Fail && o.Remedy {
		f.remediate(ctx, g, o)
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// remediate runs the --on-fail command through sh -c with its output
// streamed and TANDEM_GATE, TANDEM_GATE_SERVICE and TANDEM_GATE_RESULT_ID
// in its environment. Its own failure is reported; it does not change the
// gate's exit code.
func (f *gateFlags) remediate(ctx context.Context, g *globals, o gateOutcome) {
	if f.onFail == "" {
		return
	}
	fmt.Fprintf(g.stderr, "tandem: %s gate failed; running --on-fail: %s\n", o.Kind, f.onFail)
	sh := exec.CommandContext(ctx, "sh", "-c", f.onFail)
	sh.Stdout, sh.Stderr = g.stdout, g.stderr
	if f.format == "json" {
		sh.Stdout = g.stderr // stdout holds the JSON report alone
	}
	sh.Env = append(os.Environ(), "TANDEM_GATE="+o.Kind, "TANDEM_GATE_SERVICE="+o.Service)
	if o.ResultID > 0 {
		sh.Env = append(sh.Env, "TANDEM_GATE_RESULT_ID="+strconv.FormatInt(o.ResultID, 10))
	}
	if err := sh.Run(); err != nil {
		fmt.Fprintln(g.stderr, "tandem: --on-fail command failed:", err)
	}
}

// checkLines renders checks one per line.
func checkLines(checks []client.GateCheck) []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = gate.FormatCheck(gate.Check(c))
	}
	return out
}

// ---- tandem gate slo ----

type sloGateFlags struct {
	gateFlags
	service, burnWindow, budget, window string
	env                                 string
	slos                                []string
	p95, burn                           float64
	respectFreeze                       bool
	prometheus, query, op               string
	threshold                           float64
	timeout                             time.Duration
}

// sloGateReport is the JSON form of an SLO gate run.
type sloGateReport struct {
	Service string   `json:"service"`
	SLOs    []string `json:"slos"`
	// Window, From and To are the recent window the p95 check read.
	Window   string             `json:"window,omitempty"`
	From     time.Time          `json:"from,omitzero"`
	To       time.Time          `json:"to,omitzero"`
	Verdict  string             `json:"verdict"`
	ExitCode int                `json:"exit_code"`
	Message  string             `json:"message,omitempty"`
	Warning  string             `json:"warning,omitempty"`
	Checks   []client.GateCheck `json:"checks"`
	ResultID int64              `json:"result_id,omitempty"`
}

func newGateSLOCmd(g *globals) *cobra.Command {
	f := &sloGateFlags{}
	cmd := &cobra.Command{
		Use:   "slo",
		Short: "Pass or fail a pipeline on a service's SLOs (exit 0 pass, 1 fail, 2 could not evaluate)",
		Long: `Checks a service's SLOs against thresholds: error budget left (over each
SLO's window), burn rate (over --burn-window), p95 latency (over the recent
--window, 15m by default) and release freeze, read from tandem; or one PromQL
value read straight from Prometheus (--prometheus, --query, --threshold) for
pipelines without a tandem server.

Every name must resolve: an unknown service or SLO, or a service without
SLOs, is exit 2 with the close names, whatever --fail-open says.

Exit codes: 0 pass, 1 fail, 2 could not evaluate. --fail-closed (the
default) keeps 2 when the data cannot be read (tandem or Prometheus
unreachable, an SLO without data); --fail-open turns that into a pass with a
warning. On a fail, --on-fail runs a command (a rollback) with its output
streamed, and the result is recorded in tandem's gate audit log when a
server is configured. docs/gates.md has the table of every case.`,
		Args: cobra.NoArgs,
	}
	gateCommand(g, cmd, func(cmd *cobra.Command, args []string) error {
		return runSLOGate(cmd.Context(), g, f, cmd.Flags().Changed)
	})
	fl := cmd.Flags()
	f.gateFlags.add(fl)
	f.gateFlags.addCommit(fl)
	fl.StringVar(&f.service, "service", "", "service whose SLOs are checked (required with a tandem server)")
	fl.StringArrayVar(&f.slos, "slo", nil, "check only this SLO (repeatable; default every SLO of the service in --env)")
	fl.StringVar(&f.env, "env", "production", "environment whose SLOs are checked")
	fl.Float64Var(&f.p95, "p95-latency-ms", 0, "fail when an SLO's p95 latency over --window is above this")
	fl.StringVar(&f.window, "window", "15m", "recent window of the p95 check, ending now")
	fl.StringVar(&f.budget, "min-budget-remaining", "", "fail when less error budget is left, e.g. 10% or 0.1")
	fl.Float64Var(&f.burn, "max-burn-rate", 0, "fail when the burn rate over --burn-window is above this")
	fl.StringVar(&f.burnWindow, "burn-window", "1h", "burn-rate window: 5m, 30m, 1h, 2h, 6h, 1d, 3d (the SLO status's), or any other (read from the data)")
	fl.BoolVar(&f.respectFreeze, "respect-freeze", false, "fail while the service is in release freeze")
	fl.StringVar(&f.prometheus, "prometheus", "", "Prometheus base URL: evaluate --query there instead of tandem's SLOs")
	fl.StringVar(&f.query, "query", "", "PromQL whose value (each series) is held against --threshold")
	fl.Float64Var(&f.threshold, "threshold", 0, "the limit for --query")
	fl.StringVar(&f.op, "op", "<=", "how the --query value must compare with --threshold: <=, <, >= or >")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "how long to wait for tandem or Prometheus")
	return cmd
}

// parseRatio reads "10%" or "0.1".
func parseRatio(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("want a percentage (10%%) or a ratio (0.1), got %q", s)
	}
	if pct || v > 1 {
		v /= 100
	}
	if v < -10 || v > 1 {
		return 0, fmt.Errorf("want a percentage up to 100%%, got %q", s)
	}
	return v, nil
}

func runSLOGate(ctx context.Context, g *globals, f *sloGateFlags, changed func(string) bool) error {
	if err := f.check(); err != nil {
		return err
	}
	var c *client.Client
	if g.url != "" {
		var err error
		if c, err = g.client(); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	rep := sloGateReport{Service: f.service, SLOs: f.slos, Checks: []client.GateCheck{}}
	o := gateOutcome{Kind: gate.KindSLO, Service: f.service, Title: "SLO gate for " + f.service, Remedy: true}
	target := strings.Join(f.slos, ",")
	if f.prometheus != "" {
		if f.query == "" {
			return tandem.FieldErrorf("--query", "required with --prometheus")
		}
		if f.op != "<=" && f.op != "<" && f.op != ">=" && f.op != ">" {
			return tandem.FieldErrorf("--op", "want <=, <, >= or >, got %q", f.op)
		}
		o.Title, target = "SLO gate (prometheus)", f.query
		if f.service != "" {
			o.Title += " for " + f.service
		}
		// The service only labels the recorded result, but a misspelt one
		// must not pass unnoticed either.
		var err error
		if c != nil && f.service != "" {
			_, err = c.Service(cctx, f.service)
		}
		if err != nil && refused(err) {
			rep.Verdict, rep.Message, o.Closed = gate.Inconclusive, tandem.ErrorMessage(err), true
		} else {
			rep.Checks, o.Closed = promChecks(cctx, f)
			rep.Verdict = gate.Combine(gateChecks(rep.Checks))
		}
	} else {
		if f.service == "" {
			return tandem.FieldErrorf("--service", "required (or use --prometheus and --query)")
		}
		if c == nil {
			return tandem.Errorf(tandem.EInvalid, "no tandem server: set TANDEM_URL or --url, or evaluate a PromQL query with --prometheus")
		}
		req := client.SLOGateRequest{Service: f.service, Environment: f.env, SLOs: f.slos, Window: f.window, RespectFreeze: f.respectFreeze}
		if changed("burn-window") || changed("max-burn-rate") {
			req.BurnWindow = f.burnWindow
		}
		if changed("min-budget-remaining") {
			v, err := parseRatio(f.budget)
			if err != nil {
				return tandem.FieldErrorf("--min-budget-remaining", "%v", err)
			}
			req.MinBudgetRemaining = &v
		}
		if changed("max-burn-rate") {
			req.MaxBurnRate = &f.burn
		}
		if changed("p95-latency-ms") {
			req.P95LatencyMs = &f.p95
		}
		ev, err := c.EvaluateSLOGate(cctx, req)
		switch {
		case err != nil && refused(err):
			rep.Verdict, rep.Message, o.Closed = gate.Inconclusive, tandem.ErrorMessage(err), true
		case err != nil:
			rep.Verdict = gate.Inconclusive
			rep.Checks = []client.GateCheck{{Name: "slos " + f.service, Op: ">=", Threshold: 1, Verdict: gate.Inconclusive,
				Detail: "cannot read SLOs: " + errorText(err)}}
		default:
			rep.SLOs, rep.Window, rep.From, rep.To, rep.Verdict, rep.Checks = ev.SLOs, ev.Window, ev.From, ev.To, ev.Verdict, ev.Checks
		}
	}
	// A refused input is not a gate run: there may be no service to record
	// it against, and its message says all there is.
	if c != nil && !o.Closed {
		res, err := c.RecordGate(cctx, client.GateResult{Kind: gate.KindSLO, Service: f.service, Target: target, Verdict: rep.Verdict,
			Message: rep.Message, Checks: rep.Checks, Source: ciSource(), Commit: f.commit, FailOpen: f.failOpen})
		if err != nil {
			fmt.Fprintln(g.stderr, "tandem: gate result not recorded:", errorText(err))
		} else {
			rep.ResultID = res.ID
		}
	}
	o.Verdict, o.ResultID = rep.Verdict, rep.ResultID
	o.Lines = checkLines(rep.Checks)
	if rep.Message != "" {
		o.Lines = append(o.Lines, rep.Message)
	}
	o.Report = func(code int, warn string) any {
		rep.ExitCode, rep.Warning = code, warn
		return rep
	}
	return f.finish(ctx, g, o)
}

// promChecks evaluates the PromQL query: one check per series (or the
// scalar). Prometheus unreachable, or a NaN, is inconclusive; a query
// Prometheus rejects, or one that selects no series (a misspelt metric
// reads the same as no data), is inconclusive and closed: --fail-open does
// not pass it.
func promChecks(ctx context.Context, f *sloGateFlags) (checks []client.GateCheck, closed bool) {
	bad := func(detail string, closed bool) ([]client.GateCheck, bool) {
		return []client.GateCheck{{Name: "prometheus " + f.query, Op: f.op, Threshold: f.threshold, Verdict: gate.Inconclusive, Detail: detail}}, closed
	}
	pc, err := api.NewClient(api.Config{Address: f.prometheus})
	if err != nil {
		return bad("bad Prometheus URL: "+err.Error(), true)
	}
	val, _, _, err := promv1.NewAPI(pc).Query(ctx, f.query, time.Now())
	if err != nil {
		var pe *promv1.Error
		return bad("query failed: "+err.Error(), errors.As(err, &pe) && pe.Type == promv1.ErrBadData)
	}
	check := func(name string, v float64) client.GateCheck {
		c := client.GateCheck{Name: name, Op: f.op, Threshold: f.threshold, Verdict: gate.Pass}
		switch {
		case v != v: // NaN: 0/0, nothing happened in the query's range
			c.Verdict, c.Detail = gate.Inconclusive, "the query returned NaN"
		case !gate.Holds(v, f.op, f.threshold):
			c.Value, c.Verdict = gate.Measured(v), gate.Fail
		default:
			c.Value = gate.Measured(v)
		}
		return c
	}
	var out []client.GateCheck
	switch v := val.(type) {
	case *model.Scalar:
		out = append(out, check(f.query, float64(v.Value)))
	case model.Vector:
		for _, s := range v {
			name := f.query
			if len(s.Metric) > 0 {
				name += " " + s.Metric.String()
			}
			out = append(out, check(name, float64(s.Value)))
		}
	default:
		return bad(fmt.Sprintf("the query returned a %s; want an instant vector or a scalar", val.Type()), true)
	}
	if len(out) == 0 {
		return bad("the query returned no data: it selects no series", true)
	}
	return out, false
}

// ---- tandem gate migration ----

type migrationGateFlags struct {
	gateFlags
	service, env, dir, databaseURL, table string
	sloServices                           []string
	maxDur, destructiveMax, timeout       time.Duration
	kill                                  bool
	backupStep, backupCmd                 string
	backupMaxAge                          time.Duration
	maxBurn, p95                          float64
}

// migrationGateReport is the JSON form of a migration gate run.
type migrationGateReport struct {
	Service string `json:"service,omitempty"`
	Command string `json:"command"`
	// AppName is the PGAPPNAME the command ran with.
	AppName string `json:"app_name"`
	// Class is the lint class of the pending files; Destructive the changes
	// that held the run to the stricter checks.
	Class       string             `json:"class,omitempty"`
	Versions    string             `json:"versions,omitempty"`
	Destructive []migration.Change `json:"destructive_changes,omitempty"`
	Limit       string             `json:"limit"`
	Ran         bool               `json:"ran"`
	Run         *gate.RunResult    `json:"run,omitempty"`
	Verdict     string             `json:"verdict"`
	ExitCode    int                `json:"exit_code"`
	Message     string             `json:"message,omitempty"`
	Warning     string             `json:"warning,omitempty"`
	Checks      []client.GateCheck `json:"checks"`
	ChangeID    int64              `json:"change_id,omitempty"`
	ResultID    int64              `json:"result_id,omitempty"`
}

func newGateMigrationCmd(g *globals) *cobra.Command {
	f := &migrationGateFlags{}
	cmd := &cobra.Command{
		Use:   "migration [flags] -- COMMAND [ARGS…]",
		Short: "Run a migration tool, measure it, and fail the pipeline when it is too slow or unsafe",
		Long: `Runs any migration tool (flyway, liquibase, goose, migrate, psql) as a
child process with its output streamed and PGAPPNAME=tandem-gate-<id> in its
environment, measures it, and records a migration change event (duration,
outcome, lint class of the pending files) when a tandem server is configured.

Past --max-duration (--destructive-max-duration when the pending files are
destructive) the gate exits 1 with "Migration exceeded latency threshold
(N s > T s)". --kill-on-timeout also stops the child and, with
--database-url, cancels its database sessions (found by PGAPPNAME).

Destructive pending files (drops, rewrites, type changes; see
docs/migrations.md) are held to more: an undo script (U<version>__…) for
each, or a backup step that ran (--backup-step), before the command runs; and
after it, the latency and error SLOs of --service (or --slo-service) over the
migration's window. docs/gates.md has the table of every case.`,
		Args: cobra.MinimumNArgs(1),
	}
	gateCommand(g, cmd, func(cmd *cobra.Command, args []string) error {
		return runMigrationGate(cmd.Context(), g, f, args, cmd.Flags().Changed)
	})
	fl := cmd.Flags()
	f.gateFlags.add(fl)
	f.gateFlags.addCommit(fl)
	fl.StringVar(&f.service, "service", "", "service the migration belongs to (change event, audit log, and the SLOs checked after a destructive migration)")
	fl.StringArrayVar(&f.sloServices, "slo-service", nil, "service whose latency and error SLOs are checked after a destructive migration (repeatable; default --service)")
	fl.StringVar(&f.env, "env", "production", "environment")
	fl.DurationVar(&f.maxDur, "max-duration", 10*time.Second, "time limit")
	fl.DurationVar(&f.destructiveMax, "destructive-max-duration", 60*time.Second, "time limit when the pending files are destructive")
	fl.StringVar(&f.dir, "dir", "", "migrations directory: lint the pending files and record their class")
	fl.StringVar(&f.databaseURL, "database-url", "", "target database: with --dir only files not yet in flyway_schema_history are pending; with --kill-on-timeout its sessions are cancelled")
	fl.StringVar(&f.table, "table", "flyway_schema_history", "history table for --database-url")
	fl.BoolVar(&f.kill, "kill-on-timeout", false, "stop the migration (and, with --database-url, its database work) when it passes the limit")
	fl.StringVar(&f.backupStep, "backup-step", "", "name of the backup step that makes a destructive migration reversible")
	fl.StringVar(&f.backupCmd, "backup-cmd", "", "command (sh -c) that takes the --backup-step backup before the migration; exit 0 is its evidence")
	fl.DurationVar(&f.backupMaxAge, "backup-max-age", 24*time.Hour, "without --backup-cmd: how recent the recorded backup change event must be")
	fl.Float64Var(&f.maxBurn, "max-burn-rate", 10, "after a destructive migration: the highest burn rate of each SLO over the migration's window")
	fl.Float64Var(&f.p95, "p95-latency-ms", 0, "after a destructive migration: the highest p95 latency over the migration's window (default: not checked)")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "how long to wait for tandem")
	return cmd
}

// gateID is a random id for one gate run (PGAPPNAME=tandem-gate-<id>).
func gateID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pendingFiles lints the pending files of --dir (all of them, or with
// --database-url those not yet in the history table).
func pendingFiles(ctx context.Context, f *migrationGateFlags) (migration.Report, error) {
	files, err := migration.ReadDir(f.dir)
	if err != nil {
		return migration.Report{}, err
	}
	if f.databaseURL != "" {
		hist, err := migration.ReadHistory(ctx, f.databaseURL, f.table)
		if err != nil {
			return migration.Report{}, fmt.Errorf("%s (the pending files cannot be told apart)", redactURLs(err.Error(), f.databaseURL))
		}
		v := migration.Validate(files, hist)
		want := map[string]bool{}
		for _, i := range v.Issues {
			if i.Kind == migration.IssuePending || i.Kind == migration.IssueOutOfOrder || i.Kind == migration.IssueRepeatable {
				want[i.Script] = true
			}
		}
		var keep []migration.File
		for _, file := range files {
			if want[baseOf(file.Path)] {
				keep = append(keep, file)
			}
		}
		files = keep
	}
	return migration.Lint(files, migration.Options{}), nil
}

func runMigrationGate(ctx context.Context, g *globals, f *migrationGateFlags, args []string, changed func(string) bool) error {
	if err := f.check(); err != nil {
		return err
	}
	if f.maxDur <= 0 || f.destructiveMax <= 0 {
		return tandem.FieldErrorf("--max-duration", "must be positive")
	}
	if changed("p95-latency-ms") && f.p95 <= 0 {
		return tandem.FieldErrorf("--p95-latency-ms", "must be positive")
	}
	if f.maxBurn < 0 {
		return tandem.FieldErrorf("--max-burn-rate", "must not be negative")
	}
	if f.backupCmd != "" && f.backupStep == "" {
		return tandem.FieldErrorf("--backup-cmd", "name the step with --backup-step")
	}
	app := migration.AppNamePrefix + gateID()
	rep := migrationGateReport{Service: f.service, Command: strings.Join(args, " "), AppName: app, Checks: []client.GateCheck{}}
	o := gateOutcome{Kind: gate.KindMigration, Service: f.service, Title: "migration gate", Out: g.stderr}
	if f.service != "" {
		o.Title += " for " + f.service
	}
	if f.format == "json" {
		o.Out = g.stdout
	}
	closed := func(msg string) error {
		rep.Verdict, rep.Message, o.Verdict, o.Closed = gate.Inconclusive, msg, gate.Inconclusive, true
		o.Lines = []string{msg}
		o.Report = func(code int, warn string) any { rep.ExitCode, rep.Warning = code, warn; return rep }
		return f.finish(ctx, g, o)
	}
	var c *client.Client
	if g.url != "" {
		var err error
		if c, err = g.client(); err != nil {
			return err
		}
	}
	tctx := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, f.timeout) }
	// Every name resolves before anything runs.
	if c != nil && f.service != "" {
		cctx, cancel := tctx()
		_, err := c.Service(cctx, f.service)
		cancel()
		switch {
		case err != nil && refused(err):
			return closed(tandem.ErrorMessage(err))
		case err != nil:
			fmt.Fprintln(g.stderr, "tandem: cannot reach tandem; the migration will not be recorded:", errorText(err))
			c = nil
		}
	}
	if f.dir != "" {
		lint, err := pendingFiles(ctx, f)
		if err != nil {
			return err
		}
		rep.Class, rep.Versions, rep.Destructive = string(lint.Class), versionSpan(lint), lint.DestructiveChanges()
	}
	destructive := len(rep.Destructive) > 0
	sloServices := f.sloServices
	if len(sloServices) == 0 && f.service != "" {
		sloServices = []string{f.service}
	}
	// resolveSLOs resolves the latency and error SLOs of each service; it
	// returns the first refusal, or with strict any error.
	resolveSLOs := func(services []string, strict bool) (string, error) {
		for _, s := range services {
			cctx, cancel := tctx()
			_, err := c.EvaluateSLOGate(cctx, client.SLOGateRequest{Service: s, Environment: f.env, RequestsOnly: true, ResolveOnly: true})
			cancel()
			if err != nil && (strict || refused(err)) {
				return s, err
			}
		}
		return "", nil
	}
	switch {
	case destructive && len(sloServices) == 0:
		return closed("the pending migrations are destructive: name the service whose latency and error SLOs are checked after them with --service or --slo-service")
	case destructive && c == nil && g.url == "":
		return closed("the pending migrations are destructive: their service's SLOs are checked after them, which needs a tandem server (TANDEM_URL or --url)")
	case destructive && c == nil:
		return closed("the pending migrations are destructive and tandem cannot be reached to check their service's SLOs")
	case destructive:
		if s, err := resolveSLOs(sloServices, true); err != nil {
			return closed(fmt.Sprintf("the pending migrations are destructive and the SLOs of %s cannot be checked after them: %s", s, tandem.ErrorMessage(err)))
		}
	case len(f.sloServices) > 0 && c == nil:
		// An explicit --slo-service resolves even when the files are safe.
		return closed("--slo-service needs a tandem server (TANDEM_URL or --url) to resolve " + strings.Join(f.sloServices, ", "))
	case len(f.sloServices) > 0:
		if _, err := resolveSLOs(f.sloServices, false); err != nil {
			return closed(tandem.ErrorMessage(err))
		}
	}
	limit := f.maxDur
	if destructive {
		limit = f.destructiveMax
	}
	rep.Limit = limit.String()
	desc := fmt.Sprintf("limit %s, PGAPPNAME=%s", limit, app)
	if rep.Class != "" {
		desc += ", pending files " + rep.Class
		if destructive && rep.Class != string(migration.Destructive) {
			desc += " with destructive changes"
		}
	}
	fmt.Fprintf(g.stderr, "tandem: running %s (%s)\n", rep.Command, desc)
	// The child's output and the gate's own lines may be written at once;
	// with --format json stdout holds the report alone.
	mu := &sync.Mutex{}
	stdout, stderr := &lockedWriter{mu: mu, w: g.stdout}, &lockedWriter{mu: mu, w: g.stderr}
	if f.format == "json" {
		stdout = stderr
	}
	if destructive {
		ready, msg, err := f.rollbackReady(ctx, g, c, rep.Destructive, stdout, stderr)
		if err != nil {
			return closed(err.Error())
		}
		rep.Checks = append(rep.Checks, ready)
		if ready.Verdict != gate.Pass {
			rep.Verdict, rep.Message = gate.Fail, msg
			return f.endMigration(ctx, g, c, &rep, o, nil)
		}
	}
	var stopped []string
	res := gate.RunCommand(ctx, gate.RunOptions{
		Command: args, MaxDuration: limit, KillOnTimeout: f.kill, Stdout: stdout, Stderr: stderr,
		Env: []string{"PGAPPNAME=" + app},
		OnExceeded: func() {
			what := "still running"
			if f.kill {
				what = "stopping it (--kill-on-timeout)"
			}
			fmt.Fprintf(stderr, "tandem: migration passed its %s limit; %s\n", limit, what)
		},
		OnStop: func() {
			if f.databaseURL == "" {
				return
			}
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			s, err := migration.StopBackends(sctx, f.databaseURL, app, 2*time.Second)
			if err != nil {
				stopped = append(stopped, "cannot stop its database sessions: "+redactURLs(err.Error(), f.databaseURL))
				return
			}
			stopped = append(stopped, fmt.Sprintf("database sessions of %s: %d query cancelled, %d session ended", app, s.Cancelled, s.Terminated))
		},
	})
	for _, s := range stopped {
		fmt.Fprintln(stderr, "tandem: "+s)
	}
	rep.Ran, rep.Run = res.StartError == "", &res
	o.Remedy = rep.Ran
	dur := client.GateCheck{Name: "duration_s", Value: gate.Measured(res.Duration.Seconds()), Op: "<=", Threshold: limit.Seconds(), Unit: "s",
		Verdict: gate.Pass, From: res.StartedAt, To: res.FinishedAt}
	if res.Exceeded {
		dur.Verdict = gate.Fail
	}
	exit := client.GateCheck{Name: "exit_code", Value: gate.Measured(float64(res.ExitCode)), Op: "==", Threshold: 0, Verdict: gate.Pass}
	switch {
	case res.StartError != "":
		rep.Message = "cannot run the migration: " + res.StartError
		exit.Value, exit.Verdict, exit.Detail = nil, gate.Fail, rep.Message
	case res.Exceeded:
		rep.Message = gate.ExceededMessage(res.Duration, limit)
	case res.ExitCode != 0:
		rep.Message = fmt.Sprintf("migration command failed with exit code %d", res.ExitCode)
	}
	if res.Killed {
		exit.Value, exit.Detail = nil, "stopped by the gate"
	}
	if !res.Succeeded() {
		exit.Verdict = gate.Fail
	}
	if res.Exceeded && res.ExitCode != 0 && !res.Killed {
		rep.Message += fmt.Sprintf("; the command also failed with exit code %d", res.ExitCode)
	}
	rep.Checks = append(rep.Checks, dur, exit)
	if destructive && rep.Ran {
		rep.Checks = append(rep.Checks, f.slosAfter(ctx, c, sloServices, res)...)
	}
	rep.Verdict = gate.Combine(gateChecks(rep.Checks))
	if rep.Verdict != gate.Pass && rep.Message == "" {
		for _, ch := range rep.Checks {
			if ch.Verdict == rep.Verdict {
				rep.Message = fmt.Sprintf("%s: %s after the migration", ch.Name, strings.ToLower(ch.Verdict))
				if ch.Detail != "" {
					rep.Message += " (" + ch.Detail + ")"
				}
				break
			}
		}
	}
	return f.endMigration(ctx, g, c, &rep, o, &res)
}

// rollbackReady checks that destructive changes can be undone: each has
// an undo script, or the named backup step succeeded (its command exited
// 0, or tandem holds a successful backup change event of the service with
// that version, recent enough). An error means readiness cannot be known.
func (f *migrationGateFlags) rollbackReady(ctx context.Context, g *globals, c *client.Client, changes []migration.Change, stdout, stderr io.Writer) (client.GateCheck, string, error) {
	check := client.GateCheck{Name: "rollback_ready", Op: "==", Threshold: 1}
	var without []string
	seen := map[string]bool{}
	for _, ch := range changes {
		if ch.Undo == "" && !seen[ch.File] {
			seen[ch.File] = true
			without = append(without, fmt.Sprintf("%s (%s)", ch.File, ch.Rule))
		}
	}
	if len(without) == 0 {
		check.Value, check.Verdict, check.Detail = gate.Measured(1), gate.Pass, "every destructive migration has an undo script"
		return check, "", nil
	}
	fail := func(msg string) (client.GateCheck, string, error) {
		check.Value, check.Verdict, check.Detail = gate.Measured(0), gate.Fail, msg
		return check, "destructive migration without a way back: " + msg, nil
	}
	list := strings.Join(without, ", ")
	switch {
	case f.backupStep == "":
		return fail(list + " has no undo script (U<version>__….sql) and no --backup-step names a backup")
	case f.backupCmd != "":
		fmt.Fprintf(stderr, "tandem: backup step %s: %s\n", f.backupStep, f.backupCmd)
		r := gate.RunCommand(ctx, gate.RunOptions{Command: []string{"sh", "-c", f.backupCmd}, Stdout: stdout, Stderr: stderr})
		if c != nil && f.service != "" {
			status, reason := change.StatusSuccess, ""
			if !r.Succeeded() {
				status, reason = change.StatusFailed, fmt.Sprintf("backup command exited %d", r.ExitCode)
			}
			if _, err := c.RecordChange(ctx, client.ChangeEvent{Service: f.service, Environment: f.env, Kind: change.KindBackup, Version: f.backupStep,
				StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Status: status, FailureReason: reason,
				Actor: os.Getenv("USER"), Source: sourceCLI}); err != nil {
				fmt.Fprintln(g.stderr, "tandem: backup change event not recorded:", errorText(err))
			}
		}
		if !r.Succeeded() {
			if r.StartError != "" {
				return fail(fmt.Sprintf("backup step %s could not run: %s", f.backupStep, r.StartError))
			}
			return fail(fmt.Sprintf("backup step %s failed with exit code %d", f.backupStep, r.ExitCode))
		}
		check.Value, check.Verdict = gate.Measured(1), gate.Pass
		check.Detail = fmt.Sprintf("backup step %s exited 0 (covers %s)", f.backupStep, list)
		return check, "", nil
	case c == nil || f.service == "":
		return client.GateCheck{}, "", fmt.Errorf("the pending migrations are destructive: finding backup step %s needs a tandem server and --service", f.backupStep)
	}
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	since := time.Now().Add(-f.backupMaxAge)
	evs, err := c.Changes(cctx, client.ChangeQuery{Services: []string{f.service}, Kinds: []string{change.KindBackup},
		Statuses: []string{change.StatusSuccess}, Environment: f.env, Since: since, Limit: 1000})
	if err != nil {
		return client.GateCheck{}, "", fmt.Errorf("the pending migrations are destructive and backup step %s cannot be looked up: %s", f.backupStep, tandem.ErrorMessage(err))
	}
	for _, e := range evs {
		if e.Version == f.backupStep {
			check.Value, check.Verdict = gate.Measured(1), gate.Pass
			check.Detail = fmt.Sprintf("backup %s of %s succeeded at %s (change %d; covers %s)", f.backupStep, f.service,
				e.At().UTC().Format(time.RFC3339), e.ID, list)
			return check, "", nil
		}
	}
	return fail(fmt.Sprintf("%s has no undo script and no successful backup change event %s of %s in %s since %s",
		list, f.backupStep, f.service, f.env, since.UTC().Format(time.RFC3339)))
}

// slosAfter runs the SLO gate of each service over the migration's window:
// each SLO's burn rate (latency SLOs count slow requests as bad) and, with
// --p95-latency-ms, its p95. The window starts at the migration's first
// whole minute (native SLI data has minute resolution) and is at least a
// minute long, so that Prometheus has samples in it.
func (f *migrationGateFlags) slosAfter(ctx context.Context, c *client.Client, services []string, res gate.RunResult) []client.GateCheck {
	from, to := res.StartedAt.Truncate(time.Minute), res.FinishedAt
	if to.Sub(from) < time.Minute {
		from = to.Add(-time.Minute)
	}
	req := client.SLOGateRequest{Environment: f.env, RequestsOnly: true, From: from, To: to, MaxBurnRate: &f.maxBurn}
	if f.p95 > 0 {
		req.P95LatencyMs = &f.p95
	}
	var out []client.GateCheck
	for _, s := range services {
		req.Service = s
		cctx, cancel := context.WithTimeout(ctx, f.timeout)
		ev, err := c.EvaluateSLOGate(cctx, req)
		cancel()
		if err != nil {
			out = append(out, client.GateCheck{Name: "slos " + s, Op: ">=", Threshold: 1, Verdict: gate.Inconclusive,
				Window: "migration", From: from, To: to, Detail: "cannot read the SLOs after the migration: " + errorText(err)})
			continue
		}
		out = append(out, ev.Checks...)
	}
	return out
}

// endMigration records the migration change event (when it ran) and the
// gate result, then finishes the run.
func (f *migrationGateFlags) endMigration(ctx context.Context, g *globals, c *client.Client, rep *migrationGateReport, o gateOutcome, res *gate.RunResult) error {
	if c != nil && f.service != "" {
		cctx, cancel := context.WithTimeout(ctx, f.timeout)
		defer cancel()
		var changeID int64
		if res != nil {
			status, reason := change.StatusSuccess, ""
			if !res.Succeeded() {
				status, reason = change.StatusFailed, rep.Message
			}
			labels := []string{}
			if rep.Class != "" {
				labels = append(labels, "lint:"+rep.Class)
			}
			if len(rep.Destructive) > 0 {
				labels = append(labels, "destructive")
			}
			if res.Exceeded {
				labels = append(labels, "exceeded-threshold")
			}
			ev, err := c.RecordChange(cctx, client.ChangeEvent{Service: f.service, Environment: f.env, Kind: change.KindMigration,
				Version: rep.Versions, StartedAt: res.StartedAt, FinishedAt: res.FinishedAt, Status: status,
				FailureReason: reason, Actor: os.Getenv("USER"), Source: sourceCLI, Labels: labels})
			if err != nil {
				fmt.Fprintln(g.stderr, "tandem: migration change event not recorded:", errorText(err))
			}
			changeID = ev.ID
		}
		rep.ChangeID = changeID
		r := client.GateResult{Kind: gate.KindMigration, Service: f.service, Target: rep.Command, Verdict: rep.Verdict, Message: rep.Message,
			Checks: rep.Checks, ChangeID: changeID, Source: ciSource(), Commit: f.commit, FailOpen: f.failOpen}
		if res != nil {
			r.DurationMs = res.Duration.Milliseconds()
		}
		if out, err := c.RecordGate(cctx, r); err != nil {
			fmt.Fprintln(g.stderr, "tandem: gate result not recorded:", errorText(err))
		} else {
			rep.ResultID = out.ID
		}
	}
	o.Verdict, o.ResultID = rep.Verdict, rep.ResultID
	o.Lines = checkLines(rep.Checks)
	if rep.Message != "" {
		o.Lines = append(o.Lines, rep.Message)
	}
	o.Report = func(code int, warn string) any {
		rep.ExitCode, rep.Warning = code, warn
		return rep
	}
	return f.finish(ctx, g, o)
}

// versionSpan names the versioned migrations of a lint ("3..7"), for the
// change event.
func versionSpan(lint migration.Report) string {
	var vs []string
	for _, fr := range lint.Files {
		if fr.Name.Kind == migration.Versioned {
			vs = append(vs, fr.Name.Version)
		}
	}
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return vs[0] + ".." + vs[len(vs)-1]
}

// lockedWriter serialises writes of several goroutines to one writer.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func baseOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// ---- tandem gate log ----

func newGateLogCmd(g *globals) *cobra.Command {
	var service, kind, verdict, since, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the gate audit log (newest first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			q := client.GateQuery{Service: service, Kind: kind, Verdict: verdict, Limit: limit}
			if since != "" {
				if q.Since, err = tandem.ParseTime(since, time.Now()); err != nil {
					return tandem.FieldErrorf("--since", "%v", err)
				}
			}
			rs, err := c.Gates(cmd.Context(), q)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, rs)
			}
			var b strings.Builder
			for _, r := range rs {
				fmt.Fprintf(&b, "%s  #%d  %-9s %-12s %-14s %s\n", r.CreatedAt.Format(time.RFC3339), r.ID, r.Kind,
					strings.ToUpper(r.Verdict), orDashCLI(r.Service), r.Message)
			}
			_, err = io.WriteString(g.stdout, b.String())
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&service, "service", "", "only this service")
	fl.StringVar(&kind, "kind", "", "slo, migration or verify")
	fl.StringVar(&verdict, "verdict", "", "pass, fail or inconclusive")
	fl.StringVar(&since, "since", "", "only results since (RFC 3339 or a duration ago, e.g. 7d)")
	fl.IntVar(&limit, "limit", 50, "at most this many")
	fl.StringVar(&format, "format", "text", "text or json")
	return cmd
}

func orDashCLI(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ---- tandem migrate lint / validate ----

func newMigrateLintCmd(g *globals) *cobra.Command {
	var format string
	var allow []string
	cmd := &cobra.Command{
		Use:   "lint DIR",
		Short: "Classify Flyway-style migrations as safe, risky or destructive (exit 1 on errors)",
		Long: `Parses every statement with the PostgreSQL parser and applies the rules of
docs/migrations.md. Risky findings warn; destructive ones fail unless the
migration has an undo script (U<version>__…) or the file says
"-- tandem:allow <rule> <reason>", or --allow names the rule.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range allow {
				if _, ok := migration.RuleByID(id); !ok {
					return tandem.FieldErrorf("--allow", "unknown rule %q (see docs/migrations.md)", id)
				}
			}
			rep, err := migration.LintDir(args[0], migration.Options{Allow: allow})
			if err != nil {
				return err
			}
			switch format {
			case "text":
				err = migration.WriteText(g.stdout, rep, args[0])
			case "json":
				err = migration.WriteJSON(g.stdout, rep)
			case "sarif":
				err = migration.WriteSARIF(g.stdout, rep, args[0], Version)
			default:
				return tandem.FieldErrorf("--format", "want text, json or sarif, got %q", format)
			}
			if err != nil {
				return err
			}
			if !rep.Passed() {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text, json or sarif")
	cmd.Flags().StringArrayVar(&allow, "allow", nil, "accept this rule's findings everywhere (repeatable)")
	return cmd
}

func newMigrateValidateCmd(g *globals) *cobra.Command {
	var databaseURL, table, format string
	cmd := &cobra.Command{
		Use:   "validate DIR --database-url URL",
		Short: "Compare migration files with flyway_schema_history (exit 1 invalid, 2 database unreadable)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if databaseURL == "" {
				return tandem.FieldErrorf("--database-url", "required")
			}
			if format != "text" && format != "json" {
				return tandem.FieldErrorf("--format", "want text or json, got %q", format)
			}
			files, err := migration.ReadDir(args[0])
			if err != nil {
				return err
			}
			hist, err := migration.ReadHistory(cmd.Context(), databaseURL, table)
			if err != nil {
				fmt.Fprintln(g.stderr, "error:", redactURLs(err.Error(), databaseURL))
				return &ExitError{Code: 2}
			}
			v := migration.Validate(files, hist)
			if format == "json" {
				out := struct {
					Passed bool `json:"passed"`
					migration.Validation
				}{v.Passed(), v}
				if err := writeJSON(g.stdout, out); err != nil {
					return err
				}
			} else {
				var b strings.Builder
				for _, i := range v.Issues {
					sev := "info"
					if i.Fails {
						sev = "error"
					}
					fmt.Fprintf(&b, "%-5s %-20s %s\n", sev, i.Kind, i.Message)
				}
				verdict := "VALID"
				if !v.Passed() {
					verdict = "INVALID"
				}
				fmt.Fprintf(&b, "%d applied, %d pending: %s\n", v.Applied, v.Pending, verdict)
				if _, err := io.WriteString(g.stdout, b.String()); err != nil {
					return err
				}
			}
			if !v.Passed() {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "postgres:// URL of the target database")
	cmd.Flags().StringVar(&table, "table", "flyway_schema_history", "history table ([schema.]name)")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

// redactURLs hides a database URL's password in a message.
func redactURLs(msg, url string) string {
	if at := strings.LastIndexByte(url, '@'); at > 0 {
		if s := strings.Index(url, "://"); s >= 0 && s < at {
			if c := strings.IndexByte(url[s+3:at], ':'); c >= 0 {
				return strings.ReplaceAll(msg, url[s+3+c+1:at], "xxxxx")
			}
		}
	}
	return msg
}

// ---- tandem verify deploy ----

// verifyReport is the JSON form of a verification: the server's answer
// with the exit code.
type verifyReport struct {
	client.Verification
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message,omitempty"`
	Warning  string `json:"warning,omitempty"`
}

func newVerifyDeployCmd(g *globals) *cobra.Command {
	var f gateFlags
	var service, window, baseline string
	var deploy int64
	var noWait bool
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Compare the SLIs after a deploy with the baseline before it (exit 0 pass, 1 regression, 2 could not evaluate)",
		Long: `Asks tandem to compare the window after a deploy with the baseline before it:
error ratio (two-proportion test), latency (Mann-Whitney rank test on the
latency histograms) and burn rate. A regression marks the deploy failed (so
change failure rate counts it), records why and raises the alert "SLO
violation after deployment"; --on-fail then runs a command (a rollback). Too
little traffic is "inconclusive", never a pass. Unless --no-wait, the command
waits for the window to pass. An unknown service or deploy is exit 2 whatever
--fail-open says; docs/gates.md has the table of every case.`,
		Args: cobra.NoArgs,
	}
	gateCommand(g, cmd, func(cmd *cobra.Command, args []string) error {
		return runVerify(cmd.Context(), g, &f, service, deploy, window, baseline, noWait)
	})
	fl := cmd.Flags()
	f.add(fl)
	fl.StringVar(&service, "service", "", "service (its latest deploy unless --deploy)")
	fl.Int64Var(&deploy, "deploy", 0, "change event id of the deploy")
	fl.StringVar(&window, "window", "", "window after the deploy (server default 15m)")
	fl.StringVar(&baseline, "baseline", "", "baseline before the deploy (server default 1h)")
	fl.BoolVar(&noWait, "no-wait", false, "answer at once, even before the window is over")
	return cmd
}

// runVerify verifies a change (id) or the latest deploy of service, and
// ends the gate run with its verdict.
func runVerify(ctx context.Context, g *globals, f *gateFlags, service string, deploy int64, window, baseline string, noWait bool) error {
	if err := f.check(); err != nil {
		return err
	}
	if service == "" && deploy == 0 {
		return tandem.FieldErrorf("--service", "required (or --deploy)")
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	o := gateOutcome{Kind: gate.KindVerify, Service: service, Remedy: true, Title: "verification of " + service}
	if deploy > 0 {
		o.Title = fmt.Sprintf("verification of deploy %d", deploy)
	}
	rep := verifyReport{}
	req := client.VerifyRequest{Service: service, DeployID: deploy, Window: window, Baseline: baseline}
	for {
		rep.Verification, err = c.VerifyDeploy(ctx, req)
		if err != nil {
			break
		}
		req.DeployID = rep.Deploy.ID
		if rep.Complete || rep.Verdict == gate.Fail || noWait {
			break
		}
		wait := rep.ReadyAt.Sub(rep.To) + time.Second
		fmt.Fprintf(g.stderr, "tandem: %s so far; waiting %s for the window to end\n", rep.Verdict, wait.Round(time.Second))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	switch {
	case err != nil && refused(err):
		rep.Verdict, rep.Message, o.Closed = gate.Inconclusive, tandem.ErrorMessage(err), true
		o.Lines = []string{rep.Message}
	case err != nil:
		rep.Verdict, rep.Message = gate.Inconclusive, "cannot verify: "+errorText(err)
		o.Lines = []string{rep.Message}
	default:
		v := rep.Verification
		o.Service, o.ResultID = v.Deploy.Service, v.ResultID
		o.Title = fmt.Sprintf("%s %d of %s (%s)", v.Deploy.Kind, v.Deploy.ID, v.Deploy.Service, orDashCLI(v.Deploy.Version))
		o.Lines = append([]string{fmt.Sprintf("window %s after the %s (%s to %s), baseline %s before it (from %s)",
			v.Window, v.Deploy.Kind, v.From.UTC().Format(time.RFC3339), v.To.UTC().Format(time.RFC3339), v.Baseline, v.BaselineFrom.UTC().Format(time.RFC3339))},
			checkLines(v.Checks)...)
		if !v.Complete {
			o.Title += " (window not over)"
		}
		if v.MarkedFailed {
			o.Lines = append(o.Lines, "the "+v.Deploy.Kind+" is marked failed: "+v.Reason)
		}
	}
	o.Verdict = rep.Verdict
	o.Report = func(code int, warn string) any {
		rep.ExitCode, rep.Warning = code, warn
		return rep
	}
	return f.finish(ctx, g, o)
}

// newVerifyChangeCmd verifies a change of any kind but a backup: the same
// statistics as verify deploy, in the change's environment.
func newVerifyChangeCmd(g *globals) *cobra.Command {
	var f gateFlags
	var window, baseline string
	var noWait bool
	cmd := &cobra.Command{
		Use:   "change ID",
		Short: "Compare the SLIs after a change (deploy, rollback, config, flag, migration, chaos) with the baseline before it",
		Long: `Verifies one change event, whatever its kind but backup: the window after it
against the baseline before it, with the SLOs of the change's service in the
change's environment: error ratio (two-proportion test), latency (Mann-Whitney
rank test) and burn rate. A regression marks the change failed; a failed
config change or flag flip counts in change failure rate (docs/dora.md).
Exit 0 pass, 1 regression, 2 could not evaluate, as verify deploy.`,
		Args: cobra.ExactArgs(1),
	}
	gateCommand(g, cmd, func(cmd *cobra.Command, args []string) error {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return tandem.FieldErrorf("ID", "want a change event id, got %q", args[0])
		}
		return runVerify(cmd.Context(), g, &f, "", id, window, baseline, noWait)
	})
	fl := cmd.Flags()
	f.add(fl)
	fl.StringVar(&window, "window", "", "window after the change (server default 15m)")
	fl.StringVar(&baseline, "baseline", "", "baseline before the change (server default 1h)")
	fl.BoolVar(&noWait, "no-wait", false, "answer at once, even before the window is over")
	return cmd
}
