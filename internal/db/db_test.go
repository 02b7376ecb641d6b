package db_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// latestMigration is the highest version among the embedded files.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	names, err := fs.Glob(db.Migrations(), "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var max int64
	for _, n := range names {
		v, err := strconv.ParseInt(strings.SplitN(filepath.Base(n), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: bad version: %v", n, err)
		}
		max = maxInt(max, v)
	}
	return max
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func TestMigrationsApply(t *testing.T) {
	want := latestMigration(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v, err := d.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != want {
			t.Errorf("schema version %d, want %d", v, want)
		}
		// The foundation's table exists and takes a row.
		if _, err := d.Exec(ctx, "INSERT INTO api_tokens (name, scope, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)", "n", "read", "h", "p", 1); err != nil {
			t.Fatal(err)
		}
		// Every version is recorded exactly once.
		rows, err := d.Query(ctx, "SELECT version_id, COUNT(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var v, n int64
			if err := rows.Scan(&v, &n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("version %d recorded %d times", v, n)
			}
		}
	})
}

func TestReopenIsNoOp(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		d, err := db.Open(ctx, db.Options{DataDir: dir})
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if _, err := d.Exec(ctx, "INSERT INTO api_tokens (name, scope, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)", fmt.Sprint("n", i), "read", fmt.Sprint("h", i), "p", 1); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM api_tokens").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Errorf("open #%d: %d rows, want %d (data must survive a restart)", i+1, n, i+1)
		}
		d.Close()
	}
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)", "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"},
		{"SELECT '?' , ?", "SELECT '?' , $1"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT "odd?name" FROM t WHERE x = ?`, `SELECT "odd?name" FROM t WHERE x = $1`},
		{"SELECT ? -- why?\nFROM t WHERE y = ?", "SELECT $1 -- why?\nFROM t WHERE y = $2"},
		{"SELECT ? -- trailing?", "SELECT $1 -- trailing?"},
		{"SELECT /* a ? b */ ?", "SELECT /* a ? b */ $1"},
		{"SELECT /* unterminated ?", "SELECT /* unterminated ?"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT a - ? FROM t", "SELECT a - $1 FROM t"},
		{"SELECT a / ? FROM t", "SELECT a / $1 FROM t"},
		{"SELECT ?-1", "SELECT $1-1"},
		{"?", "$1"},
		{"", ""},
		{"SELECT 'é?', ?", "SELECT 'é?', $1"},
	}
	for _, tt := range tests {
		if got := db.Postgres.Rebind(tt.in); got != tt.want {
			t.Errorf("Postgres.Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := db.SQLite.Rebind(tt.in); got != tt.in {
			t.Errorf("SQLite.Rebind(%q) = %q, want it unchanged", tt.in, got)
		}
	}
}

// scratch makes a table for the test on either engine.
func scratch(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.Exec(context.Background(), "CREATE TABLE scratch (id BIGINT PRIMARY KEY, v TEXT NOT NULL UNIQUE)"); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM scratch").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInTx(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		scratch(t, d)
		insert := func(tx *db.Tx, id int, v string) error {
			_, err := tx.Exec(ctx, "INSERT INTO scratch (id, v) VALUES (?, ?)", id, v)
			return err
		}

		if err := d.InTx(ctx, func(tx *db.Tx) error { return insert(tx, 1, "a") }); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d); n != 1 {
			t.Fatalf("after commit: %d rows, want 1", n)
		}

		// An error rolls back and reaches the caller as it is.
		sentinel := errors.New("stop")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := insert(tx, 2, "b"); err != nil {
				return err
			}
			return sentinel
		})
		if err != sentinel {
			t.Fatalf("InTx returned %v, want the callback's error itself", err)
		}
		if n := count(t, d); n != 1 {
			t.Errorf("after error: %d rows, want 1 (rolled back)", n)
		}

		// A panic rolls back and keeps panicking.
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v, want the panic to pass through", p)
				}
			}()
			_ = d.InTx(ctx, func(tx *db.Tx) error {
				if err := insert(tx, 3, "c"); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		if n := count(t, d); n != 1 {
			t.Errorf("after panic: %d rows, want 1 (rolled back)", n)
		}

		// The connection is usable after both (no transaction left open).
		if err := d.InTx(ctx, func(tx *db.Tx) error { return insert(tx, 4, "d") }); err != nil {
			t.Fatalf("after rollback: %v", err)
		}
		// Reads inside the transaction see its own writes; Prepare rebinds.
		err = d.InTx(ctx, func(tx *db.Tx) error {
			st, err := tx.Prepare(ctx, "INSERT INTO scratch (id, v) VALUES (?, ?)")
			if err != nil {
				return err
			}
			defer st.Close()
			for i := 10; i < 13; i++ {
				if _, err := st.ExecContext(ctx, i, fmt.Sprint("p", i)); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM scratch WHERE id >= ?", 10).Scan(&n); err != nil {
				return err
			}
			if n != 3 {
				t.Errorf("inside the transaction: %d rows, want 3", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, d); n != 5 {
			t.Errorf("at the end: %d rows, want 5", n)
		}
	})
}

func TestIsUniqueViolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		scratch(t, d)
		if _, err := d.Exec(ctx, "INSERT INTO scratch (id, v) VALUES (?, ?)", 1, "a"); err != nil {
			t.Fatal(err)
		}
		_, err := d.Exec(ctx, "INSERT INTO scratch (id, v) VALUES (?, ?)", 2, "a")
		if !db.IsUniqueViolation(err) {
			t.Errorf("duplicate unique column: IsUniqueViolation(%v) = false", err)
		}
		_, err = d.Exec(ctx, "INSERT INTO scratch (id, v) VALUES (?, ?)", 1, "b")
		if !db.IsUniqueViolation(err) {
			t.Errorf("duplicate primary key: IsUniqueViolation(%v) = false", err)
		}
		_, err = d.Exec(ctx, "INSERT INTO scratch (id, v) VALUES (?, NULL)", 3)
		if err == nil || db.IsUniqueViolation(err) {
			t.Errorf("NOT NULL violation: err %v, IsUniqueViolation must be false", err)
		}
		if db.IsUniqueViolation(nil) || db.IsUniqueViolation(errors.New("x")) {
			t.Error("IsUniqueViolation is true for a non-database error")
		}
	})
}

func TestMillisTime(t *testing.T) {
	if db.Millis(time.Time{}) != 0 || !db.Time(0).IsZero() {
		t.Error("the zero time must be stored as 0 and read back as zero")
	}
	// 2026-11-25T14:00:00.123Z = 1795615200 s + 123 ms.
	at := time.Date(2026, 11, 25, 15, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
	if got := db.Millis(at); got != 1795615200123 {
		t.Errorf("Millis = %d, want 1795615200123", got)
	}
	back := db.Time(1795615200123)
	if !back.Equal(at.Truncate(time.Millisecond)) || back.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", back, at.Truncate(time.Millisecond))
	}
	// Before 1970 still round-trips.
	old := time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)
	if !db.Time(db.Millis(old)).Equal(old) {
		t.Errorf("round trip of %v failed", old)
	}
}

// On a fresh SQLite file the read-only pool (WAL) must see what the writer
// committed, also while the writer keeps writing.
func TestSQLiteReadersSeeCommits(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	scratch(t, d)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				var n int
				if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM scratch").Scan(&n); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 1; i <= 50; i++ {
		if _, err := d.Exec(ctx, "INSERT INTO scratch (id, v) VALUES (?, ?)", i, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM scratch").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != i {
			t.Fatalf("reader sees %d rows after %d commits", n, i)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent read: %v", err)
	}
	var mode string
	if err := d.QueryRow(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	// The reader pool is read-only.
	if _, err := d.Query(ctx, "INSERT INTO scratch (id, v) VALUES (999, 'x') RETURNING id"); err == nil {
		t.Error("a write through the reader pool succeeded; it must be read-only")
	}
}

// Several processes opening one empty PostgreSQL database at the same moment
// apply each migration once: the advisory lock makes the others wait.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	const n = 4
	var wg sync.WaitGroup
	start := make(chan struct{})
	dbs := make([]*db.DB, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dbs[i], errs[i] = db.Open(ctx, db.Options{URL: url, MaxOpenConns: 4})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	assertMigratedOnce(t, dbs[0], latestMigration(t))
}

func assertMigratedOnce(t *testing.T, d *db.DB, latest int64) {
	t.Helper()
	rows, err := d.Query(context.Background(), "SELECT version_id, COUNT(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var last int64
	for rows.Next() {
		var v, c int64
		if err := rows.Scan(&v, &c); err != nil {
			t.Fatal(err)
		}
		if c != 1 {
			t.Errorf("migration %d applied %d times", v, c)
		}
		last = v
	}
	if last != latest {
		t.Errorf("latest applied migration %d, want %d", last, latest)
	}
}

func TestTryLock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, err := d.TryLock(ctx, "leader")
		if err != nil || a == nil {
			t.Fatalf("first TryLock = %v, %v; want the lock", a, err)
		}
		if err := a.Check(ctx); err != nil {
			t.Errorf("Check while held: %v", err)
		}
		b, err := d.TryLock(ctx, "leader")
		if err != nil || b != nil {
			t.Fatalf("second TryLock = %v, %v; want nil, nil while held", b, err)
		}
		other, err := d.TryLock(ctx, "other")
		if err != nil || other == nil {
			t.Fatalf("another name: %v, %v; want it free", other, err)
		}
		defer other.Release()
		if err := a.Release(); err != nil {
			t.Fatal(err)
		}
		if err := a.Release(); err != nil {
			t.Errorf("second Release: %v", err)
		}
		c, err := d.TryLock(ctx, "leader")
		if err != nil || c == nil {
			t.Fatalf("TryLock after Release = %v, %v; want the lock", c, err)
		}
		c.Release()
	})
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db", "postgres://h/db"},
		{"postgres://u:p@ss@h/db", "postgres://u:xxxxx@h/db"},
	}
	for _, tt := range tests {
		if got := db.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOpenRejectsOtherURLs(t *testing.T) {
	_, err := db.Open(context.Background(), db.Options{URL: "mysql://u:hunter2@h/db"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open(mysql://…) = %v; want an error that hides the password", err)
	}
}
