package incident_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
)

// The timeline shows the changes made on the incident's service and its
// dependencies while it lasted, in time order among the stored events, and
// nothing from before impact start (but the suspects), after the resolve or
// on unrelated services.
func TestRelatedChangesOnTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		changes := change.NewStore(d)
		h.m.Changes = changes
		start := t0.Add(-10 * time.Minute) // impact start
		record := func(service, kind, version, status string, at time.Time) int64 {
			t.Helper()
			evs, err := changes.Record(ctx, []change.Event{{Service: service, Kind: kind, Version: version, Actor: "ci",
				FinishedAt: at, Status: status, Source: "test", ExternalID: service + "-" + version}}, h.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			return evs[0].ID
		}
		changeLines := func(id int64) []string {
			t.Helper()
			tl, err := h.m.Timeline(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSortedFunc(tl, func(a, b incident.Event) int { return a.At.Compare(b.At) }) {
				t.Fatalf("timeline out of time order: %+v", tl)
			}
			var out []string
			for _, e := range tl {
				if e.Kind == incident.EvChange {
					out = append(out, e.Message)
				}
			}
			return out
		}

		record("checkout", change.KindDeploy, "v41", change.StatusSuccess, start.Add(-20*time.Minute)) // a suspect only
		record("payments-db", change.KindConfig, "c1", change.StatusSuccess, start)                    // a suspect, and at impact start
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout errors", Services: []string{"checkout"}, Severity: "sev2", StartedAt: start})
		if err != nil {
			t.Fatal(err)
		}
		if len(inc.Suspects) != 2 {
			t.Fatalf("suspects %+v, want v41 and c1", inc.Suspects)
		}

		h.clk.Advance(3 * time.Minute)
		if _, err := h.m.Ack(ctx, inc.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		h.clk.Advance(2 * time.Minute)
		rollback := record("checkout", change.KindDeploy, "v43", change.StatusRolledBack, h.clk.Now())
		if _, err := h.m.AddNote(ctx, inc.ID, "alice", "rolling back checkout"); err != nil {
			t.Fatal(err)
		}
		h.clk.Advance(2 * time.Minute)
		record("quiet", change.KindDeploy, "v4", change.StatusSuccess, h.clk.Now()) // unrelated service

		// While open, the window ends now.
		want := []string{
			"suspect: deploy v41 of checkout 20m0s before impact",
			"suspect: config c1 of payments-db 0s before impact",
			"change: deploy v43 of checkout (rolled back)",
		}
		if got := changeLines(inc.ID); !slices.Equal(got, want) {
			t.Fatalf("open incident's changes:\n%q\nwant\n%q", got, want)
		}

		h.clk.Advance(13 * time.Minute) // t0+20m
		if _, err := h.m.Resolve(ctx, inc.ID, "alice", "rolled back"); err != nil {
			t.Fatal(err)
		}
		h.clk.Advance(5 * time.Minute)
		record("checkout", change.KindDeploy, "v44", change.StatusSuccess, h.clk.Now()) // after the resolve
		// A dependency's change during the incident, reported after it.
		record("payments-db", change.KindMigration, "m8", change.StatusSuccess, t0.Add(10*time.Minute))

		want = append(want, "change: migration m8 of payments-db")
		if got := changeLines(inc.ID); !slices.Equal(got, want) {
			t.Fatalf("resolved incident's changes:\n%q\nwant\n%q", got, want)
		}

		tl, err := h.m.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var seq []string
		for _, e := range tl {
			switch {
			case e.Kind == incident.EvStatus, e.Kind == incident.EvNote, strings.HasPrefix(e.Message, "change:"):
				seq = append(seq, e.Kind+" "+e.At.Sub(t0).String())
			}
		}
		// The note and the rollback share a millisecond: the stored note
		// comes first.
		if want := []string{"status 3m0s", "note 5m0s", "change 5m0s", "change 10m0s", "status 20m0s"}; !slices.Equal(seq, want) {
			t.Fatalf("timeline order %q, want %q", seq, want)
		}
		for _, e := range tl {
			if e.Message != "change: deploy v43 of checkout (rolled back)" {
				continue
			}
			if e.ID != 0 || e.IncidentID != inc.ID || e.Actor != "ci" || e.Data["change_id"] != float64(rollback) ||
				e.Data["service"] != "checkout" || e.Data["kind"] != change.KindDeploy || e.Data["version"] != "v43" || e.Data["status"] != change.StatusRolledBack {
				t.Fatalf("rollback event %+v", e)
			}
		}
	})
}

// failingChanges is a change log that cannot be read.
type failingChanges struct{}

func (failingChanges) AroundIn(context.Context, string, []string, time.Time, time.Duration, time.Duration) ([]change.Event, error) {
	return nil, errors.New("change log unavailable")
}

// A change log that cannot be read leaves the stored timeline readable.
func TestRelatedChangesFailureKeepsTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		h.m.Changes = failingChanges{}
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout errors", Services: []string{"checkout"}, Severity: "sev2", NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		tl, err := h.m.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatalf("timeline: %v", err)
		}
		if len(tl) == 0 || tl[0].Kind != incident.EvOpened {
			t.Fatalf("timeline %+v, want the stored events", tl)
		}
		if _, err := h.m.Timeline(ctx, inc.ID+1); err == nil {
			t.Fatal("timeline of a missing incident: no error")
		}
	})
}
