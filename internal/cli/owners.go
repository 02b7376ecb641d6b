package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
)

func newOwnersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "owners", Short: "Tool ownership: who owns which tool"}
	var configDir, format string
	// rows reads the table from --config when given, else from the server.
	rows := func(cmd *cobra.Command) ([]catalog.OwnershipRow, error) {
		if configDir != "" {
			cfg, err := config.Load(configDir, time.Now())
			if err != nil {
				return nil, err
			}
			return catalog.Ownership(cfg.Catalog), nil
		}
		c, err := g.client()
		if err != nil {
			return nil, fmt.Errorf("%w (or pass --config DIR to read the config directly)", err)
		}
		r, err := c.Tools(cmd.Context())
		return ownershipRows(r), err
	}
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the tool-ownership table (Tool | Primary Owner | Backup Owner)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rows(cmd)
			if err != nil {
				return err
			}
			return catalog.WriteOwnership(g.stdout, r, format)
		},
	}
	export.Flags().StringVar(&format, "format", "markdown", "markdown, csv or json")
	who := &cobra.Command{
		Use:   "who TOOL",
		Short: "Say whom to contact about a tool",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rows(cmd)
			if err != nil {
				return err
			}
			var names []string
			for _, row := range r {
				names = append(names, row.Tool)
				if strings.EqualFold(row.Tool, args[0]) {
					tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintf(tw, "%s\n", row.Tool)
					fmt.Fprintf(tw, "  primary\t%s (%s)\t%s\n", row.Primary.Display, row.Primary.Kind, row.Primary.Contact)
					if row.Backup != nil {
						fmt.Fprintf(tw, "  backup\t%s (%s)\t%s\n", row.Backup.Display, row.Backup.Kind, row.Backup.Contact)
					}
					return tw.Flush()
				}
			}
			msg := "no tool named " + args[0]
			if c := catalog.Closest(args[0], names, 3); len(c) > 0 {
				msg += "; did you mean " + strings.Join(c, ", ") + "?"
			}
			return tandem.Errorf(tandem.ENotFound, "%s", msg)
		},
	}
	cmd.PersistentFlags().StringVar(&configDir, "config", "", "read the config directory instead of asking the server")
	cmd.AddCommand(export, who)
	return cmd
}
