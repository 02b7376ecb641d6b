package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tandemhq/tandem"
)

// TableCount is how many rows one table holds.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// schemaTable is goose's own table: each database keeps its own.
const schemaTable = "goose_db_version"

// CopyToPostgres copies every table of src, an embedded SQLite database,
// into dst, a PostgreSQL database that holds no rows yet, and returns each
// table's row count. Both must be at the same schema version (Open
// migrates both to this binary's).
//
// The source is read in one read transaction, so the copy is a consistent
// snapshot even while `tandem serve` keeps writing. The target is written
// in one transaction: tables in foreign-key order through COPY, every
// sequence set past the highest id the source ever handed out (so no id
// is reused, even of a deleted row), and each table's count compared with
// the source's before the commit. Any error rolls everything back and
// leaves the target empty.
func CopyToPostgres(ctx context.Context, src, dst *DB) ([]TableCount, error) {
	if src.dialect != SQLite || dst.dialect != Postgres {
		return nil, fmt.Errorf("copy: want SQLite to PostgreSQL, got %s to %s", src.dialect, dst.dialect)
	}
	sv, err := src.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("source schema version: %w", err)
	}
	dv, err := dst.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("target schema version: %w", err)
	}
	if sv != dv {
		return nil, fmt.Errorf("copy: the source is at schema version %d and the target at %d; both must be opened by the same tandem", sv, dv)
	}

	fresh, err := freshRows(ctx)
	if err != nil {
		return nil, err
	}

	stx, err := src.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer stx.Rollback() //nolint:errcheck // read-only; nothing to keep
	tables, err := sqliteTables(ctx, stx)
	if err != nil {
		return nil, err
	}

	conn, err := dst.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	defer conn.Close()
	var counts []TableCount
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("target: unexpected driver connection %T", dc)
		}
		pc := sc.Conn()
		ptx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("target: %w", err)
		}
		defer ptx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
		counts, err = copyTables(ctx, stx, ptx, tables, fresh)
		if err != nil {
			return err
		}
		if err := setSequences(ctx, stx, ptx); err != nil {
			return err
		}
		if err := ptx.Commit(ctx); err != nil {
			return fmt.Errorf("target: commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// sqliteTables lists the source's tables in foreign-key order (a table
// after every table it references), by name among equals.
func sqliteTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY name`, schemaTable)
	if err != nil {
		return nil, fmt.Errorf("source tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	deps := map[string][]string{}
	for _, n := range names {
		r, err := tx.QueryContext(ctx, `SELECT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", n, err)
		}
		for r.Next() {
			var ref string
			if err := r.Scan(&ref); err != nil {
				r.Close()
				return nil, err
			}
			if ref != n && !slices.Contains(deps[n], ref) {
				deps[n] = append(deps[n], ref)
			}
		}
		r.Close()
		if err := r.Err(); err != nil {
			return nil, err
		}
	}
	var order []string
	done := map[string]bool{}
	for len(order) < len(names) {
		progressed := false
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for _, d := range deps[n] {
				if !done[d] && slices.Contains(names, d) {
					ready = false
				}
			}
			if ready {
				order = append(order, n)
				done[n] = true
				progressed = true
			}
		}
		if !progressed {
			return nil, errors.New("source tables: foreign keys form a cycle")
		}
	}
	return order, nil
}

// freshRows returns, per table, the rows that the migrations themselves
// write (a lock row, say), as rowKey strings sorted: what an unused
// database holds. It migrates a scratch SQLite database to find them.
func freshRows(ctx context.Context) (map[string][]string, error) {
	dir, err := os.MkdirTemp("", "tandem-copy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	defer d.Close()
	tx, err := d.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	tables, err := sqliteTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, t := range tables {
		cols, err := sqliteColumns(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		sort.Strings(cols)
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = `"` + c + `"`
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+t+`"`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			out[t] = append(out[t], rowKey(vals))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		sort.Strings(out[t])
	}
	return out, nil
}

// rowKey writes a row's values (columns in name order) as one string that
// is the same on both engines: booleans as 0/1, bytes as text.
func rowKey(vals []any) string {
	var b strings.Builder
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b.WriteString("NULL")
		case bool:
			if x {
				b.WriteString("1")
			} else {
				b.WriteString("0")
			}
		case []byte:
			fmt.Fprintf(&b, "%q", x)
		case string:
			fmt.Fprintf(&b, "%q", x)
		case float64:
			fmt.Fprintf(&b, "%g", x)
		default:
			fmt.Fprintf(&b, "%v", x)
		}
		b.WriteByte('|')
	}
	return b.String()
}

// asMigrated reports whether a target table holds exactly the rows the
// migrations wrote (usually none): a table anyone has used differs.
func asMigrated(ctx context.Context, ptx pgx.Tx, table string, cols []pgColumn, fresh []string) (bool, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = pgx.Identifier{n}.Sanitize()
	}
	// One row more than the migrations wrote is enough to tell.
	rows, err := ptx.Query(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+pgx.Identifier{table}.Sanitize()+` LIMIT $1`, len(fresh)+1)
	if err != nil {
		return false, fmt.Errorf("target %s: %w", table, err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return false, fmt.Errorf("target %s: %w", table, err)
		}
		got = append(got, rowKey(vals))
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("target %s: %w", table, err)
	}
	sort.Strings(got)
	return slices.Equal(got, fresh), nil
}

// pgColumn is a target column and its type.
type pgColumn struct{ name, typ string }

func pgColumns(ctx context.Context, tx pgx.Tx) (map[string][]pgColumn, error) {
	rows, err := tx.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> $1
		ORDER BY c.table_name, c.ordinal_position`, schemaTable)
	if err != nil {
		return nil, fmt.Errorf("target columns: %w", err)
	}
	defer rows.Close()
	out := map[string][]pgColumn{}
	for rows.Next() {
		var t string
		var c pgColumn
		if err := rows.Scan(&t, &c.name, &c.typ); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}

func sqliteColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// copyTables checks that the target has the source's tables and columns
// and no rows, then copies each table and compares the counts.
func copyTables(ctx context.Context, stx *sql.Tx, ptx pgx.Tx, tables []string, fresh map[string][]string) ([]TableCount, error) {
	cols, err := pgColumns(ctx, ptx)
	if err != nil {
		return nil, err
	}
	var missing, extra []string
	for _, t := range tables {
		if _, ok := cols[t]; !ok {
			missing = append(missing, t)
		}
	}
	for t := range cols {
		if !slices.Contains(tables, t) {
			extra = append(extra, t)
		}
	}
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		return nil, fmt.Errorf("copy: the schemas differ: tables only in the source: %v; only in the target: %v", missing, extra)
	}
	for _, t := range tables {
		same, err := asMigrated(ctx, ptx, t, cols[t], fresh[t])
		if err != nil {
			return nil, err
		}
		if !same {
			return nil, tandem.Errorf(tandem.EConflict, "the target database is not empty: table %s has rows; copy only into a database that tandem has not used (create a new one)", t)
		}
		if len(fresh[t]) > 0 {
			// Rows the migrations wrote; the source has its own.
			if _, err := ptx.Exec(ctx, `DELETE FROM `+pgx.Identifier{t}.Sanitize()); err != nil {
				return nil, fmt.Errorf("target %s: %w", t, err)
			}
		}
	}
	var counts []TableCount
	for _, t := range tables {
		sc, err := sqliteColumns(ctx, stx, t)
		if err != nil {
			return nil, err
		}
		pc := cols[t]
		names := make([]string, len(pc))
		for i, c := range pc {
			names[i] = c.name
		}
		a, b := slices.Clone(sc), slices.Clone(names)
		sort.Strings(a)
		sort.Strings(b)
		if !slices.Equal(a, b) {
			return nil, fmt.Errorf("copy: table %s has columns %v in the source and %v in the target", t, sc, names)
		}
		n, err := copyTable(ctx, stx, ptx, t, pc)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t, err)
		}
		var srcN, dstN int64
		if err := stx.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+t+`"`).Scan(&srcN); err != nil {
			return nil, fmt.Errorf("count source %s: %w", t, err)
		}
		if err := ptx.QueryRow(ctx, `SELECT COUNT(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&dstN); err != nil {
			return nil, fmt.Errorf("count target %s: %w", t, err)
		}
		if srcN != n || dstN != n {
			return nil, fmt.Errorf("copy %s: the source has %d rows, %d were read and the target has %d", t, srcN, n, dstN)
		}
		counts = append(counts, TableCount{Table: t, Rows: n})
	}
	return counts, nil
}

// copyTable streams one table from the source into the target with COPY.
func copyTable(ctx context.Context, stx *sql.Tx, ptx pgx.Tx, table string, cols []pgColumn) (int64, error) {
	quoted := make([]string, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c.name + `"`
		names[i] = c.name
	}
	rows, err := stx.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+table+`" ORDER BY rowid`)
	if err != nil {
		// A WITHOUT ROWID table has no rowid; its order does not matter.
		rows, err = stx.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+table+`"`)
		if err != nil {
			return 0, err
		}
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var convErr error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			c, err := convert(v, cols[i].typ)
			if err != nil {
				convErr = fmt.Errorf("column %s: %w", cols[i].name, err)
				return nil, convErr
			}
			out[i] = c
		}
		return out, nil
	})
	n, err := ptx.CopyFrom(ctx, pgx.Identifier{table}, names, src)
	if convErr != nil {
		return n, convErr
	}
	return n, err
}

// convert turns a value as SQLite returns it into what the PostgreSQL
// column takes: SQLite has no booleans (0/1) and hands text and blobs
// back as either type.
func convert(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch pgType {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "text", "character varying", "json", "jsonb":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
	case "double precision", "real", "numeric":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("cannot store %T %v in a %s column", v, v, pgType)
}

// setSequences sets every sequence that owns a target column past the
// highest value the source used: the column's maximum, or SQLite's
// AUTOINCREMENT high-water mark when rows were deleted since.
func setSequences(ctx context.Context, stx *sql.Tx, ptx pgx.Tx) error {
	rows, err := ptx.Query(ctx, `SELECT table_name, column_name, seq FROM (
			SELECT c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) AS seq
			FROM information_schema.columns c WHERE c.table_schema = current_schema() AND c.table_name <> $1
		) s WHERE seq IS NOT NULL ORDER BY table_name`, schemaTable)
	if err != nil {
		return fmt.Errorf("target sequences: %w", err)
	}
	type seqCol struct{ table, column, seq string }
	var seqs []seqCol
	for rows.Next() {
		var s seqCol
		if err := rows.Scan(&s.table, &s.column, &s.seq); err != nil {
			rows.Close()
			return err
		}
		seqs = append(seqs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	hasSeqTable := false
	var one int
	if err := stx.QueryRowContext(ctx, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'`).Scan(&one); err == nil {
		hasSeqTable = true
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for _, s := range seqs {
		var high int64
		if err := ptx.QueryRow(ctx, `SELECT COALESCE(MAX(`+pgx.Identifier{s.column}.Sanitize()+`), 0) FROM `+pgx.Identifier{s.table}.Sanitize()).Scan(&high); err != nil {
			return fmt.Errorf("sequence of %s.%s: %w", s.table, s.column, err)
		}
		if hasSeqTable {
			var used int64
			err := stx.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, s.table).Scan(&used)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite_sequence of %s: %w", s.table, err)
			}
			high = max(high, used)
		}
		// setval(seq, n, true) makes the next value n+1; with no rows
		// ever, (1, false) makes it 1.
		if _, err := ptx.Exec(ctx, `SELECT setval($1, $2, $3)`, s.seq, max(high, 1), high > 0); err != nil {
			return fmt.Errorf("set sequence of %s.%s: %w", s.table, s.column, err)
		}
	}
	return nil
}
