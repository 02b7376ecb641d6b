package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandemhq/tandem/internal/app"
)

// storeFlags say which database to use.
type storeFlags struct {
	dataDir     string
	databaseURL string
}

func (s *storeFlags) register(cmd *cobra.Command) { s.registerOn(cmd.Flags()) }

func (s *storeFlags) registerOn(fs *pflag.FlagSet) {
	fs.StringVar(&s.dataDir, "data-dir", defaultDataDir(), "directory of the embedded SQLite database (TANDEM_DATA_DIR)")
	fs.StringVar(&s.databaseURL, "database-url", "", "postgres://… to use PostgreSQL instead of SQLite (TANDEM_DATABASE_URL)")
}

func defaultDataDir() string {
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "share", "tandem")
	}
	return "tandem-data"
}

func newServeCmd(g *globals) *cobra.Command {
	var (
		store      storeFlags
		listen     string
		configDir  string
		publicRead bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the tandem server (API, dashboard, /metrics, background engine)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			if configDir == "" {
				if st, err := os.Stat("tandem.d"); err == nil && st.IsDir() {
					configDir = "tandem.d"
				}
			}
			m, err := app.New(cmd.Context(), app.Options{
				Listen: listen, DataDir: store.dataDir, DatabaseURL: store.databaseURL,
				ConfigDir: configDir, PublicRead: publicRead, Log: log, HandleSignals: true,
			})
			if err != nil {
				return err
			}
			if err := m.Listen(); err != nil {
				m.DB.Close()
				return err
			}
			return m.Run(cmd.Context())
		},
	}
	store.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", ":8080", "address to listen on (TANDEM_LISTEN)")
	cmd.Flags().StringVar(&configDir, "config", "", "config directory (default ./tandem.d when it exists) (TANDEM_CONFIG)")
	cmd.Flags().BoolVar(&publicRead, "public-read", false, "serve reads without a token (TANDEM_PUBLIC_READ)")
	return cmd
}

// runUntilDone is a helper for commands that serve until Ctrl-C.
func runUntilDone(ctx context.Context, m *app.Main) error {
	if err := m.Run(ctx); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
