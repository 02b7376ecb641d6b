package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// A replica whose clock is an hour wrong tells the database's time through
// db.Clock; NowSQL is the database's clock, or a fake clock's literal.
func TestClockFollowsDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, off := range []time.Duration{time.Hour, -time.Hour} {
			c, err := d.NewClock(ctx, clock.Offset(off))
			if err != nil {
				t.Fatal(err)
			}
			// The database runs on this machine: its clock is time.Now().
			if diff := time.Until(c.Now()); diff < -50*time.Millisecond || diff > 50*time.Millisecond {
				t.Errorf("offset %s: the database clock reads %s from the database's time", off, diff)
			}
			var ms int64
			if err := d.QueryRow(ctx, "SELECT "+d.NowSQL(c)).Scan(&ms); err != nil {
				t.Fatal(err)
			}
			if diff := time.Since(time.UnixMilli(ms)); diff < -50*time.Millisecond || diff > 50*time.Millisecond {
				t.Errorf("NowSQL is %s from now", diff)
			}
		}
		fake := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		var ms int64
		if err := d.QueryRow(ctx, "SELECT "+d.NowSQL(fake)).Scan(&ms); err != nil || ms != fake.Now().UnixMilli() {
			t.Fatalf("NowSQL of a fake clock: %d %v", ms, err)
		}
	})
}
