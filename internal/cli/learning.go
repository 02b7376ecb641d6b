package cli

import "github.com/spf13/cobra"

// learningCommands are the commands for postmortems, action items, toil and reliability OKRs.
func learningCommands(g *globals) []*cobra.Command { return nil }
