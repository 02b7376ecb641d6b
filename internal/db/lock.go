package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lock is an exclusive lock, shared by every process on the same database,
// that a singleton loop holds while it leads (a scheduler that must run on
// one replica only). Get one with TryLock and give it back with Release.
//
// On PostgreSQL it is a session advisory lock held on a connection of its
// own: if that connection dies, the server releases the lock, and Check
// reports the loss so the holder stops leading. On SQLite it is an exclusive
// flock on a file beside the database, released when the process exits.
type Lock struct {
	name string
	key  int64
	mu   sync.Mutex // one query at a time on conn
	conn *sql.Conn  // PostgreSQL
	file *os.File   // SQLite
}

// lockKey maps a lock name to a PostgreSQL advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tandem:" + name))
	return int64(h.Sum64() >> 1)
}

// TryLock takes the named lock if no one holds it and returns it; when
// another holder has it, it returns nil and no error. Names are free-form
// ("escalations", "slo-evaluation").
func (db *DB) TryLock(ctx context.Context, name string) (*Lock, error) {
	if name == "" {
		return nil, errors.New("lock: empty name")
	}
	l := &Lock{name: name, key: lockKey(name)}
	if db.dialect == Postgres {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", l.key).Scan(&ok); err != nil {
			conn.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if !ok {
			conn.Close()
			return nil, nil
		}
		l.conn = conn
		return l, nil
	}
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
	f, err := os.OpenFile(filepath.Join(db.dir, fmt.Sprintf("tandem-%s-%x.lock", safe, uint64(l.key)&0xffff)), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	l.file = f
	return l, nil
}

// Check returns nil while the lock is still held. On PostgreSQL it asks the
// server over the lock's connection; an error means the lock may be lost and
// the holder must stop acting as leader (and Release it).
func (l *Lock) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		if l.file == nil {
			return fmt.Errorf("lock %s: released", l.name)
		}
		return nil
	}
	var held bool
	err := l.conn.QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND ((classid::bigint << 32) | objid::bigint) = $1)",
		l.key).Scan(&held)
	if err != nil {
		return fmt.Errorf("lock %s: %w", l.name, err)
	}
	if !held {
		return fmt.Errorf("lock %s: no longer held", l.name)
	}
	return nil
}

// Release gives the lock back. It is safe to call more than once.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.conn != nil:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.key)
		err = errors.Join(err, l.conn.Close())
		l.conn = nil
		return err
	case l.file != nil:
		err := errors.Join(syscall.Flock(int(l.file.Fd()), syscall.LOCK_UN), l.file.Close())
		l.file = nil
		return err
	}
	return nil
}

type lockKeyCtx struct{}

// WithLock returns a context that carries l: every write made through DB
// with it (InTx, Exec) first checks that l is still held, so a singleton
// loop that lost its lock stops writing. A nil l returns ctx unchanged.
func WithLock(ctx context.Context, l *Lock) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, lockKeyCtx{}, l)
}

// checkLock runs Check on the lock ctx carries, if any.
func checkLock(ctx context.Context) error {
	l, ok := ctx.Value(lockKeyCtx{}).(*Lock)
	if !ok {
		return nil
	}
	return l.Check(ctx)
}
