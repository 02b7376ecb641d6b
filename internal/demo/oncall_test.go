package demo

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
)

func TestOncallOverrides(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{})
	now := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	ctx := context.Background()
	for range 2 { // the second run adds nothing
		if err := oncallOverrides(ctx, srv.Main, rand.New(rand.NewPCG(42, 1)), now, 14); err != nil {
			t.Fatal(err)
		}
	}
	got, err := srv.Main.API.Oncall.Service.Store.List(ctx, "sre-primary", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Author != "niaj" || got[0].Person != "mallory" || got[1].Author != "mallory" || got[1].Person != "niaj" {
		t.Fatalf("overrides = %+v", got)
	}
	if !got[1].Start.Equal(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)) || !got[0].End.Before(now) {
		t.Errorf("times: %+v", got)
	}
}
