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
// the daily peak, the usual failure ratio, and the bad spells that set the
// budget where the demo wants it.
type demoSLO struct {
	name     string
	service  string
	perMin   float64
	baseline float64
	latency  float64 // median latency in ms
	// spells are the SLO's bad spells for a demo whose history ends at end.
	spells func(s scenario, end time.Time) []spell
}

// spell is a time when a share of the SLO's requests failed. An incident
// title means the spell paged someone and the incident generator writes
// that incident (the scenario's own incident is written apart).
type spell struct {
	from, to time.Time
	ratio    float64
	title    string
	summary  string
	sev      string
}

// peak is 13:30 UTC on the day d before end, near the traffic peak, so a
// spell's weight in the budget does not depend on the hour the demo starts.
func peak(end time.Time, ago time.Duration) time.Time {
	y, m, d := end.Add(-ago).Date()
	return time.Date(y, m, d, 13, 30, 0, 0, time.UTC)
}

// The three native example SLOs: one healthy, one in warning, one whose
// budget the scenario exhausted, with a page firing now.
var demoSLOs = []demoSLO{
	{name: "search-query-failures", service: "search-api", perMin: 800, baseline: 0.0004, latency: 45,
		spells: func(_ scenario, end time.Time) []spell {
			from := end.Add(-50 * time.Hour)
			return []spell{{from: from, to: from.Add(20 * time.Minute), ratio: 0.03, sev: "sev3",
				title: "Search queries failing on search-api", summary: "3% of search queries fail: the index cluster rejects writes during a rebalance."}}
		}},
	{name: "identity-login-latency", service: "identity-api", perMin: 500, baseline: 0.0055, latency: 90,
		spells: func(_ scenario, end time.Time) []spell {
			a := peak(end, 5*24*time.Hour)
			b := end.Add(-9 * time.Hour)
			return []spell{
				{from: a, to: a.Add(2 * time.Hour), ratio: 0.25, sev: "sev2",
					title: "Login latency above 250 ms on identity-api", summary: "A quarter of logins take over 250 ms: the directory service is slow."},
				{from: b, to: b.Add(30 * time.Minute), ratio: 0.12, sev: "sev3",
					title: "Login latency above 250 ms on identity-api", summary: "12% of logins take over 250 ms: a cache node restarted."},
			}
		}},
	{name: storySLO, service: storyService, perMin: 1000, baseline: 0.0008, latency: 60,
		spells: func(s scenario, end time.Time) []spell {
			return []spell{
				{from: s.SLIDrop, to: s.Rollback, ratio: storyRatio},
				{from: s.Upstream, to: end.Add(UpstreamFor), ratio: upstreamRatio},
			}
		}},
}

// traffic generates one native SLO's requests minute by minute.
type traffic struct {
	d      demoSLO
	spells []spell
	rng    *rand.Rand
}

func newTraffic(d demoSLO, now time.Time, rng *rand.Rand) traffic {
	end := now.UTC().Truncate(time.Minute)
	return traffic{d: d, spells: d.spells(story(now), end), rng: rng}
}

// ratio is the share of requests failing in the minute starting at t.
func (tr traffic) ratio(t time.Time) float64 {
	for _, s := range tr.spells {
		if !t.Before(s.from) && t.Before(s.to) {
			return s.ratio
		}
	}
	return tr.d.baseline * (0.5 + tr.rng.Float64())
}

// minute is the bucket of the minute starting at t: a daily curve peaking
// mid-afternoon UTC, with noise.
func (tr traffic) minute(t time.Time) slo.NativeBucket {
	h := float64(t.Hour()) + float64(t.Minute())/60
	total := tr.d.perMin * (0.55 + 0.45*math.Sin((h-9)/24*2*math.Pi)) * (0.9 + 0.2*tr.rng.Float64())
	n := int64(total)
	return slo.NativeBucket{Start: t, Total: n, Good: n - int64(math.Round(float64(n)*tr.ratio(t)))}
}

// addLatency adds n observations: most near the median, a slow tail.
func (tr traffic) addLatency(l *slo.Latency, n int64) {
	ms := tr.d.latency
	for _, p := range []struct {
		ms float64
		n  int64
	}{{ms * 0.5, n * 30 / 100}, {ms, n * 50 / 100}, {ms * 3, n * 17 / 100}, {ms * 12, n - n*97/100}} {
		if err := l.AddN(p.ms, p.n); err != nil {
			panic(err) // constant, valid latencies
		}
	}
}

// ingest writes the minutes [from, to) through the ingest path the API uses.
func (tr traffic) ingest(ctx context.Context, store *slo.Store, def *slo.Definition, from, to, now time.Time) error {
	var mins []slo.NativeBucket
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		b := tr.minute(t)
		b.Latency = slo.NewLatency()
		tr.addLatency(b.Latency, b.Total)
		mins = append(mins, b)
	}
	if len(mins) == 0 {
		return nil
	}
	var sliceWindow time.Duration
	if def.Method == slo.Timeslices {
		sliceWindow = def.TimeSliceWindow
	}
	_, err := store.Ingest(ctx, def.Name, "demo", "", mins, sliceWindow, def.TimeSliceTarget, now)
	return err
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
		tr := newTraffic(d, now, rng)
		var hours []slo.NativeBucket
		for h := from; h.Before(minuteFrom); h = h.Add(time.Hour) {
			hb := slo.NativeBucket{Start: h, Latency: slo.NewLatency()}
			for i := 0; i < 60; i++ {
				b := tr.minute(h.Add(time.Duration(i) * time.Minute))
				hb.Good += b.Good
				hb.Total += b.Total
				tr.addLatency(hb.Latency, b.Total)
			}
			hours = append(hours, hb)
		}
		if err := store.WriteRollups(ctx, def.Name, hours); err != nil {
			return fmt.Errorf("demo SLO %s: %w", def.Name, err)
		}
		if err := tr.ingest(ctx, store, def, minuteFrom, end, now); err != nil {
			return fmt.Errorf("demo SLO %s: %w", def.Name, err)
		}
	}
	return nil
}
