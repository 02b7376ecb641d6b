package demo

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
)

// TestSeedSLOs generates the native SLO history and checks that the demo
// shows one healthy, one warning and one exhausted SLO, quickly.
func TestSeedSLOs(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	now := time.Now()
	start := time.Now()
	if err := seedSLOs(ctx, srv.Main, rand.New(rand.NewPCG(42, 3)), now, 90); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("seeding took %v, want under 3 s", d)
	}
	want := map[string][]string{
		"search-query-failures":     {"healthy"},
		"identity-login-latency":    {"warning"},
		"checkout-api-availability": {"critical", "exhausted"},
	}
	for name, statuses := range want {
		st, err := srv.Main.API.SLO.Service.Status(ctx, name, now)
		if err != nil {
			t.Fatal(err)
		}
		ok := false
		for _, s := range statuses {
			ok = ok || st.Status == s
		}
		if !ok || st.Total < 1e6 {
			t.Errorf("%s: status %s (%.1f%% left, %v events), want %v", name, st.Status, st.ErrorBudget.Remaining*100, st.Total, statuses)
		}
		if name == "checkout-api-availability" && !st.Alerts.Page.Firing {
			t.Errorf("%s: the page should fire: %+v", name, st.BurnRates)
		}
	}
}
