package cli

import "github.com/spf13/cobra"

// incidentCommands are the commands for incidents, inbound alerts, notifications and the job engine.
func incidentCommands(g *globals) []*cobra.Command { return nil }
