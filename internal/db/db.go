// Package db opens tandem's database — an embedded SQLite file by default,
// PostgreSQL for scale — and hides the few differences between the two.
//
// Every query in tandem is written once, with ? placeholders, in SQL that
// both engines accept (timestamps as BIGINT Unix milliseconds, JSON as TEXT,
// ON CONFLICT upserts, RETURNING). DB and Tx rewrite the placeholders for
// PostgreSQL. What cannot be written portably is a method on Dialect.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine.
type Dialect int

// The two engines tandem runs on.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// SkipLocked returns the clause that makes a SELECT claim rows that no other
// transaction holds: " FOR UPDATE SKIP LOCKED" on PostgreSQL. SQLite has a
// single writer, so a write transaction already excludes every other one and
// the clause is empty.
func (d Dialect) SkipLocked() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// JSONObjectPairs returns a table expression with one row (key, value)
// per member of a JSON object passed as its one ? parameter: json_each on
// SQLite, jsonb_each_text on PostgreSQL. The value is text on PostgreSQL;
// cast it (CAST(value AS BIGINT)) to compare it. It lets one query take a
// parameter per row, such as a version per name, without a VALUES list that
// grows the statement.
func (d Dialect) JSONObjectPairs() string {
	if d == Postgres {
		return "jsonb_each_text(CAST(? AS jsonb))"
	}
	return "json_each(?)"
}

// Options says which database to open.
type Options struct {
	// URL is a postgres:// or postgresql:// URL. Empty means SQLite.
	URL string
	// DataDir holds the SQLite file (tandem.db) when URL is empty.
	DataDir string
	// MaxOpenConns caps the PostgreSQL pool (default 16).
	MaxOpenConns int
}

// DB is an open database with tandem's schema applied.
type DB struct {
	dialect Dialect
	write   *sql.DB // SQLite: one connection, the single writer
	read    *sql.DB // SQLite: a pool of readers; PostgreSQL: same as write
	dir     string  // SQLite: the data directory
}

// Open opens the database, applies pending migrations under a lock (so two
// processes starting at once migrate once) and returns it.
func Open(ctx context.Context, opts Options) (*DB, error) {
	d, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := d.migrate(ctx, opts); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func open(ctx context.Context, opts Options) (*DB, error) {
	if opts.URL != "" {
		if !strings.HasPrefix(opts.URL, "postgres://") && !strings.HasPrefix(opts.URL, "postgresql://") {
			return nil, fmt.Errorf("database url: want postgres:// or postgresql://, got %q", redact(opts.URL))
		}
		pool, err := sql.Open("pgx", opts.URL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 16
		}
		pool.SetMaxOpenConns(n)
		pool.SetMaxIdleConns(n)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		if err := pool.PingContext(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect postgres %s: %w", redact(opts.URL), err)
		}
		return &DB{dialect: Postgres, write: pool, read: pool}, nil
	}
	dir := opts.DataDir
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, "tandem.db")
	// synchronous(FULL): a commit is on disk before it returns, so nothing
	// acknowledged is lost to a crash, even of the machine.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	return &DB{dialect: SQLite, write: w, read: r, dir: dir}, nil
}

// Dialect returns the engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.write.PingContext(ctx)
}

// Close closes every connection.
func (db *DB) Close() error {
	var errs []error
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}

// SQL returns the underlying writer pool, for libraries that need a *sql.DB.
func (db *DB) SQL() *sql.DB { return db.write }

// Query runs a read-only query outside any transaction. On SQLite it runs on
// a reader connection, so it never waits for the writer.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.dialect.Rebind(query), args...)
}

// QueryRow is Query for at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.dialect.Rebind(query), args...)
}

// Exec runs one statement in its own transaction.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := checkLock(ctx); err != nil {
		return nil, err
	}
	return db.write.ExecContext(ctx, db.dialect.Rebind(query), args...)
}

// Tx is a write transaction. Its methods take ? placeholders.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
}

// Dialect returns the engine.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.dialect.Rebind(query), args...)
}

// QueryRow is Query for at most one row.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.dialect.Rebind(query), args...)
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.dialect.Rebind(query), args...)
}

// Prepare prepares a statement for repeated use in the transaction (batch
// inserts).
func (tx *Tx) Prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return tx.tx.PrepareContext(ctx, tx.dialect.Rebind(query))
}

// InTx runs fn in a write transaction and commits when it returns nil. Any
// error (or panic) rolls back, and the error is returned as it is, so an
// application *tandem.Error from fn reaches the caller unchanged. When ctx
// carries a singleton loop's lock (WithLock), InTx and Exec check first
// that it is still held.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) (err error) {
	if err := checkLock(ctx); err != nil {
		return err
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(&Tx{tx: sqlTx, dialect: db.dialect}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Rebind turns ? placeholders into $1, $2… for PostgreSQL, leaving alone a ?
// inside a string literal (a doubled quote in it included), a quoted
// identifier ("a?b"), a line comment (-- why?) or a block comment
// (/* why? */). An unterminated literal or comment runs to the end of the
// query, as the server would read it.
// SQLite takes ? as it is, so its queries are returned unchanged. SQLite's
// numbered parameters (?1) are not portable and not supported.
func (d Dialect) Rebind(query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		// end is the index just past the span that starts at i and must be
		// copied as it is (a literal or comment), or i when there is none.
		end := i
		switch {
		case c == '\'' || c == '"':
			// A doubled quote inside is an escaped one: it closes and
			// reopens the span, which copies the same bytes.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				end = len(query)
			} else {
				end = i + 1 + j + 1
			}
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				end = len(query)
			} else {
				end = i + j + 1
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				end = len(query)
			} else {
				end = i + 2 + j + 2
			}
		}
		if end > i {
			b.WriteString(query[i:end])
			i = end
			continue
		}
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		} else {
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Millis returns t as Unix milliseconds, the one time format in the schema.
// The zero time is stored as 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time returns the time for Unix milliseconds ms, in UTC; 0 is the zero time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// redact hides the password in a database URL, so it never reaches a log.
func redact(url string) string {
	at := strings.LastIndexByte(url, '@')
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	userinfo := url[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return url[:scheme+3] + userinfo[:i] + ":xxxxx" + url[at:]
	}
	return url
}

// Redact returns a database URL with its password hidden, for logs.
func Redact(url string) string { return redact(url) }
