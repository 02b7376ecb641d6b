package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/oncall"
)

// oncallGenerators fill the history of on-call schedules, overrides and
// escalation policies. Schedules and policies are config; what happens at
// run time is a couple of overrides, swaps between the two SRE engineers.
var oncallGenerators = []generator{{name: "oncall-overrides", run: oncallOverrides}}

// oncallOverrides adds two run-time overrides to sre-primary when the
// config has it: one niaj made last week (mallory covered a doctor's
// appointment) and one mallory made for tomorrow (niaj covers a conference
// talk). Running the demo again adds nothing twice.
func oncallOverrides(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error {
	svc := m.API.Oncall.Service
	if svc == nil {
		return nil
	}
	cfg, cat := svc.Source()
	if !oncall.NewDirectory(cfg, cat, nil).HasSchedule("sre-primary") {
		return nil
	}
	for _, p := range []string{"mallory", "niaj"} {
		if _, ok := cat.Person(p); !ok {
			return nil
		}
	}
	day := now.UTC().Truncate(time.Hour)
	back := min(days, 7) / 2
	wanted := []oncall.Override{
		{Schedule: "sre-primary", Person: "mallory", Author: "niaj", Reason: "Doctor's appointment; Mallory covers.",
			Start: day.AddDate(0, 0, -back).Add(time.Duration(rng.IntN(4)) * time.Hour), End: day.AddDate(0, 0, -back).Add(6 * time.Hour)},
		{Schedule: "sre-primary", Person: "niaj", Author: "mallory", Reason: "Conference talk; Niaj covers.",
			Start: day.AddDate(0, 0, 1), End: day.AddDate(0, 0, 1).Add(8 * time.Hour)},
	}
	have, err := svc.Store.List(ctx, "sre-primary", time.Time{}, time.Time{})
	if err != nil {
		return fmt.Errorf("demo overrides: %w", err)
	}
	for _, o := range wanted {
		dup := false
		for _, h := range have {
			dup = dup || (h.Person == o.Person && h.Author == o.Author && h.Reason == o.Reason)
		}
		if dup {
			continue
		}
		if _, err := svc.Store.Add(ctx, o, now); err != nil {
			return fmt.Errorf("demo overrides: %w", err)
		}
	}
	return nil
}
