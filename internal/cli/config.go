package cli

import (
	"encoding/json"
	"errors"
	"fmt"
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
	cmd.AddCommand(validate)
	return cmd
}
