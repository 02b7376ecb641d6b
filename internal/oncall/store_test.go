package oncall

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

func TestStoreOverrides(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		now := mustTime(t, "2026-11-25T10:00:00Z")
		a, err := s.Add(ctx, Override{Schedule: "sre-primary", Person: "niaj", Start: now, End: now.Add(2 * time.Hour), Author: "mallory", Reason: "swap"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.Source != SourceAPI || !a.CreatedAt.Equal(now) {
			t.Errorf("added %+v", a)
		}
		b, err := s.Add(ctx, Override{Schedule: "sre-primary", Person: "mallory", Start: now.Add(time.Hour), End: now.Add(3 * time.Hour), Author: "niaj"}, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(ctx, Override{Schedule: "other", Person: "x", Start: now.Add(48 * time.Hour), End: now.Add(49 * time.Hour)}, now); err != nil {
			t.Fatal(err)
		}
		// Validation: a *tandem.Error naming the field.
		_, err = s.Add(ctx, Override{Schedule: "sre-primary", Person: "x", Start: now, End: now}, now)
		if e, ok := err.(*tandem.Error); !ok || e.Field != "end" {
			t.Errorf("end before start: %v", err)
		}

		all, err := s.List(ctx, "sre-primary", time.Time{}, time.Time{})
		if err != nil || len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
			t.Fatalf("List = %+v %v", all, err)
		}
		if all[0].Author != "mallory" || all[0].Reason != "swap" || !all[0].End.Equal(now.Add(2*time.Hour)) {
			t.Errorf("stored %+v", all[0])
		}
		// Overlap filter: [now+2h30, now+4h) meets only b.
		some, err := s.List(ctx, "", now.Add(150*time.Minute), now.Add(4*time.Hour))
		if err != nil || len(some) != 1 || some[0].ID != b.ID {
			t.Errorf("List overlap = %+v %v", some, err)
		}
		// Stored overrides reach resolution through the Service; the later one wins.
		sched := &Schedule{Name: "sre-primary", Layers: []Layer{{Name: "l", Users: []string{"erin"}, Start: now.Add(-time.Hour), Rotation: Rotation{Days: 1}}}}
		svc := &Service{Store: s, Source: func() (Config, *catalog.Catalog) { return Config{Schedules: []*Schedule{sched}}, nil }}
		for at, want := range map[time.Duration]string{0: "niaj", 90 * time.Minute: "mallory", 4 * time.Hour: "erin"} {
			got, err := svc.Resolve(ctx, Target{Type: ScheduleReference, ID: "sre-primary"}, now.Add(at))
			if err != nil || len(got) != 1 || got[0] != want {
				t.Errorf("at +%s: %v %v, want %s", at, got, err, want)
			}
		}

		if _, err := s.Get(ctx, "other", a.ID); tandem.ErrorCode(err) != tandem.ENotFound {
			t.Errorf("Get from the wrong schedule: %v", err)
		}
		del, err := s.Delete(ctx, "sre-primary", a.ID)
		if err != nil || del.ID != a.ID || del.Person != "niaj" {
			t.Errorf("Delete = %+v %v", del, err)
		}
		if _, err := s.Delete(ctx, "sre-primary", a.ID); tandem.ErrorCode(err) != tandem.ENotFound {
			t.Errorf("second Delete: %v", err)
		}
	})
}
