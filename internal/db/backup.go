package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tandemhq/tandem"
)

// OpenExisting opens the SQLite database in dataDir as it is: it must
// exist (nothing is created) and no migration is applied, so a backup
// never changes the database it copies.
func OpenExisting(ctx context.Context, dataDir string) (*DB, error) {
	path := filepath.Join(dataDir, "tandem.db")
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, tandem.Errorf(tandem.ENotFound, "no tandem database in %s (want %s)", dataDir, path)
		}
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, tandem.Errorf(tandem.EInvalid, "%s is not a file", path)
	}
	return open(ctx, Options{DataDir: dataDir})
}

// BackupInfo describes a finished backup.
type BackupInfo struct {
	Path          string `json:"path"`
	Bytes         int64  `json:"bytes"`
	SchemaVersion int64  `json:"schema_version"`
}

// Backup writes a consistent copy of the SQLite database to path with
// VACUUM INTO, while other processes (a running `tandem serve`) keep
// reading and writing: the copy is the database as of one transaction.
// It refuses a path that exists, and the file it writes is readable by
// its owner only. The copy is checked (PRAGMA quick_check) before Backup
// returns.
func (db *DB) Backup(ctx context.Context, path string) (BackupInfo, error) {
	if db.dialect != SQLite {
		return BackupInfo{}, errors.New("backup: only the embedded SQLite database; back up PostgreSQL with pg_dump or continuous archiving (docs/scaling.md)")
	}
	if _, err := os.Lstat(path); err == nil {
		return BackupInfo{}, tandem.Errorf(tandem.EConflict, "%s exists; a backup never overwrites a file (choose a new name)", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return BackupInfo{}, err
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return BackupInfo{}, tandem.Errorf(tandem.EInvalid, "%s: no such directory", filepath.Dir(path))
	}
	// A reader connection: VACUUM INTO only reads the source, and a
	// reader never waits for the writer.
	if _, err := db.read.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	fail := func(err error) (BackupInfo, error) {
		_ = os.Remove(path)
		return BackupInfo{}, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	info, err := checkBackup(ctx, path)
	if err != nil {
		return fail(err)
	}
	return info, nil
}

// checkBackup opens the copy read-only, checks it and reads its schema
// version.
func checkBackup(ctx context.Context, path string) (BackupInfo, error) {
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check backup: %w", err)
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return BackupInfo{}, fmt.Errorf("check backup: %w", err)
	}
	if res != "ok" {
		return BackupInfo{}, fmt.Errorf("check backup: quick_check says %q", res)
	}
	info := BackupInfo{Path: path}
	if err := c.QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM "+schemaTable+" WHERE is_applied").Scan(&info.SchemaVersion); err != nil {
		return BackupInfo{}, fmt.Errorf("check backup: schema version: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	info.Bytes = st.Size()
	return info, nil
}
