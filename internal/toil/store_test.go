package toil

import (
	"context"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		now := at("2026-11-25T12:00:00Z")
		e, err := s.Log(ctx, Entry{At: at("2026-11-20T10:00:00Z"), Minutes: 30, Category: "Restart", Service: "checkout", Team: "payments", Person: "alice", Note: "pod stuck"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 || e.Category != "restart" || e.Source != "manual" || !e.CreatedAt.Equal(now) {
			t.Errorf("logged %+v", e)
		}
		batch := []Entry{
			{At: at("2026-11-21T10:00:00Z"), Minutes: 45, Category: "restart", Source: "jira", ExternalID: "OPS-1"},
			{At: at("2026-11-22T10:00:00Z"), Minutes: 60, Category: "data-restore", Source: "jira", ExternalID: "OPS-2"},
		}
		out, err := s.Import(ctx, batch, now)
		if err != nil || out.Created != 2 {
			t.Fatalf("import: %+v %v", out, err)
		}
		// Again: nothing new, same ids.
		again, err := s.Import(ctx, batch, now)
		if err != nil || again.Created != 0 || again.Existing != 2 || again.Entries[0].ID != out.Entries[0].ID {
			t.Fatalf("re-import: %+v %v", again, err)
		}
		// All or nothing: a bad entry rejects the batch.
		_, err = s.Import(ctx, []Entry{{At: now, Minutes: 5, Category: "x"}, {At: now, Minutes: -1, Category: "x"}}, now)
		if tandem.ErrorCode(err) != tandem.EInvalid || !containsField(err, "entries[1].minutes") {
			t.Errorf("bad batch: %v", err)
		}
		all, err := s.List(ctx, Filter{})
		if err != nil || len(all) != 3 {
			t.Fatalf("list: %d %v", len(all), err)
		}
		if all[0].ExternalID != "OPS-2" {
			t.Errorf("not newest first: %+v", all[0])
		}
		f, err := s.List(ctx, Filter{Category: "restart", Since: at("2026-11-21T00:00:00Z"), Until: at("2026-11-22T00:00:00Z")})
		if err != nil || len(f) != 1 || f[0].ExternalID != "OPS-1" {
			t.Errorf("filtered: %+v %v", f, err)
		}
	})
}
