// Package app assembles a tandem server from options: database, config,
// HTTP API, dashboard and background modules. The serve and demo commands
// and the end-to-end tests all start tandem through Main, so a test can boot
// the real thing on :0 with a temporary database.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tandemhq/tandem/internal/api"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
)

// Options configures a server.
type Options struct {
	Listen      string // address to listen on; ":0" picks a free port
	DataDir     string // SQLite directory when DatabaseURL is empty
	DatabaseURL string // postgres://… for PostgreSQL
	ConfigDir   string // tandem.d; empty runs with an empty catalog
	PublicRead  bool   // serve reads without a token
	Log         *slog.Logger
	Clock       clock.Clock // nil: the system clock
	// HandleSignals makes Run reload the config on SIGHUP.
	HandleSignals bool
	// AfterSignalReload, when set, is called after each reload that a
	// SIGHUP caused, with its error (nil when the new config serves).
	AfterSignalReload func(err error)
	// ShutdownTimeout bounds the wait for in-flight requests (default 20s).
	ShutdownTimeout time.Duration
	// TLSCertFile and TLSKeyFile, when both set, make the server speak
	// HTTPS with that PEM certificate and key, read again on SIGHUP.
	TLSCertFile, TLSKeyFile string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For,
	// X-Forwarded-Proto and Forwarded headers are believed; from any other
	// peer those headers are removed before a handler sees them.
	TrustedProxies []netip.Prefix
	// WrapHandler, when set, wraps the whole HTTP handler (for a proxy
	// header check in front of everything, or to observe requests in
	// tests).
	WrapHandler func(http.Handler) http.Handler
}

// Module is a background worker supervised with the server: it runs until
// ctx ends and returns nil then, or an error that stops the server.
type Module interface {
	Name() string
	Run(ctx context.Context) error
}

// Main is a built server.
type Main struct {
	Options  Options
	DB       *db.DB
	Config   *config.Holder
	Tokens   *auth.Store
	API      *api.Server
	Registry *prometheus.Registry
	Modules  []Module
	// Engine runs the durable jobs; every wire function may register its
	// job kinds on it.
	Engine *engine.Engine
	// Leaders runs the singleton loops (one leader among the replicas);
	// wire functions add their periodic work with Leaders.Loop.
	Leaders *engine.Leaders

	timeScale float64 // EnvTimeScale, 1 in production
	listener  net.Listener
	http      *http.Server
	cert      *certificate // nil without TLS
}

// New opens the database (applying migrations), loads the config and builds
// the HTTP handler. It does not listen yet.
func New(ctx context.Context, o Options) (*Main, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 20 * time.Second
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return nil, errors.New("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
	}
	var cert *certificate
	if o.TLSCertFile != "" {
		var err error
		if cert, err = loadCertificate(o.TLSCertFile, o.TLSKeyFile); err != nil {
			return nil, err
		}
	}
	cfg, err := loadConfig(o)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, db.Options{URL: o.DatabaseURL, DataDir: o.DataDir})
	if err != nil {
		return nil, err
	}
	// Every replica tells time by the database's clock (a test's fake
	// clock excepted): timestamps, escalation times and windows agree
	// across replicas whose own clocks do not.
	var dbClock *db.Clock
	if _, fake := o.Clock.(*clock.Fake); !fake {
		base := o.Clock
		if v := os.Getenv(EnvClockOffset); v != "" {
			off, err := time.ParseDuration(v)
			if err != nil {
				d.Close()
				return nil, fmt.Errorf("%s: want a duration such as -60s, got %q", EnvClockOffset, v)
			}
			o.Log.Warn("the machine's clock is moved for testing", "offset", off)
			base = clock.Offset(off)
		}
		if dbClock, err = d.NewClock(ctx, base); err != nil {
			d.Close()
			return nil, err
		}
		o.Clock = dbClock
	}
	m := &Main{Options: o, DB: d, Config: config.NewHolder(cfg), Tokens: &auth.Store{DB: d, Clock: o.Clock}, Registry: prometheus.NewRegistry(), cert: cert}
	m.API = &api.Server{
		DB: d, Config: m.Config, Tokens: m.Tokens, Log: o.Log, Clock: o.Clock,
		Registry: m.Registry, PublicRead: o.PublicRead,
	}
	m.Engine = engine.New(d, o.Clock, o.Log, m.Registry)
	if err := m.Registry.Register(engine.HealthCollector{DB: d, Clock: o.Clock, Log: o.Log}); err != nil {
		d.Close()
		return nil, err
	}
	m.Modules = append(m.Modules, m.Engine)
	if dbClock != nil {
		m.Modules = append(m.Modules, dbClock)
	}
	m.Leaders = engine.NewLeaders(d, o.Log, m.Registry)
	if err := timeScaleFromEnv(m); err != nil {
		d.Close()
		return nil, err
	}
	for _, wire := range []func(context.Context) error{
		m.wireChange, m.wireSLO, m.wireOncall, m.wireIncident, m.wireChatops, m.wireGate, m.wireLearning, m.wireChaos, m.wireWeb,
	} {
		if err := wire(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	if err := m.API.Init(); err != nil {
		d.Close()
		return nil, err
	}
	return m, nil
}

func loadConfig(o Options) (*config.Config, error) {
	if o.ConfigDir == "" {
		return &config.Config{LoadedAt: o.Clock.Now(), Catalog: catalog.New(nil, nil, nil, nil)}, nil
	}
	return config.Load(o.ConfigDir, o.Clock.Now())
}

// Listen binds the address. Call it before Run to learn Addr.
func (m *Main) Listen() error {
	ln, err := net.Listen("tcp", m.Options.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", m.Options.Listen, err)
	}
	m.listener = ln
	return nil
}

// Close releases what New and Listen took (the listener and the database)
// for a Main that is not going to Run; Run closes them itself.
func (m *Main) Close() error {
	var errs []error
	if m.listener != nil {
		errs = append(errs, m.listener.Close())
	}
	errs = append(errs, m.DB.Close())
	return errors.Join(errs...)
}

// Addr is the bound address, after Listen.
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// URL is the base URL for a client on this machine, after Listen: https
// when the server speaks TLS.
func (m *Main) URL() string {
	host, port, _ := net.SplitHostPort(m.Addr())
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	scheme := "http"
	if m.cert != nil {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Run serves until ctx ends, then stops accepting, lets in-flight requests
// finish (up to ShutdownTimeout), stops the modules and closes the database.
func (m *Main) Run(ctx context.Context) error {
	if m.listener == nil {
		if err := m.Listen(); err != nil {
			return err
		}
	}
	log := m.Options.Log
	var handler http.Handler = m.API
	if m.Options.WrapHandler != nil {
		handler = m.Options.WrapHandler(handler)
	}
	handler = trustProxies(m.Options.TrustedProxies, handler)
	if m.cert == nil && beyondLoopback(m.Addr()) {
		msg := "serving plain HTTP beyond loopback: tokens and sign-in cookies cross the network unencrypted unless a TLS proxy sits in front"
		if len(m.Options.TrustedProxies) == 0 {
			msg += "; give --tls-cert and --tls-key, or put tandem behind a TLS-terminating proxy named in --trusted-proxies"
		}
		log.Warn(msg, "addr", m.Addr())
	}
	m.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if m.cert != nil {
		m.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: m.cert.get}
	}
	g, gctx := errgroup.WithContext(ctx)
	if m.Options.HandleSignals {
		// Registered before the server answers, so a SIGHUP sent as soon
		// as it does never hits the default action (exit).
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		g.Go(func() error { m.reloadOnHUP(gctx, hup); return nil })
	}
	g.Go(func() error {
		log.Info("serving", "addr", m.Addr(), "url", m.URL(), "database", m.DB.Dialect().String())
		serve := m.http.Serve
		if m.cert != nil {
			serve = func(ln net.Listener) error { return m.http.ServeTLS(ln, "", "") }
		}
		if err := serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), m.Options.ShutdownTimeout)
		defer cancel()
		log.Info("shutting down: finishing in-flight requests")
		return m.http.Shutdown(sctx)
	})
	for _, mod := range m.Modules {
		g.Go(func() error {
			if err := mod.Run(gctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", mod.Name(), err)
			}
			return nil
		})
	}
	err := g.Wait()
	if cerr := m.DB.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
	}
	log.Info("stopped")
	return err
}

func (m *Main) reloadOnHUP(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			var err error
			if m.Options.ConfigDir != "" {
				if err = m.Reload(); err != nil {
					m.Options.Log.Warn("SIGHUP: config rejected; the previous config keeps serving", "err", err)
				}
			}
			if m.cert != nil {
				if cerr := m.cert.reload(); cerr != nil {
					m.Options.Log.Warn("SIGHUP: TLS certificate not reloaded; the previous one keeps serving", "err", cerr)
					err = errors.Join(err, cerr)
				} else {
					m.Options.Log.Info("TLS certificate reloaded", "cert", m.cert.certFile)
				}
			}
			if m.Options.AfterSignalReload != nil {
				m.Options.AfterSignalReload(err)
			}
		}
	}
}

// Reload loads the config directory again and, when it is valid, serves it
// (and tells the API's Reloaded hook). When it is invalid the previous
// config keeps serving and the config.Errors are returned.
func (m *Main) Reload() error {
	cfg, err := m.Config.Reload(m.Options.Clock.Now())
	if err != nil {
		return err
	}
	if m.API.Reloaded != nil {
		m.API.Reloaded(cfg)
	}
	m.Options.Log.Info("config reloaded", "services", len(cfg.Catalog.Services))
	return nil
}
