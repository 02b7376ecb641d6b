package cli

import "github.com/spf13/cobra"

// changeCommands are the commands for change events, GitHub deploy webhooks and DORA metrics.
func changeCommands(g *globals) []*cobra.Command { return nil }
