package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/alerting"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/slo"
)

// sloCommands are the commands for SLOs, SLI ingest, error budgets and burn-rate alerts.
func sloCommands(g *globals) []*cobra.Command {
	root := &cobra.Command{
		Use:   "slo",
		Short: "SLOs and error budgets: status from the server, Prometheus rules from the config",
	}
	root.AddCommand(newSLOListCmd(g), newSLOStatusCmd(g), newSLORulesCmd(g))
	grafana := &cobra.Command{Use: "grafana", Short: "Grafana dashboards as code"}
	grafana.AddCommand(newGrafanaDashboardCmd(g))
	return []*cobra.Command{root, grafana}
}

func newSLOListCmd(g *globals) *cobra.Command {
	var format, service, env string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the SLOs with their status (from the server)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "table", "json"); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			sts, err := c.SLOsIn(cmd.Context(), service, env)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, sts)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLO\tSERVICE\tENV\tOBJECTIVE\tWINDOW\tSLI\tBUDGET LEFT\tSTATUS")
			for _, s := range sts {
				status := s.Status
				if s.Reason != "" {
					status += " (" + s.Reason + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Service, s.Environment, sloPct(s.Objective, 3), s.Window, sloPctOf(s.SLI, 4), sloPctOf(s.ErrorBudget.Remaining, 1), status)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.Flags().StringVar(&service, "service", "", "only this service's SLOs")
	cmd.Flags().StringVar(&env, "env", "", "only the SLOs of this environment")
	return cmd
}

func newSLOStatusCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show attainment, error budget, burn rates, alerts and freeze of one SLO or all (from the server)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "table", "json"); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var sts []client.SLOStatus
			if len(args) == 1 {
				st, err := c.SLO(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				sts = []client.SLOStatus{st}
			} else if sts, err = c.SLOs(cmd.Context(), ""); err != nil {
				return err
			}
			if format == "json" {
				if len(args) == 1 {
					return writeJSON(g.stdout, sts[0])
				}
				return writeJSON(g.stdout, sts)
			}
			for i, s := range sts {
				if i > 0 {
					fmt.Fprintln(g.stdout)
				}
				sloWriteStatus(g.stdout, s)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func sloWriteStatus(w io.Writer, s client.SLOStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SLO\t%s (service %s, %s)\n", s.Name, s.Service, s.Environment)
	fmt.Fprintf(tw, "Objective\t%s over %s (since %s)\n", sloPct(s.Objective, 3), s.Window, s.WindowStart.UTC().Format("2006-01-02 15:04"))
	switch {
	case s.SLI != nil:
		fmt.Fprintf(tw, "Attainment\t%s (%g good of %g)\n", sloPctOf(s.SLI, 4), sloNum(s.Good), sloNum(s.Total))
	case s.Total != nil:
		fmt.Fprintf(tw, "Attainment\tno data (%g events)\n", *s.Total)
	default:
		fmt.Fprintf(tw, "Attainment\tno data\n")
	}
	if b := s.ErrorBudget; b.Remaining != nil {
		fmt.Fprintf(tw, "Error budget\t%s left, %.1f of %.1f minutes (consumed %s)\n", sloPctOf(b.Remaining, 1), sloNum(b.RemainingMinutes), b.TotalMinutes, sloPctOf(b.Consumed, 1))
	} else {
		fmt.Fprintf(tw, "Error budget\tno data (%.1f minutes over the window)\n", b.TotalMinutes)
	}
	ws := make([]string, 0, len(s.BurnRates))
	for _, d := range slo.BurnWindows {
		k := slo.FormatDuration(d)
		if v := s.BurnRates[k]; v != nil {
			ws = append(ws, fmt.Sprintf("%s %.2f", k, *v))
		} else {
			ws = append(ws, k+" no data")
		}
	}
	fmt.Fprintf(tw, "Burn rates\t%s\n", strings.Join(ws, "  "))
	if s.Reason != "" {
		fmt.Fprintf(tw, "Status\t%s: %s\n", s.Status, s.Reason)
	} else {
		fmt.Fprintf(tw, "Status\t%s\n", s.Status)
	}
	fmt.Fprintf(tw, "Alerts\tpage %s, ticket %s\n", sloAlertText(s.Alerts.Page), sloAlertText(s.Alerts.Ticket))
	fz := "no"
	if s.Freeze.Active {
		fz = "ACTIVE: " + s.Freeze.Reason
	}
	fmt.Fprintf(tw, "Release freeze\t%s\n", fz)
	if s.P95Ms != nil {
		fmt.Fprintf(tw, "p95 latency\t%.1f ms\n", *s.P95Ms)
	}
	tw.Flush()
}

func sloAlertText(a client.SLOAlert) string {
	if a.Firing {
		return "FIRING (" + a.Reason + ")"
	}
	return "ok"
}

func sloPct(v float64, digits int) string { return fmt.Sprintf("%.*f%%", digits, v*100) }

// sloPctOf is sloPct of *v, or "no data" for nil: no data is never a number.
func sloPctOf(v *float64, digits int) string {
	if v == nil {
		return "no data"
	}
	return sloPct(*v, digits)
}

// sloNum is *v for a number printed only when the status has data.
func sloNum(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// loadSLOs loads the config directory for the local generators.
func loadSLOs(dir string) ([]*slo.Definition, error) {
	if dir == "" {
		return nil, fmt.Errorf("--config: the tandem.d directory is required")
	}
	cfg, err := config.Load(dir, time.Now())
	if err != nil {
		return nil, err
	}
	defs := cfg.SLO.Definitions
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs, nil
}

// writeOut writes b to path, or stdout for "" or "-".
func sloWriteOut(g *globals, path string, b []byte) error {
	if path == "" || path == "-" {
		_, err := g.stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func newSLORulesCmd(g *globals) *cobra.Command {
	var dir, out string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Write Prometheus recording and burn-rate alerting rules for the Prometheus-backed SLOs",
		Long: `rules reads the SLOs in the config directory and writes a Prometheus rule
file: per SLO one recording rule per window (error ratio) and the
multi-window multi-burn-rate alerts SLOBurnRatePage and SLOBurnRateTicket.
The output passes promtool check rules. SLOs fed by tandem itself get no
rules: tandem evaluates them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			defs, err := loadSLOs(dir)
			if err != nil {
				return err
			}
			b, err := alerting.Rules(defs)
			if err != nil {
				return err
			}
			return sloWriteOut(g, out, b)
		},
	}
	cmd.Flags().StringVar(&dir, "config", "", "the tandem.d directory (TANDEM_CONFIG)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of stdout")
	return cmd
}

func newGrafanaDashboardCmd(g *globals) *cobra.Command {
	var dir, out, service, tandemURL string
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Write Grafana dashboard JSON for the SLOs (error budget gauges, SLI, burn rates, deployments)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			defs, err := loadSLOs(dir)
			if err != nil {
				return err
			}
			if service != "" {
				found := false
				for _, d := range defs {
					found = found || d.Service == service
				}
				if !found {
					return fmt.Errorf("--service: no SLO belongs to service %q", service)
				}
			}
			if tandemURL == "" {
				tandemURL = g.url
			}
			b, err := alerting.Dashboard(defs, alerting.DashboardOptions{Service: service, TandemURL: tandemURL})
			if err != nil {
				return err
			}
			return sloWriteOut(g, out, b)
		},
	}
	cmd.Flags().StringVar(&dir, "config", "", "the tandem.d directory (TANDEM_CONFIG)")
	cmd.Flags().StringVar(&service, "service", "", "only this service's SLOs")
	cmd.Flags().StringVar(&tandemURL, "tandem-url", "", "tandem's base URL for deployment annotations (default --url)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of stdout")
	return cmd
}
