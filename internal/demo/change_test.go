package demo

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/dora"
)

// The demo gives believable DORA numbers: checkout elite, invoicing low,
// the rest in between; and it is quick.
func TestChangeGenerator(t *testing.T) {
	// Whatever the hour the demo starts at.
	for _, hour := range []int{1, 13, 23} {
		y, m, d := time.Now().UTC().Date()
		checkTiers(t, time.Date(y, m, d, hour, 30, 0, 0, time.UTC))
	}
}

func checkTiers(t *testing.T, now time.Time) {
	s := apptest.Start(t, apptest.Options{})
	start := time.Now()
	if err := generateChanges(context.Background(), s.Main, rand.New(rand.NewPCG(42, 7)), now, 90); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("generating 90 days took %s", d)
	}
	l := s.Main.API.Change.DORA
	cat := s.Main.Config.Get().Catalog
	tiers := map[string]dora.Tier{}
	for _, svc := range []string{"checkout", "invoicing", "search-api"} {
		r, err := l.Report(context.Background(), cat, dora.Query{Services: []string{svc}, From: now.Add(-90 * 24 * time.Hour), To: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.2f/day %s, lead %s, cfr %s, recovery %s", svc, r.DeploymentFrequencyPerDay, r.DeploymentFrequencyTier, r.LeadTimeTier, r.ChangeFailureRateTier, r.RecoveryTimeTier)
		tiers[svc] = r.DeploymentFrequencyTier
		if svc == "checkout" && (r.DeploymentFrequencyTier != dora.Elite || r.LeadTimeTier != dora.Elite || r.ChangeFailureRateTier != dora.Elite) {
			t.Errorf("checkout is not elite: %+v", r)
		}
		if svc == "invoicing" && (r.DeploymentFrequencyTier != dora.Low || r.LeadTimeTier != dora.Low || r.ChangeFailureRateTier != dora.Low) {
			t.Errorf("invoicing is not low: %+v", r)
		}
	}
	if tiers["search-api"] == dora.Elite || tiers["search-api"] == dora.Low {
		t.Errorf("search-api should be in between: %s", tiers["search-api"])
	}
}
