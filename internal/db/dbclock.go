package db

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
)

// NowMillis returns the SQL expression for the database's current time in
// Unix milliseconds: the one clock every replica agrees on.
func (d Dialect) NowMillis() string {
	if d == Postgres {
		// now() (the transaction's start) is stable within a statement,
		// so comparisons with it use indexes; clock_timestamp() is
		// volatile and would not.
		return "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)"
	}
	return "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
}

// NowSQL returns what queries use for "now" when they compute due times,
// leases and claims: the database's clock (Dialect.NowMillis), or, when c
// is a test's fake clock, that clock's time as a literal (the database
// cannot know a time that exists only in a test).
func (db *DB) NowSQL(c clock.Clock) string {
	if f, ok := c.(*clock.Fake); ok {
		return fmt.Sprint(f.Now().UnixMilli())
	}
	return db.dialect.NowMillis()
}

// Clock is a clock that tells the database's time: the base clock (the
// machine's) plus the offset between the two, as last measured by Sync.
// With it, a replica whose own clock is wrong still stamps incidents,
// schedules escalations and computes windows in the time every other
// replica uses.
type Clock struct {
	d    *DB
	base clock.Clock
	off  atomic.Int64 // nanoseconds to add to base
}

// NewClock returns a Clock over base, synced once.
func (db *DB) NewClock(ctx context.Context, base clock.Clock) (*Clock, error) {
	c := &Clock{d: db, base: base}
	if err := c.Sync(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Now returns the database's time as this process estimates it.
func (c *Clock) Now() time.Time { return c.base.Now().Add(time.Duration(c.off.Load())) }

// Offset is the last measured difference, database minus base clock.
func (c *Clock) Offset() time.Duration { return time.Duration(c.off.Load()) }

// Sync measures the offset again: the database's time against the end of
// the round trip that read it. The database read its clock before that
// end, so the estimate errs by at most the round trip (and the
// millisecond the database rounds to) and always on the early side: a job
// this process enqueues due "now" is already due by the database's clock.
func (c *Clock) Sync(ctx context.Context) error {
	best := time.Duration(-1)
	var off time.Duration
	for i := 0; i < 3; i++ { // keep the shortest of three round trips
		t0 := c.base.Now()
		var ms int64
		if err := c.d.QueryRow(ctx, "SELECT "+c.d.dialect.NowMillis()).Scan(&ms); err != nil {
			return fmt.Errorf("read the database's clock: %w", err)
		}
		t1 := c.base.Now()
		if rtt := t1.Sub(t0); best < 0 || rtt < best {
			best = rtt
			off = time.UnixMilli(ms).Sub(t1)
		}
	}
	c.off.Store(int64(off))
	return nil
}

// Name names the background module.
func (c *Clock) Name() string { return "db-clock" }

// Run syncs every 30 seconds until ctx ends: each replica's own work, not
// a singleton loop.
func (c *Clock) Run(ctx context.Context) error {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_ = c.Sync(ctx) // a failed read keeps the last offset
		}
	}
}
