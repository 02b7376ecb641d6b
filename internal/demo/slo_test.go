package demo

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
)

// TestSeedSLOs generates the native SLO history and checks that the demo
// shows one healthy, one warning and one exhausted SLO, whatever the time
// of day the demo starts (traffic follows a daily curve).
func TestSeedSLOs(t *testing.T) {
	for _, now := range timesOfDay() {
		t.Run(now.Format("15:04"), func(t *testing.T) {
			srv := apptest.Start(t, apptest.Options{})
			ctx := context.Background()
			if err := seedSLOs(ctx, srv.Main, rand.New(rand.NewPCG(42, 3)), now, 90); err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{
				"search-query-failures":     {"healthy"},
				"identity-login-latency":    {"warning"},
				"checkout-api-availability": {"exhausted"},
			}
			for name, statuses := range want {
				st, err := srv.Main.API.SLO.Service.Status(ctx, name, now)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(statuses, st.Status) || st.Total == nil || *st.Total < 1e6 || st.ErrorBudget.Remaining == nil {
					t.Fatalf("%s: status %s (%v left, %v events), want %v", name, st.Status, st.ErrorBudget.Remaining, st.Total, statuses)
				}
				if name == "checkout-api-availability" && !st.Alerts.Page.Firing {
					t.Errorf("%s: the page should fire: %+v", name, st.BurnRates)
				}
			}
		})
	}
}

// timesOfDay are demo start times spread over yesterday (UTC), for the
// tests whose figures depend on the daily traffic curve.
func timesOfDay() []time.Time {
	y, m, d := time.Now().UTC().AddDate(0, 0, -1).Date()
	var out []time.Time
	for _, h := range []int{1, 4, 9, 15, 20} {
		out = append(out, time.Date(y, m, d, h, 17, 0, 0, time.UTC))
	}
	return out
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
