package cli

import (
	"context"
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

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/migration"
	"github.com/tandemhq/tandem/internal/slo"
)

// gateCommands are the commands for CI/CD gates, post-deploy verification
// and migration checks: gate (slo, migration, log), migrate (lint,
// validate) and verify (deploy).
func gateCommands(g *globals) []*cobra.Command {
	gateCmd := &cobra.Command{Use: "gate", Short: "Stop a pipeline on SLOs, release freezes and slow migrations"}
	gateCmd.AddCommand(newGateSLOCmd(g), newGateMigrationCmd(g), newGateLogCmd(g))
	migrate := &cobra.Command{Use: "migrate", Short: "Lint and validate Flyway-style SQL migrations"}
	migrate.AddCommand(newMigrateLintCmd(g), newMigrateValidateCmd(g))
	verify := &cobra.Command{Use: "verify", Short: "Verify a deploy against the SLIs before it"}
	verify.AddCommand(newVerifyDeployCmd(g))
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

// ---- tandem gate slo ----

type sloGateFlags struct {
	service, burnWindow, onFail, format, budget string
	slos                                        []string
	p95, burn                                   float64
	respectFreeze, failOpen, failClosed         bool
	prometheus, query, op                       string
	threshold                                   float64
	timeout                                     time.Duration
}

// sloGateReport is the JSON form of an SLO gate run.
type sloGateReport struct {
	Service  string       `json:"service"`
	Verdict  string       `json:"verdict"`
	ExitCode int          `json:"exit_code"`
	Message  string       `json:"message,omitempty"`
	Checks   []gate.Check `json:"checks"`
	ResultID int64        `json:"result_id,omitempty"`
}

func newGateSLOCmd(g *globals) *cobra.Command {
	f := &sloGateFlags{}
	cmd := &cobra.Command{
		Use:   "slo",
		Short: "Pass or fail a pipeline on a service's SLOs (exit 0 pass, 1 fail, 2 could not evaluate)",
		Long: `Checks a service's SLOs against thresholds: error budget left, burn rate,
p95 latency and release freeze, read from tandem, or one PromQL value read
straight from Prometheus (--prometheus, --query, --threshold) for pipelines
without a tandem server.

Exit codes: 0 pass, 1 fail, 2 could not evaluate (tandem or Prometheus
unreachable, no data). --fail-closed (the default) keeps 2 as a failing exit;
--fail-open turns it into a pass with a warning. On a fail, --on-fail runs a
command (a rollback) with its output streamed, and the result is recorded in
tandem's gate audit log when a server is configured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := runSLOGate(cmd.Context(), g, f, cmd.Flags().Changed("min-budget-remaining"), cmd.Flags().Changed("max-burn-rate"), cmd.Flags().Changed("p95-latency-ms"))
			if err != nil {
				return err
			}
			if code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.service, "service", "", "service whose SLOs are checked (required with a tandem server)")
	fl.StringArrayVar(&f.slos, "slo", nil, "check only this SLO (repeatable; default every SLO of the service)")
	fl.Float64Var(&f.p95, "p95-latency-ms", 0, "fail when an SLO's p95 latency is above this")
	fl.StringVar(&f.budget, "min-budget-remaining", "", "fail when less error budget is left, e.g. 10% or 0.1")
	fl.Float64Var(&f.burn, "max-burn-rate", 0, "fail when the burn rate over --burn-window is above this")
	fl.StringVar(&f.burnWindow, "burn-window", "1h", "burn-rate window: 5m, 30m, 1h, 2h, 6h, 1d or 3d")
	fl.BoolVar(&f.respectFreeze, "respect-freeze", false, "fail while the service is in release freeze")
	fl.StringVar(&f.onFail, "on-fail", "", "command run (with sh -c) when the gate fails, e.g. a rollback")
	fl.BoolVar(&f.failOpen, "fail-open", false, "pass (with a warning) when the gate cannot evaluate")
	fl.BoolVar(&f.failClosed, "fail-closed", false, "fail (exit 2) when the gate cannot evaluate (the default)")
	fl.StringVar(&f.format, "format", "text", "output: text or json")
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

func runSLOGate(ctx context.Context, g *globals, f *sloGateFlags, budgetSet, burnSet, p95Set bool) (int, error) {
	if f.failOpen && f.failClosed {
		return 0, tandem.FieldErrorf("--fail-open", "give --fail-open or --fail-closed, not both")
	}
	if f.format != "text" && f.format != "json" {
		return 0, tandem.FieldErrorf("--format", "want text or json, got %q", f.format)
	}
	var checks []gate.Check
	message := ""
	var c *client.Client
	if g.url != "" {
		var err error
		if c, err = g.client(); err != nil {
			return 0, err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	switch {
	case f.prometheus != "":
		if f.query == "" {
			return 0, tandem.FieldErrorf("--query", "required with --prometheus")
		}
		if f.op != "<=" && f.op != "<" && f.op != ">=" && f.op != ">" {
			return 0, tandem.FieldErrorf("--op", "want <=, <, >= or >, got %q", f.op)
		}
		checks = promChecks(cctx, f)
	default:
		if f.service == "" {
			return 0, tandem.FieldErrorf("--service", "required (or use --prometheus and --query)")
		}
		if c == nil {
			return 0, tandem.Errorf(tandem.EInvalid, "no tandem server: set TANDEM_URL or --url, or evaluate a PromQL query with --prometheus")
		}
		t := gate.SLOThresholds{BurnWindow: f.burnWindow, RespectFreeze: f.respectFreeze}
		if budgetSet {
			v, err := parseRatio(f.budget)
			if err != nil {
				return 0, tandem.FieldErrorf("--min-budget-remaining", "%v", err)
			}
			t.MinBudgetRemaining = &v
		}
		if burnSet {
			t.MaxBurnRate = &f.burn
		}
		if p95Set {
			t.P95LatencyMs = &f.p95
		}
		if !t.Any() {
			zero := 0.0
			t.MinBudgetRemaining = &zero
		}
		statuses, err := c.SLOs(cctx, f.service)
		if err != nil {
			checks = []gate.Check{{Name: "tandem " + f.service, Op: "==", Verdict: gate.Inconclusive, Detail: "cannot read SLOs: " + errorText(err)}}
			break
		}
		if len(f.slos) > 0 {
			want := map[string]bool{}
			for _, n := range f.slos {
				want[n] = true
			}
			var keep []slo.Status
			for _, st := range statuses {
				if want[st.Name] {
					keep = append(keep, st)
					delete(want, st.Name)
				}
			}
			for n := range want {
				message = "no SLO " + n + " on service " + f.service
			}
			statuses = keep
		}
		checks = gate.EvaluateSLO(f.service, statuses, t)
	}
	verdict := gate.Combine(checks)
	code := map[string]int{gate.Pass: 0, gate.Fail: 1, gate.Inconclusive: 2}[verdict]
	warn := ""
	if verdict == gate.Inconclusive && f.failOpen {
		code, warn = 0, "WARNING: the gate could not evaluate; passing because of --fail-open"
	}
	rep := sloGateReport{Service: f.service, Verdict: verdict, ExitCode: code, Message: message, Checks: checks}
	if c != nil {
		target := strings.Join(f.slos, ",")
		if f.prometheus != "" {
			target = f.query
		}
		res, err := c.RecordGate(cctx, gate.Result{Kind: gate.KindSLO, Service: f.service, Target: target, Verdict: verdict,
			Message: strings.TrimSpace(message + " " + warn), Checks: checks, Source: ciSource()})
		if err != nil {
			fmt.Fprintln(g.stderr, "tandem: gate result not recorded:", errorText(err))
		} else {
			rep.ResultID = res.ID
		}
	}
	if f.format == "json" {
		if err := writeJSON(g.stdout, rep); err != nil {
			return 0, err
		}
	} else {
		var b strings.Builder
		for _, ch := range checks {
			b.WriteString(gate.FormatCheck(ch) + "\n")
		}
		if message != "" {
			b.WriteString(message + "\n")
		}
		if warn != "" {
			b.WriteString(warn + "\n")
		}
		fmt.Fprintf(&b, "SLO gate %s: %s (exit %d)\n", orService(f.service), strings.ToUpper(verdict), code)
		if _, err := io.WriteString(g.stdout, b.String()); err != nil {
			return 0, err
		}
	}
	if verdict == gate.Fail && f.onFail != "" {
		fmt.Fprintf(g.stderr, "tandem: gate failed; running --on-fail: %s\n", f.onFail)
		sh := exec.CommandContext(ctx, "sh", "-c", f.onFail)
		sh.Stdout, sh.Stderr = g.stdout, g.stderr
		if err := sh.Run(); err != nil {
			fmt.Fprintln(g.stderr, "tandem: --on-fail command failed:", err)
		}
	}
	return code, nil
}

func orService(s string) string {
	if s == "" {
		return "(prometheus)"
	}
	return "for " + s
}

// promChecks evaluates the PromQL query: one check per series (or the
// scalar), inconclusive when Prometheus fails or returns nothing.
func promChecks(ctx context.Context, f *sloGateFlags) []gate.Check {
	bad := func(detail string) []gate.Check {
		return []gate.Check{{Name: "prometheus " + f.query, Op: f.op, Threshold: f.threshold, Verdict: gate.Inconclusive, Detail: detail}}
	}
	pc, err := api.NewClient(api.Config{Address: f.prometheus})
	if err != nil {
		return bad("bad Prometheus URL: " + err.Error())
	}
	val, _, _, err := promv1.NewAPI(pc).Query(ctx, f.query, time.Now())
	if err != nil {
		return bad("query failed: " + err.Error())
	}
	check := func(name string, v float64) gate.Check {
		c := gate.Check{Name: name, Value: v, Op: f.op, Threshold: f.threshold, Verdict: gate.Pass}
		if v != v { // NaN
			c.Value, c.Verdict, c.Detail = 0, gate.Inconclusive, "the query returned NaN"
		} else if !gate.Holds(v, f.op, f.threshold) {
			c.Verdict = gate.Fail
		}
		return c
	}
	var out []gate.Check
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
		return bad(fmt.Sprintf("the query returned a %s; want an instant vector or a scalar", val.Type()))
	}
	if len(out) == 0 {
		return bad("the query returned no data")
	}
	return out
}

// ---- tandem gate migration ----

type migrationGateFlags struct {
	service, env, dir, databaseURL, table string
	maxDur, destructiveMax                time.Duration
	kill                                  bool
}

func newGateMigrationCmd(g *globals) *cobra.Command {
	f := &migrationGateFlags{}
	cmd := &cobra.Command{
		Use:   "migration [flags] -- COMMAND [ARGS…]",
		Short: "Run a migration tool, measure it, and fail the pipeline when it is too slow",
		Long: `Runs any migration tool (flyway, liquibase, goose, migrate, psql) as a
child process with its output streamed, measures it, and records a migration
change event (duration, outcome, lint class of the pending files) when a
tandem server is configured.

Past --max-duration (--destructive-max-duration when the pending files lint
as destructive) the gate exits 1 with "Migration exceeded latency threshold
(N s > T s)". --kill-on-timeout also stops the child; without it the child
runs to its end.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMigrationGate(cmd.Context(), g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.service, "service", "", "service the migration belongs to (for the change event)")
	fl.StringVar(&f.env, "env", "production", "environment")
	fl.DurationVar(&f.maxDur, "max-duration", 10*time.Second, "time limit")
	fl.DurationVar(&f.destructiveMax, "destructive-max-duration", 60*time.Second, "time limit when the pending files are destructive")
	fl.StringVar(&f.dir, "dir", "", "migrations directory: lint the pending files and record their class")
	fl.StringVar(&f.databaseURL, "database-url", "", "with --dir: only files not yet in flyway_schema_history are pending")
	fl.StringVar(&f.table, "table", "flyway_schema_history", "history table for --database-url")
	fl.BoolVar(&f.kill, "kill-on-timeout", false, "stop the migration when it passes the limit")
	return cmd
}

func runMigrationGate(ctx context.Context, g *globals, f *migrationGateFlags, args []string) error {
	if f.maxDur <= 0 || f.destructiveMax <= 0 {
		return tandem.FieldErrorf("--max-duration", "must be positive")
	}
	class := ""
	var pending []string
	if f.dir != "" {
		files, err := migration.ReadDir(f.dir)
		if err != nil {
			return err
		}
		if f.databaseURL != "" {
			hist, err := migration.ReadHistory(ctx, f.databaseURL, f.table)
			if err != nil {
				return err
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
		rep := migration.Lint(files, migration.Options{})
		class = string(rep.Class)
		for _, fr := range rep.Files {
			if fr.Name.Version != "" {
				pending = append(pending, fr.Name.Version)
			}
		}
	}
	limit := f.maxDur
	if class == string(migration.Destructive) {
		limit = f.destructiveMax
	}
	var c *client.Client
	if g.url != "" && f.service != "" {
		var err error
		if c, err = g.client(); err != nil {
			return err
		}
	}
	desc := fmt.Sprintf("limit %s", limit)
	if class != "" {
		desc += ", pending files " + class
	}
	fmt.Fprintf(g.stderr, "tandem: running %s (%s)\n", strings.Join(args, " "), desc)
	// The child's output and the gate's own line may be written at once.
	mu := &sync.Mutex{}
	stdout, stderr := &lockedWriter{mu: mu, w: g.stdout}, &lockedWriter{mu: mu, w: g.stderr}
	res := gate.RunCommand(ctx, gate.RunOptions{
		Command: args, MaxDuration: limit, KillOnTimeout: f.kill, Stdout: stdout, Stderr: stderr,
		OnExceeded: func() {
			what := "still running"
			if f.kill {
				what = "stopping it (--kill-on-timeout)"
			}
			fmt.Fprintf(stderr, "tandem: migration passed its %s limit; %s\n", limit, what)
		},
	})
	verdict := gate.Pass
	var msg string
	switch {
	case res.StartError != "":
		verdict, msg = gate.Fail, "cannot run the migration: "+res.StartError
	case res.Exceeded:
		verdict, msg = gate.Fail, gate.ExceededMessage(res.Duration, limit)
	case res.ExitCode != 0:
		verdict, msg = gate.Fail, fmt.Sprintf("migration command failed with exit code %d", res.ExitCode)
	}
	if res.Exceeded && res.ExitCode != 0 && !res.Killed {
		msg += fmt.Sprintf("; the command also failed with exit code %d", res.ExitCode)
	}
	if c != nil {
		status, reason := change.StatusSuccess, ""
		if !res.Succeeded() {
			status, reason = change.StatusFailed, msg
		}
		labels := []string{}
		if class != "" {
			labels = append(labels, "lint:"+class)
		}
		if res.Exceeded {
			labels = append(labels, "exceeded-threshold")
		}
		version := ""
		if len(pending) > 0 {
			version = pending[0]
			if len(pending) > 1 {
				version += ".." + pending[len(pending)-1]
			}
		}
		ev, err := c.RecordChange(ctx, change.Event{Service: f.service, Environment: f.env, Kind: change.KindMigration,
			Version: version, StartedAt: res.StartedAt, FinishedAt: res.FinishedAt, Status: status, FailureReason: reason,
			Actor: os.Getenv("USER"), Source: sourceCLI, Labels: labels})
		if err != nil {
			fmt.Fprintln(g.stderr, "tandem: migration change event not recorded:", errorText(err))
		}
		check := gate.Check{Name: "duration_s " + f.service, Value: res.Duration.Seconds(), Op: "<=", Threshold: limit.Seconds(), Unit: "s", Verdict: gate.Pass}
		if res.Exceeded {
			check.Verdict = gate.Fail
		}
		exit := gate.Check{Name: "exit_code", Value: float64(res.ExitCode), Op: "==", Threshold: 0, Verdict: gate.Pass}
		if !res.Succeeded() {
			exit.Verdict = gate.Fail
		}
		if _, err := c.RecordGate(ctx, gate.Result{Kind: gate.KindMigration, Service: f.service, Target: strings.Join(args, " "),
			Verdict: verdict, Message: msg, Checks: []gate.Check{check, exit}, ChangeID: ev.ID, DurationMs: res.Duration.Milliseconds(),
			Source: ciSource()}); err != nil {
			fmt.Fprintln(g.stderr, "tandem: gate result not recorded:", errorText(err))
		}
	}
	if verdict == gate.Fail {
		fmt.Fprintln(g.stderr, msg)
		return &ExitError{Code: 1}
	}
	fmt.Fprintf(g.stderr, "tandem: migration finished in %.1f s (limit %s)\n", res.Duration.Seconds(), limit)
	return nil
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

func newVerifyDeployCmd(g *globals) *cobra.Command {
	var service, window, baseline, format string
	var deploy int64
	var noWait bool
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Compare the SLIs after a deploy with the baseline before it (exit 0 pass, 1 regression, 2 inconclusive)",
		Long: `Asks tandem to compare the window after a deploy with the baseline before it:
error ratio (two-proportion test), latency (Mann-Whitney rank test on the
latency histograms) and burn rate. A regression marks the deploy failed (so
change failure rate counts it), records why and raises the alert "SLO
violation after deployment". Too little traffic is "inconclusive", never a
pass. Unless --no-wait, the command waits for the window to pass.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if service == "" && deploy == 0 {
				return tandem.FieldErrorf("--service", "required (or --deploy)")
			}
			if format != "text" && format != "json" {
				return tandem.FieldErrorf("--format", "want text or json, got %q", format)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			req := client.VerifyRequest{Service: service, DeployID: deploy, Window: window, Baseline: baseline}
			var v gate.Verification
			for {
				v, err = c.VerifyDeploy(cmd.Context(), req)
				if err != nil {
					return err
				}
				req.DeployID = v.Deploy.ID
				if v.Complete || v.Verdict == gate.Fail || noWait {
					break
				}
				wait := v.ReadyAt.Sub(v.To) + time.Second
				fmt.Fprintf(g.stderr, "tandem: %s so far; waiting %s for the window to end\n", v.Verdict, wait.Round(time.Second))
				t := time.NewTimer(wait)
				select {
				case <-cmd.Context().Done():
					t.Stop()
					return cmd.Context().Err()
				case <-t.C:
				}
			}
			if format == "json" {
				if err := writeJSON(g.stdout, v); err != nil {
					return err
				}
			} else {
				var b strings.Builder
				for _, ch := range v.Checks {
					b.WriteString(gate.FormatCheck(ch) + "\n")
				}
				fmt.Fprintf(&b, "deploy %d of %s (%s): %s", v.Deploy.ID, v.Deploy.Service, orDashCLI(v.Deploy.Version), strings.ToUpper(v.Verdict))
				if !v.Complete {
					b.WriteString(" (window not over)")
				}
				b.WriteString("\n")
				if v.MarkedFailed {
					b.WriteString("the deploy is marked failed: " + v.Reason + "\n")
				}
				if _, err := io.WriteString(g.stdout, b.String()); err != nil {
					return err
				}
			}
			switch v.Verdict {
			case gate.Fail:
				return &ExitError{Code: 1}
			case gate.Inconclusive:
				return &ExitError{Code: 2}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&service, "service", "", "service (its latest deploy unless --deploy)")
	fl.Int64Var(&deploy, "deploy", 0, "change event id of the deploy")
	fl.StringVar(&window, "window", "", "window after the deploy (server default 15m)")
	fl.StringVar(&baseline, "baseline", "", "baseline before the deploy (server default 1h)")
	fl.BoolVar(&noWait, "no-wait", false, "answer at once, even before the window is over")
	fl.StringVar(&format, "format", "text", "text or json")
	return cmd
}
