package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/slo"
)

// sloGenerators fill the history of SLOs, SLI ingest, error budgets and burn-rate alerts.
var sloGenerators = []generator{{name: "slo", run: seedSLOs}}

// demoSLO shapes one native SLO's generated traffic: requests a minute at
// the daily peak, the usual failure ratio, and bad spells (start before
// now, length, failure ratio) that set the budget where the demo wants it.
type demoSLO struct {
	name     string
	perMin   float64
	baseline float64
	spells   []spell
	latency  float64 // median latency in ms
}

type spell struct {
	ago, length time.Duration
	ratio       float64
	// atPeak starts the spell at 13:30 UTC of the day ago before now, near
	// the traffic peak, so its weight in the budget does not depend on the
	// hour the demo starts.
	atPeak bool
}

func (s spell) start(end time.Time) time.Time {
	t := end.Add(-s.ago)
	if s.atPeak {
		y, m, d := t.Date()
		t = time.Date(y, m, d, 13, 30, 0, 0, time.UTC)
	}
	return t
}

// The three native example SLOs: one healthy, one in warning, one whose
// budget is exhausted with a page firing now.
var demoSLOs = []demoSLO{
	{name: "search-query-failures", perMin: 800, baseline: 0.0004, latency: 45,
		spells: []spell{{ago: 50 * time.Hour, length: 20 * time.Minute, ratio: 0.03}}},
	{name: "identity-login-latency", perMin: 500, baseline: 0.0055, latency: 90,
		spells: []spell{{ago: 5 * 24 * time.Hour, length: 2 * time.Hour, ratio: 0.25, atPeak: true}, {ago: 9 * time.Hour, length: 30 * time.Minute, ratio: 0.12}}},
	{name: "checkout-api-availability", perMin: 1000, baseline: 0.0008, latency: 60,
		spells: []spell{{ago: 3 * 24 * time.Hour, length: 90 * time.Minute, ratio: 0.3, atPeak: true}, {ago: 40 * time.Minute, length: 40 * time.Minute, ratio: 0.05}}},
}

// seedSLOs writes native SLI history: per-minute buckets for the minute
// retention (through the same ingest path the API uses) and hourly rollups
// written directly before that, so 28+ days take well under a second.
func seedSLOs(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error {
	store := m.API.SLO.Store
	if store == nil {
		return nil
	}
	days = min(max(days, 30), int(slo.HourRetention.Hours()/24)-1)
	cfg := m.Config.Get().SLO
	end := now.UTC().Truncate(time.Minute)
	minuteFrom := end.Add(-slo.MinuteRetention + time.Hour).Truncate(time.Hour)
	from := end.Add(-time.Duration(days) * 24 * time.Hour).Truncate(time.Hour)
	for _, d := range demoSLOs {
		def, ok := cfg.Get(d.name)
		if !ok || def.Indicator.Source != slo.SourceNative {
			continue
		}
		minute := func(t time.Time) slo.NativeBucket {
			// A daily curve peaking mid-afternoon UTC, with noise.
			h := float64(t.Hour()) + float64(t.Minute())/60
			total := d.perMin * (0.55 + 0.45*math.Sin((h-9)/24*2*math.Pi)) * (0.9 + 0.2*rng.Float64())
			ratio := d.baseline * (0.5 + rng.Float64())
			for _, s := range d.spells {
				start := s.start(end)
				if !t.Before(start) && t.Before(start.Add(s.length)) {
					ratio = s.ratio
				}
			}
			n := int64(total)
			return slo.NativeBucket{Start: t, Total: n, Good: n - int64(math.Round(float64(n)*ratio))}
		}
		// Latency: most near the median, a slow tail.
		addLatency := func(l *slo.Latency, n int64) {
			for _, p := range []struct {
				ms float64
				n  int64
			}{{d.latency * 0.5, n * 30 / 100}, {d.latency, n * 50 / 100}, {d.latency * 3, n * 17 / 100}, {d.latency * 12, n - n*97/100}} {
				if err := l.AddN(p.ms, p.n); err != nil {
					panic(err) // constant, valid latencies
				}
			}
		}
		var hours []slo.NativeBucket
		for h := from; h.Before(minuteFrom); h = h.Add(time.Hour) {
			hb := slo.NativeBucket{Start: h, Latency: slo.NewLatency()}
			for i := 0; i < 60; i++ {
				b := minute(h.Add(time.Duration(i) * time.Minute))
				hb.Good += b.Good
				hb.Total += b.Total
				addLatency(hb.Latency, b.Total)
			}
			hours = append(hours, hb)
		}
		if err := store.WriteRollups(ctx, def.Name, hours); err != nil {
			return fmt.Errorf("demo SLO %s: %w", def.Name, err)
		}
		var mins []slo.NativeBucket
		for t := minuteFrom; t.Before(end); t = t.Add(time.Minute) {
			b := minute(t)
			b.Latency = slo.NewLatency()
			addLatency(b.Latency, b.Total)
			mins = append(mins, b)
		}
		var sliceWindow time.Duration
		if def.Method == slo.Timeslices {
			sliceWindow = def.TimeSliceWindow
		}
		if _, err := store.Ingest(ctx, def.Name, "demo", "", mins, sliceWindow, def.TimeSliceTarget, now); err != nil {
			return fmt.Errorf("demo SLO %s: %w", def.Name, err)
		}
	}
	return nil
}
