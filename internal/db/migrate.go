package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"
)

// migrationLockKey is the PostgreSQL advisory lock key that serialises
// migrations ("tandem-migrate" in ASCII, truncated to 63 bits).
const migrationLockKey int64 = 0x74616e64656d6d

// Migrations are numbered NNNNN_name.sql files in goose's format, written in
// the SQL both engines accept, with two exceptions rewritten for SQLite here:
// "BIGSERIAL PRIMARY KEY" becomes "INTEGER PRIMARY KEY AUTOINCREMENT", and
// the column type "BYTEA" (PostgreSQL's bytes) becomes "BLOB".
// What cannot be written once (a JSON function in a backfill) goes in
// blocks marked "-- +tandem postgres" and "-- +tandem sqlite", each running
// to the next marker or "-- +tandem end"; a dialect keeps only its own.
// A migration is never edited once merged; a change is a new file.
//
// Numbers are handed out in ranges, so a release may bring a migration
// numbered below one a database already has; they are applied out of
// order (each one stands alone), never refused as missing.
//
//go:embed migrations/*.sql
var migrations embed.FS

// bytea matches the column type BYTEA as a word.
var bytea = regexp.MustCompile(`\bBYTEA\b`)

// migrationFS returns the migrations as the dialect needs them.
func migrationFS(d Dialect) (fs.FS, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	for _, name := range files {
		b, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		text := dialectBlocks(string(b), d)
		if d == SQLite {
			text = strings.ReplaceAll(text, "BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
			text = bytea.ReplaceAllString(text, "BLOB")
		}
		out[filepath.Base(name)] = &fstest.MapFile{Data: []byte(text), Mode: 0o444}
	}
	return out, nil
}

// dialectBlocks keeps the lines of text outside "-- +tandem <dialect>"
// blocks and those inside d's own blocks.
func dialectBlocks(text string, d Dialect) string {
	var b strings.Builder
	keep := true
	for _, l := range strings.SplitAfter(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "-- +tandem "); ok {
			rest = strings.TrimSpace(rest)
			keep = rest == "end" || rest == d.String()
			continue
		}
		if keep {
			b.WriteString(l)
		}
	}
	return b.String()
}

// migrate applies every pending migration. On PostgreSQL a session advisory
// lock, taken with the blocking pg_advisory_lock on a connection of its own,
// serialises concurrent starters: the second one waits until the first has
// committed the schema, then finds nothing left to apply. On SQLite an
// exclusive flock on tandem.lock beside the database file does the same.
func (db *DB) migrate(ctx context.Context, opts Options) error {
	fsys, err := migrationFS(db.dialect)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	return db.migrateFS(ctx, opts, fsys)
}

// migrateFS applies the migrations in fsys under the migration lock.
func (db *DB) migrateFS(ctx context.Context, opts Options, fsys fs.FS) error {
	var (
		dialect   goose.Dialect
		providerO = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true)}
	)
	switch db.dialect {
	case Postgres:
		dialect = goose.DialectPostgres
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer func() {
			// A fresh context: the unlock must run even when ctx ended.
			uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", migrationLockKey)
		}()
	default:
		dialect = goose.DialectSQLite3
		dir := opts.DataDir
		if dir == "" {
			dir = "."
		}
		f, err := os.OpenFile(filepath.Join(dir, "tandem.lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return fmt.Errorf("migration lock: %w", err)
		}
		defer func() {
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}()
	}
	p, err := goose.NewProvider(dialect, db.write, fsys, providerO...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := db.refuseNewerSchema(ctx, p); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// refuseNewerSchema refuses a database that a newer release migrated: one
// with an applied migration this binary does not have. An older binary
// would otherwise write to a schema it does not know. A database without
// goose's table yet is new and passes.
func (db *DB) refuseNewerSchema(ctx context.Context, p *goose.Provider) error {
	known := map[int64]bool{}
	for _, s := range p.ListSources() {
		known[s.Version] = true
	}
	rows, err := db.write.QueryContext(ctx, db.dialect.Rebind("SELECT DISTINCT version_id FROM goose_db_version WHERE version_id > 0 AND is_applied = ?"), true)
	if err != nil {
		return nil // no version table yet: a new database
	}
	defer rows.Close()
	var unknown []string
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("schema versions: %w", err)
		}
		if !known[v] {
			unknown = append(unknown, fmt.Sprintf("%05d", v))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("schema versions: %w", err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the database has schema migrations this tandem does not know (%s): a newer release has run on it; run that release, or restore the backup taken before the upgrade",
			strings.Join(unknown, ", "))
	}
	return nil
}

// SchemaVersion returns the highest applied migration version.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.QueryRow(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied = ?", true).Scan(&v)
	return v, err
}

// Migrations returns the embedded migration files (migrations/*.sql) as
// written, for tests and tools that list them.
func Migrations() fs.FS { return migrations }
