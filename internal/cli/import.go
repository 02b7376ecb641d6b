package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/internal/importer"
)

// importCommands are `tandem import …` (on-call, SLOs and the catalog
// from other tools into tandem.d/) and `tandem alertmanager config`.
func importCommands(g *globals) []*cobra.Command {
	root := &cobra.Command{
		Use:   "import",
		Short: "Move in: turn PagerDuty, Opsgenie, Grafana OnCall, Sloth, Pyrra and Backstage data into tandem.d/ files",
		Long: `import reads another tool's data and writes tandem.d/ files that tandem
config validate accepts: one file per source (pagerduty.yaml, sloth-FILE.yaml…).
Every source field tandem cannot express is printed as a warning with its
path. An existing file is never overwritten without --force, and nothing is
written when the result would not validate together with what --out holds.
See docs/migrate.md.`,
	}
	var pdTerraform, pdAPI string
	pd := importCmd(g, "pagerduty", "PagerDuty users, teams, schedules, escalation policies and services", cobra.NoArgs, fixed("pagerduty"),
		func(args []string, nm *importer.Namer) (*importer.Result, error) {
			switch {
			case pdTerraform != "" && pdAPI != "":
				return nil, fmt.Errorf("give --terraform or --api-export, not both")
			case pdTerraform != "":
				return importer.PagerDutyTerraform(pdTerraform, nm)
			case pdAPI != "":
				return importer.PagerDutyAPI(pdAPI, nm)
			}
			return nil, fmt.Errorf("required: --terraform DIR (the .tf files) or --api-export DIR (REST API v2 JSON)")
		})
	pd.Flags().StringVar(&pdTerraform, "terraform", "", "directory of Terraform files with pagerduty_* resources")
	pd.Flags().StringVar(&pdAPI, "api-export", "", "directory of JSON saved from PagerDuty's REST API v2")

	var ogExport string
	og := importCmd(g, "opsgenie", "Opsgenie users, teams, schedules with rotations and overrides, and escalations", cobra.NoArgs, fixed("opsgenie"),
		func(args []string, nm *importer.Namer) (*importer.Result, error) {
			if ogExport == "" {
				return nil, fmt.Errorf("required: --export DIR (Opsgenie REST API JSON)")
			}
			return importer.OpsgenieExport(ogExport, nm)
		})
	og.Flags().StringVar(&ogExport, "export", "", "directory of JSON saved from Opsgenie's REST API")

	var gfExport string
	gf := importCmd(g, "grafana-oncall", "Grafana OnCall users, teams, schedules and shifts, and escalation chains", cobra.NoArgs, fixed("grafana-oncall"),
		func(args []string, nm *importer.Namer) (*importer.Result, error) {
			if gfExport == "" {
				return nil, fmt.Errorf("required: --export DIR (Grafana OnCall public API JSON)")
			}
			return importer.GrafanaOnCallExport(gfExport, nm)
		})
	gf.Flags().StringVar(&gfExport, "export", "", "directory of JSON saved from Grafana OnCall's public API")

	var slothOpts importer.SLOOptions
	var period, windowsPath string
	sloth := importCmd(g, "sloth FILE", "Sloth SLO specs (prometheus/v1 or sloth.slok.dev/v1) as OpenSLO", cobra.ExactArgs(1), stem("sloth-"),
		func(args []string, nm *importer.Namer) (*importer.Result, error) {
			p, err := model.ParseDuration(period)
			if err != nil {
				return nil, fmt.Errorf("--slo-period: %w", err)
			}
			var custom []importer.SlothWindows
			if windowsPath != "" {
				if custom, err = importer.SlothWindowsPath(windowsPath); err != nil {
					return nil, fmt.Errorf("--slo-period-windows: %w", err)
				}
			}
			w, err := importer.SlothWindowsFor(time.Duration(p), custom)
			if err != nil {
				return nil, err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return nil, err
			}
			return importer.Sloth(filepath.Base(args[0]), b, w, nm, slothOpts)
		})
	sloth.Flags().StringVar(&period, "slo-period", "30d", "the SLO period Sloth runs with (its --default-slo-period)")
	sloth.Flags().StringVar(&windowsPath, "slo-period-windows", "", "the AlertWindows file or directory Sloth runs with (its --slo-period-windows-path); Sloth has 28d and 30d built in")
	sloFlags(sloth, &slothOpts)

	var pyrraOpts importer.SLOOptions
	pyrra := importCmd(g, "pyrra FILE", "Pyrra ServiceLevelObjectives (pyrra.dev/v1alpha1) as OpenSLO", cobra.ExactArgs(1), stem("pyrra-"),
		func(args []string, nm *importer.Namer) (*importer.Result, error) {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return nil, err
			}
			return importer.Pyrra(filepath.Base(args[0]), b, nm, pyrraOpts)
		})
	sloFlags(pyrra, &pyrraOpts)

	bs := importCmd(g, "backstage FILE|DIR", "Backstage catalog entities (catalog-info.yaml) as teams, people, services and tools", cobra.ExactArgs(1), fixed("backstage"),
		func(args []string, nm *importer.Namer) (*importer.Result, error) {
			return importer.BackstagePath(args[0], nm)
		})
	root.AddCommand(pd, og, gf, sloth, pyrra, bs)
	return []*cobra.Command{root, newAlertmanagerCmd(g)}
}

// fixed names the output files of a source that writes one set.
func fixed(base string) func([]string) string { return func([]string) string { return base } }

// stem names the output files after the input file: sloth-slos.yaml.
func stem(prefix string) func([]string) string {
	return func(args []string) string {
		b := filepath.Base(args[0])
		return prefix + importer.SanitizeDNS(strings.TrimSuffix(b, filepath.Ext(b)))
	}
}

// sloFlags adds the flags every SLO import shares.
func sloFlags(cmd *cobra.Command, o *importer.SLOOptions) {
	cmd.Flags().StringVar(&o.PrometheusURL, "prometheus-url", "", "Prometheus the SLOs query (default: slo_settings.prometheus_url of --out, else "+importer.DefaultPrometheusURL+")")
}

// importCmd builds one `tandem import SOURCE` command around run, which
// reads the source; base names its output files. The flags --out,
// --dry-run and --force are the same for every source: run sees the
// directory's people and names through nm, the result is printed as
// warnings and written (or shown) with a summary line.
func importCmd(g *globals, use, short string, args cobra.PositionalArgs, base func(args []string) string,
	run func(args []string, nm *importer.Namer) (*importer.Result, error)) *cobra.Command {
	var out string
	var dryRun, force bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, a []string) error {
			if out == "" {
				return fmt.Errorf("--out: the tandem.d directory to write into is required")
			}
			// What the directory holds, without the files this import
			// replaces (a re-run with --force must not match itself).
			b := base(a)
			ex, err := importer.LoadExisting(out, importer.FileNames(b))
			if err != nil {
				return err
			}
			res, err := run(a, importer.NewNamer(ex))
			if err != nil {
				return err
			}
			files, err := importer.Render(res, b, fmt.Sprintf("Imported from %s by tandem import %s.\nReview the warnings it printed; docs/migrate.md lists what does not carry over.", res.Source, strings.Fields(use)[0]))
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(g.stderr, "warning:", w.String())
			}
			if err := importer.Write(files, importer.WriteOptions{Dir: out, DryRun: dryRun, Force: force, Log: g.stdout}); err != nil {
				return err
			}
			verb := "imported"
			if dryRun {
				verb = "would import"
			}
			fmt.Fprintf(g.stdout, "%s %s\n", verb, res.Summary())
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the tandem.d directory to write into (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the files instead of writing them")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite output files that exist")
	return cmd
}

// newAlertmanagerCmd is `tandem alertmanager config`: the receiver and
// route that send Alertmanager's alerts to tandem.
func newAlertmanagerCmd(g *globals) *cobra.Command {
	root := &cobra.Command{Use: "alertmanager", Short: "Alertmanager: the config that sends alerts to tandem"}
	var tokenEnv, credFile, label string
	cfg := &cobra.Command{
		Use:   "config",
		Short: "Print the receiver and route that send alerts to tandem (paste into alertmanager.yml)",
		Long: `config prints an Alertmanager receiver (a webhook to tandem's
/api/v1/webhooks/alertmanager with the token as a Bearer credential and
send_resolved) and a route grouping by the service label and alertname,
which is how tandem groups alerts into incidents. The token is read from
the environment variable --token-env names (create one with tandem token
create --name alertmanager --scope write), or left on the Alertmanager host
with --credentials-file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.url == "" {
				return fmt.Errorf("--url: tandem's base URL is required (TANDEM_URL)")
			}
			o := importer.AlertmanagerOptions{URL: g.url, CredentialsFile: credFile, ServiceLabel: label}
			if tokenEnv != "" {
				o.Token = os.Getenv(tokenEnv)
				if o.Token == "" {
					return fmt.Errorf("--token-env: the environment variable %s is empty or unset", tokenEnv)
				}
			}
			s, err := importer.Alertmanager(o)
			if err != nil {
				return err
			}
			b, err := s.YAML()
			if err != nil {
				return err
			}
			_, err = g.stdout.Write(b)
			return err
		},
	}
	cfg.Flags().StringVar(&tokenEnv, "token-env", "", "environment variable holding the API token (write scope)")
	cfg.Flags().StringVar(&credFile, "credentials-file", "", "instead of the token: its file on the Alertmanager host")
	cfg.Flags().StringVar(&label, "service-label", "service", "the label tandem reads the service from (incidents.alert_mapping.service_label)")
	root.AddCommand(cfg)
	return root
}
