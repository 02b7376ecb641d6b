package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/internal/config"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with config as code (tandem.d/)"}
	var format string
	validate := &cobra.Command{
		Use:   "validate DIR",
		Short: "Check a config directory; exit 0 when valid, 1 with every error when not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0], time.Now())
			var errs config.Errors
			if errors.As(err, &errs) {
				if format == "json" {
					_ = json.NewEncoder(g.stdout).Encode(map[string]any{"valid": false, "errors": errs})
				} else {
					for _, e := range errs {
						fmt.Fprintln(g.stderr, e.String())
					}
					fmt.Fprintln(g.stderr, errs.Count())
				}
				return &ExitError{Code: 1}
			}
			if err != nil {
				return err
			}
			c := cfg.Catalog
			if format == "json" {
				return json.NewEncoder(g.stdout).Encode(map[string]any{"valid": true, "teams": len(c.Teams), "people": len(c.People), "services": len(c.Services), "tools": len(c.Tools)})
			}
			fmt.Fprintf(g.stdout, "%s: valid (%s, %s, %s, %s)\n", args[0], plural(len(c.Teams), "team", "teams"),
				plural(len(c.People), "person", "people"), plural(len(c.Services), "service", "services"), plural(len(c.Tools), "tool", "tools"))
			return nil
		},
	}
	validate.Flags().StringVar(&format, "format", "text", "output: text or json")
	cmd.AddCommand(validate, newConfigExampleCmd(g))
	return cmd
}

// newConfigExampleCmd prints or writes the starting tandem.d.
func newConfigExampleCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "example",
		Short: "Print a small, commented starting tandem.d, or write it into a directory with --out",
		Long: `Print a small, commented starting tandem.d: a team, two people, a service,
an SLO, an on-call schedule, an escalation policy and notification settings.

Printed, each file starts with a line "--- # NAME"; the whole output is
also a valid config file on its own. With --out DIR the files are written
into DIR (created when missing); an existing file is never overwritten, and
then nothing is written.

Every key is described in docs/config.md.`,
		Example: `  tandem config example --out tandem.d
  tandem config example > tandem.d/tandem.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return config.WriteExample(g.stdout)
			}
			written, err := config.WriteExampleDir(out)
			for _, p := range written {
				fmt.Fprintln(g.stdout, "wrote", p)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Set %s (the *_env keys name them), then check the directory with: tandem config validate %s\n",
				andList(config.ExampleEnv()), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the files into this directory instead of printing them; never overwrites a file")
	return cmd
}

// andList joins words as prose does: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
