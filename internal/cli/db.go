package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

func newDBCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Back up the embedded database, or copy it into PostgreSQL",
	}
	cmd.AddCommand(newDBCopyCmd(g), newDBBackupCmd(g))
	return cmd
}

func newDBCopyCmd(g *globals) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "copy",
		Short: "Copy every table of the embedded SQLite database into an empty PostgreSQL database",
		Long: `copy moves a tandem that outgrew one machine onto PostgreSQL with its
history. It migrates both databases to this version's schema, reads the
SQLite database in one transaction (a consistent snapshot; serve may keep
running, but writes after the snapshot are not copied: stop serve first
for a cut-over), and writes every table into PostgreSQL in one
transaction, sets the sequences, and compares each table's row count with
the source's before it commits. It refuses a target that has any rows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return tandem.FieldErrorf("--from-data-dir", "required: the data directory of the SQLite database (holding tandem.db)")
			}
			if to == "" {
				return tandem.FieldErrorf("--to-database-url", "required: the postgres:// URL of an empty database")
			}
			ctx := cmd.Context()
			start := time.Now()
			// Refuse a missing source before creating anything.
			probe, err := db.OpenExisting(ctx, from)
			if err != nil {
				return err
			}
			probe.Close()
			src, err := db.Open(ctx, db.Options{DataDir: from})
			if err != nil {
				return fmt.Errorf("source: %w", err)
			}
			defer src.Close()
			dst, err := db.Open(ctx, db.Options{URL: to, MaxOpenConns: 2})
			if err != nil {
				return fmt.Errorf("target: %w", err)
			}
			defer dst.Close()
			counts, err := db.CopyToPostgres(ctx, src, dst)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "TABLE\tROWS\t")
			var total int64
			for _, c := range counts {
				fmt.Fprintf(tw, "%s\t%d\t\n", c.Table, c.Rows)
				total += c.Rows
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "copied %s, %s into %s in %s; counts match the source; sequences set\n",
				plural(len(counts), "table", "tables"), plural(int(total), "row", "rows"), db.Redact(to), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from-data-dir", "", "data directory of the SQLite database to copy (required)")
	cmd.Flags().StringVar(&to, "to-database-url", "", "postgres:// URL of the empty target database (required)")
	return cmd
}

func newDBBackupCmd(g *globals) *cobra.Command {
	var dataDir, out string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Write a consistent copy of the embedded SQLite database while serve runs",
		Long: `backup writes the SQLite database in --data-dir to --out with VACUUM INTO:
a consistent copy as of one transaction, taken while serve keeps running,
compacted, and checked before the command returns. It never overwrites a
file. Restore by stopping serve and putting the file in place as
tandem.db (see docs/operations.md). For PostgreSQL use pg_dump or
continuous archiving (docs/scaling.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return tandem.FieldErrorf("--out", "required: the file to write (it must not exist)")
			}
			ctx := cmd.Context()
			start := time.Now()
			d, err := db.OpenExisting(ctx, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			info, err := d.Backup(ctx, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s\n", info.Path)
			fmt.Fprintf(g.stderr, "backed up %s to %s (%d bytes, schema version %d) in %s\n",
				dataDir, info.Path, info.Bytes, info.SchemaVersion, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "directory of the embedded SQLite database (TANDEM_DATA_DIR)")
	cmd.Flags().StringVar(&out, "out", "", "file to write the backup to; must not exist (required)")
	return cmd
}
