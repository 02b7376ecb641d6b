package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/demo"
)

// get fetches path from a server and returns the body, failing on a
// non-200 answer.
func get(t *testing.T, s *apptest.Server, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

// The demo's 90 days of history, copied from SQLite into PostgreSQL with
// `tandem db copy` while the SQLite server runs, answer the same DORA
// report, SLO status and incident list; the sequences go on past the
// copied ids; a second copy into the now used database is refused,
// naming a table with rows.
func TestDBCopyDemoHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 90 days of demo history")
	}
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	src := apptest.Start(t, apptest.Options{Manual: true, Clock: clk, Quiet: true})
	start := time.Now()
	if err := demo.Seed(ctx, src.Main, clk.Now(), 90); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo seeded in %s", time.Since(start))
	// The copy brings the source's tokens along; the second server makes
	// its own admin token under the same name.
	if _, err := src.Main.DB.Exec(ctx, "UPDATE api_tokens SET name = 'sqlite-admin' WHERE name = 'test-admin'"); err != nil {
		t.Fatal(err)
	}
	url := dbtest.PostgresURL(t)
	start = time.Now()
	code, out, errOut := run(t, "db", "copy", "--from-data-dir", src.Main.Options.DataDir, "--to-database-url", url)
	if code != 0 {
		t.Fatalf("db copy: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("copied in %s:\n%s%s", time.Since(start), out, errOut)
	for _, table := range []string{"incidents", "change_events", "incident_services", "jobs"} {
		if !strings.Contains(out, table) {
			t.Errorf("the copy's table has no %s:\n%s", table, out)
		}
	}

	dst := apptest.Start(t, apptest.Options{Manual: true, Clock: clk, DatabaseURL: url, Quiet: true})
	for _, path := range []string{
		"/api/v1/dora", "/api/v1/dora?window=90d", "/api/v1/dora/services",
		"/api/v1/slos", "/api/v1/incidents?limit=10000",
		"/api/v1/changes?limit=10000", "/api/v1/actions", "/api/v1/postmortems",
	} {
		a, b := get(t, src, path), get(t, dst, path)
		if !bytes.Equal(a, b) {
			t.Errorf("GET %s differs:\nsqlite:   %.600s\npostgres: %.600s", path, a, b)
		}
		if testing.Verbose() {
			t.Logf("GET %s: %.300s", path, a)
		}
		if len(a) < 40 {
			t.Errorf("GET %s answered almost nothing: %s", path, a)
		}
	}
	var incs struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(get(t, dst, "/api/v1/incidents?limit=10000"), &incs); err != nil || len(incs.Items) < 20 {
		t.Fatalf("incidents on postgres: %v, %d", err, len(incs.Items))
	}
	var maxID int64
	for _, i := range incs.Items {
		maxID = max(maxID, i.ID)
	}
	// A new incident on PostgreSQL takes the next id, not a copied one.
	req, _ := http.NewRequest("POST", dst.URL+"/api/v1/incidents", strings.NewReader(`{"title":"after the move","services":["checkout"],"severity":"sev4"}`))
	req.Header.Set("Authorization", "Bearer "+dst.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || json.Unmarshal(b, &created) != nil || created.ID <= maxID {
		t.Fatalf("new incident after the copy: %d %s (highest copied id %d)", resp.StatusCode, b, maxID)
	}

	code, _, errOut = run(t, "db", "copy", "--from-data-dir", src.Main.Options.DataDir, "--to-database-url", url)
	if code != 1 || !strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "has rows") {
		t.Errorf("copy into a used database: exit %d, %q; want a refusal naming a table", code, errOut)
	}
}

// `tandem db copy` refuses a data directory without a database (and
// creates none there) and checks its flags.
func TestDBCopyRefusals(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, "db", "copy", "--from-data-dir", dir, "--to-database-url", "postgres://127.0.0.1:1/none")
	if code != 1 || !strings.Contains(errOut, "no tandem database") {
		t.Errorf("missing source: exit %d, %q", code, errOut)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the refused copy wrote %v into the source directory", ents)
	}
	if code, _, errOut := run(t, "db", "copy", "--to-database-url", "postgres://x/y"); code != 1 || !strings.Contains(errOut, "--from-data-dir") {
		t.Errorf("no source flag: exit %d, %q", code, errOut)
	}
}

// `tandem db backup` copies the database while the server runs and
// writes to it, the copy opens as a tandem database with the rows
// committed before it, and an existing file is never overwritten.
func TestDBBackupWhileServing(t *testing.T) {
	ctx := context.Background()
	s := apptest.Start(t, apptest.Options{})
	dataDir := s.Main.Options.DataDir
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		// Writes keep coming while the backup runs.
		n := 0
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("POST", s.URL+"/api/v1/changes", strings.NewReader(`{"service":"checkout","version":"1.2.3"}`))
			req.Header.Set("Authorization", "Bearer "+s.AdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode < 300 {
				n++
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	out := filepath.Join(t.TempDir(), "tandem-backup.db")
	code, stdout, errOut := run(t, "db", "backup", "--data-dir", dataDir, "--out", out)
	close(stop)
	written := <-done
	if code != 0 {
		t.Fatalf("backup: exit %d %s %s", code, stdout, errOut)
	}
	if written == 0 {
		t.Fatal("no writes ran beside the backup")
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	c, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var tokens, changes int
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_tokens").Scan(&tokens); err != nil || tokens != 1 {
		t.Errorf("backup has %d tokens (%v), want the server's 1", tokens, err)
	}
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM change_events").Scan(&changes); err != nil || changes > written {
		t.Errorf("backup has %d changes (%v); %d were written", changes, err, written)
	}
	// Restoring is putting the file in place as tandem.db.
	restored := t.TempDir()
	if err := os.WriteFile(filepath.Join(restored, "tandem.db"), mustRead(t, out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, errOut := run(t, "token", "list", "--data-dir", restored); code != 0 || !strings.Contains(stdout, "test-admin") {
		t.Errorf("token list on the restored copy: exit %d %s %s", code, stdout, errOut)
	}
	// The same file again: refused, and the file is left as it was.
	before, _ := os.ReadFile(out)
	code, _, errOut = run(t, "db", "backup", "--data-dir", dataDir, "--out", out)
	after, _ := os.ReadFile(out)
	if code != 1 || !strings.Contains(errOut, "exists") || !bytes.Equal(before, after) {
		t.Errorf("second backup to the same file: exit %d, %q (file changed: %t)", code, errOut, !bytes.Equal(before, after))
	}
	code, _, errOut = run(t, "db", "backup", "--data-dir", t.TempDir(), "--out", filepath.Join(t.TempDir(), "x.db"))
	if code != 1 || !strings.Contains(errOut, "no tandem database") {
		t.Errorf("backup of an empty directory: exit %d, %q", code, errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
