package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/examples"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/demo"
	"github.com/tandemhq/tandem/internal/slo"
)

func newDemoCmd(g *globals) *cobra.Command {
	var (
		listen string
		days   int
		keep   bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run tandem on a temporary database with the example config and generated history",
		Long: `demo starts a server on a fresh embedded database, loads the example
organisation (examples/tandem.d, built into the binary), generates realistic
history for it and serves until Ctrl-C, writing traffic, deploys and the
occasional alert as it runs. Pages go to an in-process sink and show on
each incident's page. Reads need no token; writes need the admin token it
prints.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			log, err := g.logger()
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp("", "tandem-demo-")
			if err != nil {
				return err
			}
			if !keep {
				defer os.RemoveAll(tmp)
			}
			cfgDir := filepath.Join(tmp, "tandem.d")
			if err := copyFS(cfgDir, examples.Config, "tandem.d"); err != nil {
				return fmt.Errorf("write example config: %w", err)
			}
			m, err := app.New(ctx, app.Options{
				Listen: listen, DataDir: filepath.Join(tmp, "data"), ConfigDir: cfgDir,
				PublicRead: true, Log: log, HandleSignals: true,
			})
			if err != nil {
				return err
			}
			if err := m.Listen(); err != nil {
				m.DB.Close()
				return listenError(err)
			}
			now := m.Options.Clock.Now()
			_, secret, err := m.Tokens.Create(ctx, "demo-admin", auth.ScopeAdmin, now)
			if err != nil {
				m.DB.Close()
				return err
			}
			fmt.Fprintf(g.stderr, "generating %d days of demo history…\n", days)
			if err := demo.Seed(ctx, m, now, days); err != nil {
				m.DB.Close()
				return fmt.Errorf("generate demo data: %w", err)
			}
			// Pages go to an in-process sink (recorded on each incident's
			// timeline), and the demo keeps writing traffic, deploys and
			// alerts while it runs.
			if mgr := m.API.Incident.Manager; mgr != nil {
				(&demo.Sink{Log: log.With("module", "demo")}).Register(mgr)
			}
			m.Modules = append(m.Modules, demo.NewLive(m, now))
			fmt.Fprintf(g.stdout, "tandem demo is running\n\n  dashboard  %s/\n  API        %s/api/v1/services\n  token      %s  (admin; reads need none)\n  config     %s  (a copy of examples/tandem.d)\n  data       %s\n  pages      delivered to an in-process sink: each incident's page lists them\n\n  export TANDEM_URL=%s TANDEM_TOKEN=%s\n%s\nCtrl-C stops it.\n",
				m.URL(), m.URL(), secret, cfgDir, tmp, m.URL(), secret, promNote(m.Config.Get().SLO))
			return runUntilDone(ctx, m)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on (TANDEM_LISTEN)")
	cmd.Flags().IntVar(&days, "days", 90, "days of history to generate")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory after exit")
	return cmd
}

// promNote says which SLOs read Prometheus: the demo has generated history
// only for native SLOs, so these show "no data" (and the log warns) until
// a Prometheus answers at their URL.
func promNote(c config.SLOConfig) string {
	byURL := map[string][]string{}
	var urls []string
	for _, d := range c.Definitions {
		if d.Indicator.Source != slo.SourcePrometheus {
			continue
		}
		u := d.Indicator.PrometheusURL
		if _, ok := byURL[u]; !ok {
			urls = append(urls, u)
		}
		byURL[u] = append(byURL[u], d.Name)
	}
	var b strings.Builder
	for _, u := range urls {
		fmt.Fprintf(&b, "\nThese SLOs read Prometheus at %s and show no data until one runs there: %s.\n", u, strings.Join(byURL[u], ", "))
	}
	return b.String()
}

// copyFS writes the tree under root of fsys into dir.
func copyFS(dir string, fsys fs.FS, root string) error {
	return fs.WalkDir(fsys, root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
