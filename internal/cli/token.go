package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/db"
)

func newTokenCmd(g *globals) *cobra.Command {
	var store storeFlags
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens (directly on the database)",
	}
	store.registerOn(cmd.PersistentFlags())
	open := func(cmd *cobra.Command) (*auth.Store, func(), error) {
		d, err := db.Open(cmd.Context(), db.Options{URL: store.databaseURL, DataDir: store.dataDir})
		if err != nil {
			return nil, nil, err
		}
		return &auth.Store{DB: d}, func() { d.Close() }, nil
	}

	var name, scope string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print it once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := auth.ParseScope(scope)
			if err != nil {
				return err
			}
			s, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			_, secret, err := s.Create(cmd.Context(), name, sc, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, secret)
			fmt.Fprintf(g.stderr, "token %q (%s) created; it is shown only now\n", name, sc)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "a name for the token (required)")
	create.Flags().StringVar(&scope, "scope", "read", "read, write or admin")
	_ = create.MarkFlagRequired("name")

	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			toks, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			if format == "json" {
				if toks == nil {
					toks = []auth.Token{}
				}
				return json.NewEncoder(g.stdout).Encode(toks)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSCOPE\tPREFIX\tCREATED\tSTATE")
			for _, t := range toks {
				state := "active"
				if !t.RevokedAt.IsZero() {
					state = "revoked " + t.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\n", t.Name, t.Scope, t.Prefix, t.CreatedAt.Format(time.RFC3339), state)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&format, "format", "table", "table or json")

	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := s.Revoke(cmd.Context(), args[0], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "token %q revoked\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
