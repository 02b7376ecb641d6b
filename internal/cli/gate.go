package cli

import "github.com/spf13/cobra"

// gateCommands are the commands for CI/CD gates, post-deploy verification and migration checks.
func gateCommands(g *globals) []*cobra.Command { return nil }
