package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newServicesCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "services",
		Short: "List the services in the catalog (from the server)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			svcs, err := c.Services(cmd.Context())
			if err != nil {
				return err
			}
			if format == "json" {
				return json.NewEncoder(g.stdout).Encode(svcs)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tTEAM\tTIER\tENVIRONMENTS\tDEPENDS ON")
			for _, s := range svcs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.Name, s.Team, s.Tier, strings.Join(s.Environments, ","), strings.Join(s.DependsOn, ","))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}
