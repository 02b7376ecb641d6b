package postmortem

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

func TestStoreItems(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		p, created, err := s.Create(ctx, Postmortem{IncidentID: 9, Title: "DB down", Markdown: "# x\n## Action items\n- [ ] Alert on lag (owner: @dave, due: 2026-11-20)\n"}, now)
		if err != nil || !created || len(p.ActionItems) != 1 || !p.ActionItems[0].Overdue || p.Status != Draft {
			t.Fatalf("create: %+v %v", p, err)
		}
		if _, created, _ := s.Create(ctx, Postmortem{IncidentID: 9, Title: "again", Markdown: "y"}, now); created {
			t.Error("second postmortem for one incident")
		}
		itemID := p.ActionItems[0].ID
		// Edit: keep the item (same title, new owner), add one, publish.
		md := "# x\n## Action items\n- [ ] Alert on lag (owner: @erin, due: 2026-12-20)\n- [x] Runbook\n"
		published := 0
		st := "in review"
		p, err = s.Save(ctx, p.ID, Update{Markdown: &md, Status: &st}, now, func(*db.Tx, Postmortem) error { published++; return nil })
		if err != nil || p.Version != 2 || p.Status != InReview || published != 0 || len(p.ActionItems) != 2 {
			t.Fatalf("save: %+v %v", p, err)
		}
		if a := p.ActionItems[0]; a.ID != itemID || a.Owner != "erin" || a.Overdue {
			t.Errorf("kept item = %+v", a)
		}
		st = "published"
		if _, err := s.Save(ctx, p.ID, Update{Status: &st}, now, func(*db.Tx, Postmortem) error { published++; return nil }); err != nil || published != 1 {
			t.Errorf("publish hook ran %d times, err %v", published, err)
		}
		bad := "nope"
		if _, err := s.Save(ctx, p.ID, Update{Status: &bad}, now, nil); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("bad status: %v", err)
		}
		// Manual item; overdue filter; owner filter.
		if _, err := s.AddItem(ctx, NewItem{Title: "Buy bigger disks", Owner: "@dave", Due: "2026-11-24", PostmortemID: p.ID}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddItem(ctx, NewItem{Title: "x", Due: "24/11/2026"}, now); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("bad due: %v", err)
		}
		over, err := s.ListItems(ctx, ItemFilter{Overdue: true}, now)
		if err != nil || len(over) != 1 || over[0].Title != "Buy bigger disks" || over[0].Source != "manual" {
			t.Errorf("overdue = %+v %v", over, err)
		}
		// Due today is not overdue yet.
		if o, _ := s.ListItems(ctx, ItemFilter{Overdue: true}, time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)); len(o) != 0 {
			t.Errorf("due today counted overdue: %+v", o)
		}
		mine, _ := s.ListItems(ctx, ItemFilter{Owner: "erin"}, now)
		if len(mine) != 1 {
			t.Errorf("erin's = %+v", mine)
		}
		// Marking a postmortem item done ticks its box.
		done := ItemDone
		if _, err := s.UpdateItem(ctx, itemID, ItemUpdate{Status: &done}, now); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, p.ID, now)
		if got.Version != 3 || got.Markdown != "# x\n## Action items\n- [x] Alert on lag (owner: @erin, due: 2026-12-20)\n- [x] Runbook\n" {
			t.Errorf("markdown after done: v%d %q", got.Version, got.Markdown)
		}
		owner := "frank"
		if _, err := s.UpdateItem(ctx, itemID, ItemUpdate{Owner: &owner}, now); tandem.ErrorCode(err) != tandem.EConflict {
			t.Errorf("owner change on postmortem item: %v", err)
		}
		list, err := s.List(ctx, Filter{Status: Published})
		if err != nil || len(list) != 1 {
			t.Errorf("list = %+v %v", list, err)
		}
	})
}
