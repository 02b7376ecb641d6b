package cli

import "github.com/spf13/cobra"

// oncallCommands are the commands for on-call schedules, overrides and escalation policies.
func oncallCommands(g *globals) []*cobra.Command { return nil }
