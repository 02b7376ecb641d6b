package slo

import "time"

// SeriesPoint is one OTLP data point as an SLO counts it: how many of its
// events are good and how many there are in all.
type SeriesPoint struct {
	SLO string
	// Series identifies the point's time series: its resource, scope,
	// metric and attributes (a hash; see sli.OTLP).
	Series string
	// Cumulative points carry counts since Start (OTLP cumulative
	// temporality); the others the counts of (Start, Time] (delta).
	Cumulative  bool
	Start, Time time.Time
	Good, Total int64
}

// SeriesState is the last cumulative point counted of a series, kept per
// (SLO, series) so that the next one can be turned into a delta.
type SeriesState struct {
	Start, Time time.Time
	Good, Total int64
}

// FirstPointMaxAge bounds how long before its own time a series' first
// cumulative point (or its first after a reset) may have started for its
// counts to be taken in full: they then land in the point's minute. A
// series first seen later than that (it started long before tandem was
// told about it) gives a baseline only, counted from its next point on.
const FirstPointMaxAge = 15 * time.Minute

// Outcomes of a cumulative point.
const (
	SeriesApplied  = "applied"  // the difference with the last point counted
	SeriesFirst    = "first"    // the first point of a series, counted in full
	SeriesReset    = "reset"    // a restarted series, counted in full
	SeriesBaseline = "baseline" // the first point of an old series, not counted
	SeriesStale    = "stale"    // a point not newer than the last one, not counted
)

// CumulativeDelta turns cumulative point p of a series whose last counted
// point was prev (nil: none) into the good and total events it adds, and
// returns the state to keep and what happened:
//
//   - No prev: the point starts the series. Its counts are taken in full
//     when its Start is set and at most FirstPointMaxAge before its Time
//     (first); otherwise it is a baseline and adds nothing.
//   - A point not after prev's Time is a retry or out of order: stale, it
//     adds nothing and prev is kept.
//   - A different Start, or a total below prev's, is a reset (the process
//     restarted): the counts since the new start are taken in full, as a
//     first point is (a reset whose Start is unset or older than
//     FirstPointMaxAge is a baseline).
//   - Otherwise the point adds its total minus prev's, and its good minus
//     prev's, kept within 0 and the total added: a good count can fall
//     without a reset when an exponential histogram is rescaled (its
//     threshold bucket widens), and such events then count as bad, never
//     twice as good.
func CumulativeDelta(prev *SeriesState, p SeriesPoint) (good, total int64, next SeriesState, outcome string) {
	cur := SeriesState{Start: p.Start, Time: p.Time, Good: p.Good, Total: p.Total}
	full := func(counted string) (int64, int64, SeriesState, string) {
		if p.Start.IsZero() || p.Time.Sub(p.Start) > FirstPointMaxAge {
			return 0, 0, cur, SeriesBaseline
		}
		return p.Good, p.Total, cur, counted
	}
	if prev == nil {
		return full(SeriesFirst)
	}
	if !p.Time.After(prev.Time) {
		return 0, 0, *prev, SeriesStale
	}
	if !p.Start.Equal(prev.Start) || p.Total < prev.Total {
		return full(SeriesReset)
	}
	total = p.Total - prev.Total
	good = min(max(p.Good-prev.Good, 0), total)
	return good, total, cur, SeriesApplied
}
