package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandemhq/tandem"
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
		tlsCert    string
		tlsKey     string
		proxies    []string
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
			trusted, err := app.ParseTrustedProxies(proxies)
			if err != nil {
				return tandem.FieldErrorf("--trusted-proxies", "%v", err)
			}
			m, err := app.New(cmd.Context(), app.Options{
				Listen: listen, DataDir: store.dataDir, DatabaseURL: store.databaseURL,
				ConfigDir: configDir, PublicRead: publicRead, Log: log, HandleSignals: true,
				TLSCertFile: tlsCert, TLSKeyFile: tlsKey, TrustedProxies: trusted,
			})
			if err != nil {
				return err
			}
			if err := m.Listen(); err != nil {
				m.DB.Close()
				return listenError(err)
			}
			return m.Run(cmd.Context())
		},
	}
	store.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", ":8080", "address to listen on (TANDEM_LISTEN)")
	cmd.Flags().StringVar(&configDir, "config", "", "config directory (default ./tandem.d when it exists) (TANDEM_CONFIG)")
	cmd.Flags().BoolVar(&publicRead, "public-read", false, "serve reads without a token (TANDEM_PUBLIC_READ)")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with; read again on SIGHUP (TANDEM_TLS_CERT)")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert (TANDEM_TLS_KEY)")
	cmd.Flags().StringSliceVar(&proxies, "trusted-proxies", nil, "reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-* headers are believed (TANDEM_TRUSTED_PROXIES)")
	return cmd
}

// listenError explains a port in use with the flag that picks another.
func listenError(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another process listens there; pick another address with --listen (or TANDEM_LISTEN)", err)
	}
	return err
}

// runUntilDone is a helper for commands that serve until Ctrl-C.
func runUntilDone(ctx context.Context, m *app.Main) error {
	if err := m.Run(ctx); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
