package demo

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
)

// The demo's incidents follow failed deploys, have timelines with pages and
// acks, and two are open now; running it twice adds nothing.
func TestIncidentGenerator(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	now := time.Now().UTC()
	if err := generateChanges(ctx, s.Main, rand.New(rand.NewPCG(42, 7)), now, 90); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := generateIncidents(ctx, s.Main, rand.New(rand.NewPCG(42, 9)), now, 90); err != nil {
		t.Fatal(err)
	}
	t.Logf("incidents generated in %s", time.Since(start))
	mgr := s.Main.API.Incident.Manager
	all, err := mgr.List(ctx, incident.Filter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	open, deployLinked, closed := 0, 0, 0
	for _, inc := range all {
		switch inc.Status {
		case incident.Triggered, incident.Acknowledged:
			open++
		case incident.Closed:
			closed++
		}
		if inc.Labels["deploy_id"] != "" {
			deployLinked++
		}
	}
	if len(all) < 20 || open != 2 || deployLinked < 5 || closed < 10 {
		t.Fatalf("%d incidents, %d open, %d linked to deploys, %d closed", len(all), open, deployLinked, closed)
	}
	got, _ := mgr.Get(ctx, all[len(all)-1].ID)
	tl, _ := mgr.Timeline(ctx, got.ID)
	var pages, statuses int
	for _, e := range tl {
		switch e.Kind {
		case incident.EvPage:
			pages++
		case incident.EvStatus:
			statuses++
		}
	}
	if pages == 0 || statuses == 0 {
		t.Fatalf("oldest incident's timeline has %d pages and %d status changes: %+v", pages, statuses, tl)
	}
	if err := generateIncidents(ctx, s.Main, rand.New(rand.NewPCG(42, 9)), now, 90); err != nil {
		t.Fatal(err)
	}
	again, _ := mgr.List(ctx, incident.Filter{Limit: 10000})
	if len(again) != len(all) {
		t.Fatalf("second run: %d incidents, want %d", len(again), len(all))
	}
	if jobs, _ := s.Main.Engine.List(ctx, engineFilterQueued()); len(jobs) != 0 {
		t.Fatalf("the demo enqueued %d jobs; it must page nobody", len(jobs))
	}
}

func engineFilterQueued() engine.Filter {
	return engine.Filter{State: engine.StateQueued, Kind: "incident.page"}
}
