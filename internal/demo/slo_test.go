package demo

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
)

// TestSeedSLOs generates the native SLO history and checks that the demo
// shows one healthy, one warning and one exhausted SLO.
func TestSeedSLOs(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	now := time.Now()
	if err := seedSLOs(ctx, srv.Main, rand.New(rand.NewPCG(42, 3)), now, 90); err != nil {
		t.Fatal(err)
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

// BenchmarkSeedSLOs generates 90 days of history for the three native demo
// SLOs on SQLite (target: under 3 s).
func BenchmarkSeedSLOs(b *testing.B) {
	srv := apptest.Start(b, apptest.Options{})
	ctx := context.Background()
	now := time.Now()
	for b.Loop() {
		if err := seedSLOs(ctx, srv.Main, rand.New(rand.NewPCG(42, 3)), now, 90); err != nil {
			b.Fatal(err)
		}
	}
}
