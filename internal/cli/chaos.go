package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/chaos"
)

// chaosCommands are the commands of chaos experiments: chaos run, proxy,
// list and import.
func chaosCommands(g *globals) []*cobra.Command {
	cmd := &cobra.Command{Use: "chaos", Short: "Chaos experiments judged by the SLOs: run, proxy, list, import"}
	cmd.AddCommand(newChaosRunCmd(g), newChaosProxyCmd(g), newChaosListCmd(g), newChaosImportCmd(g))
	return []*cobra.Command{cmd}
}

type chaosRunFlags struct {
	service, env, name, rollback, format, actor string
	duration, cooldown, interval, grace         time.Duration
	abortBurn, degraded                         float64
}

// chaosRunReport is the JSON form of a chaos run.
type chaosRunReport struct {
	Run         client.ChaosRun           `json:"run"`
	SteadyState []client.ChaosSteadyState `json:"steady_state"`
	ExitCode    int                       `json:"exit_code"`
	Command     []string                  `json:"command"`
	// CommandExit is the fault command's exit code (-1 when a signal
	// ended it); Signals what tandem sent its process group.
	CommandExit int      `json:"command_exit"`
	Signals     []string `json:"signals"`
	// Rollback is set when the run aborted and --rollback ran.
	Rollback *chaosRollback `json:"rollback,omitempty"`
}

type chaosRollback struct {
	Command  string `json:"command"`
	ExitCode int    `json:"exit_code"`
}

func newChaosRunCmd(g *globals) *cobra.Command {
	f := &chaosRunFlags{}
	cmd := &cobra.Command{
		Use:   "run --service S --name NAME [flags] -- COMMAND [ARG...]",
		Short: "Run a fault command as a chaos experiment and judge it by the service's SLOs",
		Long: `Run a chaos experiment: check the steady state (every SLO of the service in
--env measured from requests must be healthy, with no page alert firing, or the
run is refused with exit 2), record a chaos change event, run COMMAND (the fault
injector) in its own process group for --duration, watch the SLIs every
--interval while it runs and for --cooldown after it, and give a verdict that is
stored on the change:

  held      every SLO stayed within its pace: no page condition, and the
            experiment cost less than --degraded-share of any SLO's budget
  degraded  some SLO's budget burned at least --degraded-share, no page condition
  broken    a page condition held, or the run aborted

When an SLO burns its budget faster than --abort-burn-rate the run aborts:
SIGTERM to the command's process group, SIGKILL after --kill-grace, then
--rollback runs (sh -c). Ctrl-C aborts the same way.

Exit codes, as the gates use them: 0 held, 1 degraded or broken, 2 refused or
could not judge (steady state not met, no SLO, no data). docs/chaos.md has the
game day from steady state to verdict.`,
		Args: cobra.MinimumNArgs(1),
	}
	gateCommand(g, cmd, func(cmd *cobra.Command, args []string) error {
		return runChaos(cmd.Context(), g, f, args)
	})
	fl := cmd.Flags()
	fl.StringVar(&f.service, "service", "", "service under the experiment (required)")
	fl.StringVar(&f.env, "env", "production", "environment whose SLOs judge the experiment")
	fl.StringVar(&f.name, "name", "", "name of the experiment (required)")
	fl.DurationVar(&f.duration, "duration", 5*time.Minute, "how long the fault runs; COMMAND is stopped then")
	fl.DurationVar(&f.cooldown, "cooldown", chaos.DefaultCooldown, "how long the SLIs are watched after the fault")
	fl.Float64Var(&f.abortBurn, "abort-burn-rate", 10, "abort when an SLO burns its budget faster than this (0: never)")
	fl.Float64Var(&f.degraded, "degraded-share", chaos.DefaultDegradedShare, "share of an SLO's error budget from which the run is degraded")
	fl.StringVar(&f.rollback, "rollback", "", "command run (sh -c) after an abort")
	fl.DurationVar(&f.interval, "interval", 15*time.Second, "how often the SLIs are read")
	fl.DurationVar(&f.grace, "kill-grace", 10*time.Second, "time between SIGTERM and SIGKILL when the command is stopped")
	fl.StringVar(&f.actor, "actor", "", "who runs the experiment (default $USER)")
	fl.StringVar(&f.format, "format", "text", "output: text or json")
	return cmd
}

func runChaos(ctx context.Context, g *globals, f *chaosRunFlags, argv []string) error {
	if err := checkFormat(f.format, "text", "json"); err != nil {
		return err
	}
	switch {
	case f.service == "":
		return tandem.FieldErrorf("--service", "required")
	case f.name == "":
		return tandem.FieldErrorf("--name", "required")
	case f.duration <= 0:
		return tandem.FieldErrorf("--duration", "must be positive")
	case f.interval <= 0:
		return tandem.FieldErrorf("--interval", "must be positive")
	case f.cooldown < 0:
		return tandem.FieldErrorf("--cooldown", "must not be negative")
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	actor := f.actor
	if actor == "" {
		actor = os.Getenv("USER")
	}
	// Output of the fault command and the rollback goes to stderr, so that
	// --format json owns stdout.
	logw := g.stderr
	say := func(format string, a ...any) {
		if f.format == "text" {
			fmt.Fprintf(logw, format+"\n", a...)
		}
	}
	start, err := c.StartChaosRun(ctx, client.ChaosStartInput{Service: f.service, Environment: f.env, Name: f.name,
		Command: strings.Join(argv, " "), Actor: actor, Cooldown: f.cooldown.String(),
		AbortBurnRate: f.abortBurn, DegradedShare: f.degraded})
	if err != nil {
		return err
	}
	run := start.Run
	say("chaos run %d: steady state holds (%s); running %s for %s", run.ID, strings.Join(run.Settings.SLOs, ", "), argv[0], f.duration)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	env := append(os.Environ(), fmt.Sprintf("TANDEM_CHAOS_RUN=%d", run.ID), "TANDEM_CHAOS_SERVICE="+f.service, "TANDEM_CHAOS_ENV="+f.env)
	proc, startErr := chaos.StartProcess(argv, env, logw, logw)
	var (
		aborted    bool
		reason     string
		faultEnded time.Time
		rollback   *chaosRollback
	)
	doRollback := func() {
		if f.rollback == "" || rollback != nil {
			return
		}
		say("running the rollback: %s", f.rollback)
		code, err := chaos.RunShell(context.WithoutCancel(ctx), f.rollback, env, logw, logw)
		if err != nil && code < 0 {
			fmt.Fprintf(g.stderr, "rollback: %v\n", err)
		}
		rollback = &chaosRollback{Command: f.rollback, ExitCode: code}
	}
	abort := func(why string) {
		aborted, reason = true, why
		say("aborting: %s", why)
		if proc != nil {
			proc.Stop(f.grace)
		}
		doRollback()
	}
	// observe reads the SLIs; a failure to read is reported and the run
	// goes on (the verdict reads them again at the end).
	observe := func() {
		octx, cancel := context.WithTimeout(ctx, f.interval)
		defer cancel()
		o, err := c.ObserveChaosRun(octx, run.ID)
		if err != nil {
			fmt.Fprintf(g.stderr, "reading the SLIs: %s\n", errorText(err))
			return
		}
		if o.Abort && !aborted {
			abort(o.Reason)
		}
	}
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	if startErr == nil {
		deadline := time.NewTimer(f.duration)
		defer deadline.Stop()
	faulting:
		for !aborted {
			select {
			case <-proc.Done():
				break faulting
			case <-deadline.C:
				say("duration over: stopping %s", argv[0])
				proc.Stop(f.grace)
				break faulting
			case s := <-sigs:
				abort("interrupted by " + s.String())
			case <-tick.C:
				observe()
			case <-ctx.Done():
				abort("cancelled")
			}
		}
		faultEnded = time.Now()
		if f.cooldown > 0 && !aborted {
			say("fault ended; cool-down of %s", f.cooldown)
		}
		cool := time.NewTimer(f.cooldown)
		defer cool.Stop()
	cooling:
		for f.cooldown > 0 {
			select {
			case <-cool.C:
				break cooling
			case s := <-sigs:
				if !aborted {
					abort("interrupted during the cool-down by " + s.String())
				}
				break cooling
			case <-tick.C:
				observe()
			case <-ctx.Done():
				break cooling
			}
		}
	} else {
		faultEnded = time.Now()
	}
	fin := client.ChaosFinishInput{Aborted: aborted, AbortReason: reason, FaultEnded: faultEnded}
	commandExit, signals := -1, []string{}
	switch {
	case startErr != nil:
		fin.Failed, fin.FailReason = true, startErr.Error()
		fmt.Fprintf(g.stderr, "error: %v\n", startErr)
	default:
		commandExit, signals = proc.ExitCode(), proc.Signals()
		if len(signals) == 0 && commandExit != 0 {
			fin.Failed, fin.FailReason = true, fmt.Sprintf("the fault command exited with %d", commandExit)
		}
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	done, err := c.FinishChaosRun(fctx, run.ID, fin)
	if err != nil {
		return err
	}
	verdict := chaos.Inconclusive
	if done.Verdict != nil {
		verdict = *done.Verdict
	}
	code := chaos.ExitCode(verdict)
	if startErr != nil {
		code = 2
	}
	if f.format == "json" {
		if err := writeJSON(g.stdout, chaosRunReport{Run: done, SteadyState: start.SteadyState, ExitCode: code, Command: argv,
			CommandExit: commandExit, Signals: signals, Rollback: rollback}); err != nil {
			return err
		}
	} else {
		writeChaosCosts(g.stdout, done)
		fmt.Fprintf(g.stdout, "chaos run %d %s on %s in %s: %s — %s (exit %d)\n", done.ID, done.Name, done.Service, done.Environment,
			strings.ToUpper(verdict), done.Reason, code)
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// writeChaosCosts prints each SLO's burn rate and cost in budget.
func writeChaosCosts(w io.Writer, r client.ChaosRun) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tEVENTS\tBURN RATE\tBUDGET COST\tVERDICT\tWHY")
	for _, c := range r.Costs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.SLO, numOrNone(c.Total, "%g"), numOrNone(c.BurnRate, "%.4g"), pctOrNone(c.BudgetCost), c.Verdict, c.Reason)
	}
	tw.Flush()
}

func numOrNone(v *float64, format string) string {
	if v == nil {
		return "no data"
	}
	return fmt.Sprintf(format, *v)
}

func pctOrNone(v *float64) string {
	if v == nil {
		return "no data"
	}
	return fmt.Sprintf("%.4g%%", *v*100)
}

func newChaosProxyCmd(g *globals) *cobra.Command {
	var listen, upstream string
	var f chaos.Faults
	cmd := &cobra.Command{
		Use:   "proxy --listen ADDR --upstream ADDR [faults]",
		Short: "Run a TCP proxy that degrades the traffic to a dependency (Toxiproxy)",
		Long: `Run a TCP proxy in front of a dependency with faults added: point a
pre-production service at --listen instead of its dependency, and run the proxy
as the COMMAND of tandem chaos run, which stops it when the experiment ends.

  --latency/--jitter   delay every response (jitter uniform around it)
  --error-rate         share of connections reset at once (TCP RST)
  --bandwidth          cap responses to this many KB/s
  --timeout            drop the requests and close the connection after it
                       (--timeout-rate of the connections, default all)

Built on Shopify's Toxiproxy. It runs until SIGTERM or Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listen == "" || upstream == "" {
				return tandem.FieldErrorf("--upstream", "--listen and --upstream are required")
			}
			p, err := chaos.StartProxy(listen, upstream, f)
			if err != nil {
				return err
			}
			defer p.Close()
			fmt.Fprintf(g.stderr, "chaos proxy on %s to %s\n", p.Addr(), upstream)
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "", "address to listen on, e.g. 127.0.0.1:6380 (required)")
	fl.StringVar(&upstream, "upstream", "", "address of the dependency, host:port (required)")
	fl.DurationVar(&f.Latency, "latency", 0, "latency added to every response, e.g. 300ms")
	fl.DurationVar(&f.Jitter, "jitter", 0, "jitter around the latency, e.g. 50ms")
	fl.Float64Var(&f.ErrorRate, "error-rate", 0, "share of connections reset, from 0 to 1")
	fl.Int64Var(&f.BandwidthKBps, "bandwidth", 0, "response bandwidth in KB/s")
	fl.DurationVar(&f.Timeout, "timeout", 0, "drop requests and close connections after this")
	fl.Float64Var(&f.TimeoutRate, "timeout-rate", 0, "share of connections that time out (default all, with --timeout)")
	return cmd
}

func newChaosListCmd(g *globals) *cobra.Command {
	var service, env string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List chaos experiments with their SLO verdict and cost in budget",
		Args:  cobra.NoArgs,
	}
	out := addOutput(cmd, "table", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) ([]client.ChaosRun, error) {
			return c.ChaosRuns(ctx, service, env, limit)
		}, func(w io.Writer, runs []client.ChaosRun) error {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTARTED\tSERVICE\tENV\tNAME\tSOURCE\tVERDICT\tTOOL VERDICT\tMAX BUDGET COST")
			for _, r := range runs {
				verdict := r.Status
				if r.Verdict != nil {
					verdict = *r.Verdict
				}
				tool := r.ToolVerdict
				if tool == "" {
					tool = "-"
				}
				var worst *float64
				for _, c := range r.Costs {
					if c.BudgetCost != nil && (worst == nil || *c.BudgetCost > *worst) {
						worst = c.BudgetCost
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.StartedAt.UTC().Format("2006-01-02 15:04"), r.Service, r.Environment,
					r.Name, r.Source, verdict, tool, pctOrNone(worst))
			}
			return tw.Flush()
		})
	}
	fl := cmd.Flags()
	fl.StringVar(&service, "service", "", "only this service")
	fl.StringVar(&env, "env", "", "only this environment")
	fl.IntVar(&limit, "limit", 50, "at most this many, newest first")
	return cmd
}

func newChaosImportCmd(g *globals) *cobra.Command {
	var format, service, env, out string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Record experiments of LitmusChaos, Chaos Mesh or Gremlin as chaos changes with their SLO verdict",
		Long: `Record a chaos tool's report: LitmusChaos ChaosResult or ChaosEngine objects and
Chaos Mesh Workflow or Schedule events as kubectl get -o json prints them, or a
Gremlin attack webhook body. FILE - reads stdin. --service and --env apply to
objects without the annotations tandem.dev/service and tandem.dev/environment.
Each experiment keeps the tool's verdict beside the SLO verdict tandem gives it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(out, "table", "json"); err != nil {
				return err
			}
			var b []byte
			var err error
			if args[0] == "-" {
				b, err = io.ReadAll(io.LimitReader(g.stdin, chaos.MaxReport+1))
			} else {
				b, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			runs, err := c.ImportChaos(cmd.Context(), format, service, env, b)
			if err != nil {
				return err
			}
			if out == "json" {
				return writeJSON(g.stdout, runs)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSERVICE\tENV\tNAME\tTOOL VERDICT\tSLO VERDICT")
			for _, r := range runs {
				v := r.Status
				if r.Verdict != nil {
					v = *r.Verdict
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Service, r.Environment, r.Name, r.ToolVerdict, v)
			}
			return tw.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "from", "", "litmus, chaos-mesh or gremlin (default: detected)")
	fl.StringVar(&service, "service", "", "service of experiments whose report names none")
	fl.StringVar(&env, "env", "", "environment of experiments whose report names none (default production)")
	fl.StringVar(&out, "format", "table", "table or json")
	return cmd
}
