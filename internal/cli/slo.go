package cli

import "github.com/spf13/cobra"

// sloCommands are the commands for SLOs, SLI ingest, error budgets and burn-rate alerts.
func sloCommands(g *globals) []*cobra.Command { return nil }
