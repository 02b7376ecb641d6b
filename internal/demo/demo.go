// Package demo generates believable history for `tandem demo`: for every
// service in the example catalog, whatever each capability records (deploys,
// commits, SLI data, incidents, pages, toil…), spread over the last days.
// The generator is seeded, so a demo looks the same every run.
package demo

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/tandemhq/tandem/internal/app"
)

// generator fills one capability's history.
type generator struct {
	name string
	run  func(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error
}

// generators run in order: later ones may read what earlier ones wrote
// (incidents read deploys, postmortems read incidents).
var generators = concat(changeGenerators, sloGenerators, oncallGenerators,
	incidentGenerators, gateGenerators, learningGenerators)

func concat(lists ...[]generator) []generator {
	var out []generator
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Seed generates days of history ending at now.
func Seed(ctx context.Context, m *app.Main, now time.Time, days int) error {
	for _, g := range generators {
		rng := rand.New(rand.NewPCG(42, uint64(len(g.name))))
		if err := g.run(ctx, m, rng, now, days); err != nil {
			return err
		}
	}
	return nil
}
