package demo

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/gate"
)

// TestSeedGates generates changes, SLO data and then the gate log: passing
// and failing gates of every kind, and a blocked promotion for the service
// whose SLO is exhausted.
func TestSeedGates(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	now := timesOfDay()[1] // before dawn: the least traffic of the day
	if err := generateChanges(ctx, srv.Main, rand.New(rand.NewPCG(42, 1)), now, 30); err != nil {
		t.Fatal(err)
	}
	if err := seedSLOs(ctx, srv.Main, rand.New(rand.NewPCG(42, 3)), now, 30); err != nil {
		t.Fatal(err)
	}
	if err := seedGates(ctx, srv.Main, rand.New(rand.NewPCG(42, 5)), now, 30); err != nil {
		t.Fatal(err)
	}
	rs, err := srv.Main.API.Gate.Results.List(ctx, gate.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	frozen := false
	for _, r := range rs {
		n[r.Kind+" "+r.Verdict]++
		if r.Service == "checkout" && r.Target == "promote to production" && r.Verdict == gate.Fail {
			frozen = true
		}
	}
	if n["slo pass"] < 10 || n["slo fail"] < 1 || n["verify fail"] < 1 || n["migration pass"] < 1 || !frozen {
		t.Errorf("gate log %v, checkout blocked by freeze: %v", n, frozen)
	}
}
