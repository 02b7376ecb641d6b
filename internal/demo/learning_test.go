package demo

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/toil"
)

// TestSeedLearning generates toil and the postmortems of closed sev1
// incidents, with overdue action items among them.
func TestSeedLearning(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	now := time.Now()
	mgr := srv.Main.API.Incident.Manager
	for _, sev := range []string{"sev1", "sev3"} {
		inc, err := mgr.Open(ctx, incident.OpenInput{Title: "Checkout " + sev, Services: []string{"identity-api"}, Severity: sev,
			Commander: "ivan", StartedAt: now.Add(-60 * 24 * time.Hour), NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mgr.Close(ctx, inc.ID, "ivan"); err != nil {
			t.Fatal(err)
		}
	}
	if err := genToil(ctx, srv.Main, rand.New(rand.NewPCG(42, 4)), now, 90); err != nil {
		t.Fatal(err)
	}
	if err := genPostmortems(ctx, srv.Main, rand.New(rand.NewPCG(42, 11)), now, 90); err != nil {
		t.Fatal(err)
	}
	entries, err := srv.Main.API.Learning.Toil.List(ctx, toil.Filter{})
	if err != nil || len(entries) < 100 {
		t.Errorf("toil entries: %d %v", len(entries), err)
	}
	pm := srv.Main.API.Learning.Postmortems
	pms, err := pm.Store.List(ctx, postmortem.Filter{})
	if err != nil || len(pms) != 1 || pms[0].Title != "Checkout sev1" {
		t.Fatalf("postmortems: %+v %v", pms, err)
	}
	over, err := pm.Store.ListItems(ctx, postmortem.ItemFilter{Overdue: true}, now)
	all, _ := pm.Store.ListItems(ctx, postmortem.ItemFilter{}, now)
	if err != nil || len(all) < 2 || len(over) == 0 {
		t.Errorf("action items: %d, overdue %d, %v", len(all), len(over), err)
	}
}
