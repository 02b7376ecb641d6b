package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// started runs m until the returned cancel is called; wait returns Run's
// error.
func started(t *testing.T, m *app.Main) (cancel func(), wait func() error) {
	t.Helper()
	if err := m.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	var err error
	wait = func() error {
		once.Do(func() { err = <-done })
		return err
	}
	t.Cleanup(func() { cancel(); wait() })
	return cancel, wait
}

// An in-flight request finishes when the server is told to stop; then Run
// returns and the database is closed.
func TestGracefulShutdown(t *testing.T) {
	inside := make(chan struct{})
	release := make(chan struct{})
	m, err := app.New(context.Background(), app.Options{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Log: quiet(),
		WrapHandler: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/slow" {
					next.ServeHTTP(w, r)
					return
				}
				close(inside)
				<-release
				if r.Context().Err() != nil {
					http.Error(w, "cancelled", 500)
					return
				}
				io.WriteString(w, "finished")
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cancel, wait := started(t, m)
	type answer struct {
		code int
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get(m.URL() + "/slow")
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, string(b), err}
	}()
	<-inside
	cancel() // as SIGTERM does in `tandem serve`
	stopped := make(chan error, 1)
	go func() { stopped <- wait() }()
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) while a request was in flight", err)
	case <-got:
		t.Fatal("the in-flight request ended before it was released")
	default:
	}
	close(release)
	a := <-got
	if a.err != nil || a.code != 200 || a.body != "finished" {
		t.Errorf("in-flight request: %d %q %v; want 200 finished", a.code, a.body, a.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Run: %v", err)
	}
	if err := m.DB.Ping(context.Background()); err == nil {
		t.Error("database still open after Run returned")
	}
	if _, err := http.Get(m.URL() + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

func TestSIGHUPReload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tandem.d")
	if err := os.CopyFS(dir, os.DirFS(apptest.ExamplesDir(t))); err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan error, 1)
	m, err := app.New(context.Background(), app.Options{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), ConfigDir: dir, Log: quiet(),
		HandleSignals: true, AfterSignalReload: func(err error) { reloaded <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	started(t, m)
	// Run has registered for SIGHUP once the server answers.
	if resp, err := http.Get(m.URL() + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	before := m.Config.Get()
	os.WriteFile(filepath.Join(dir, "more.yaml"), []byte("services: [{name: ledger, team: payments}]\n"), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := <-reloaded; err != nil {
		t.Fatalf("SIGHUP reload: %v", err)
	}
	if _, ok := m.Config.Get().Catalog.Service("ledger"); !ok {
		t.Error("SIGHUP did not serve the new config")
	}
	good := m.Config.Get()
	if good == before {
		t.Error("config not swapped")
	}
	os.WriteFile(filepath.Join(dir, "more.yaml"), []byte("services: [{name: ledger, team: nobody}]\n"), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := <-reloaded; err == nil || !strings.Contains(err.Error(), `team "nobody" does not exist`) {
		t.Fatalf("invalid config on SIGHUP: %v", err)
	}
	if m.Config.Get() != good {
		t.Error("an invalid config replaced the serving one")
	}
}

// Two servers started at the same moment on one empty PostgreSQL database
// both come up, and each migration is applied once.
func TestTwoServersOnePostgres(t *testing.T) {
	url := dbtest.PostgresURL(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	mains := make([]*app.Main, 2)
	errs := make([]error, 2)
	for i := range mains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			mains[i], errs[i] = app.New(context.Background(), app.Options{
				Listen: "127.0.0.1:0", DatabaseURL: url, ConfigDir: apptest.ExamplesDir(t), Log: quiet(),
			})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	for _, m := range mains {
		started(t, m)
		resp, err := http.Get(m.URL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s/readyz: %d", m.URL(), resp.StatusCode)
		}
	}
	rows, err := mains[0].DB.Query(context.Background(), "SELECT version_id, COUNT(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v, c int64
		rows.Scan(&v, &c)
		if c != 1 {
			t.Errorf("migration %d applied %d times", v, c)
		}
		n++
	}
	if n == 0 {
		t.Error("no migrations recorded")
	}
}

func TestInvalidConfigStopsStart(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("services: [{name: x, team: nobody}]\n"), 0o644)
	_, err := app.New(context.Background(), app.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), ConfigDir: dir, Log: quiet()})
	if err == nil || !strings.Contains(err.Error(), `team "nobody" does not exist`) {
		t.Errorf("New with an invalid config: %v", err)
	}
	_, err = app.New(context.Background(), app.Options{Listen: "127.0.0.1:0", DatabaseURL: "postgres://127.0.0.1:1/x?connect_timeout=1", Log: quiet()})
	if err == nil {
		t.Error("New with an unreachable database succeeded")
	}
}

func TestListenBusyPort(t *testing.T) {
	a, err := app.New(context.Background(), app.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.DB.Close()
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	b, err := app.New(context.Background(), app.Options{Listen: a.Addr(), DataDir: t.TempDir(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.DB.Close()
	if err := b.Listen(); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("second Listen on %s: %v", a.Addr(), err)
	}
}
