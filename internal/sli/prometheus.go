// Package sli reads the numbers behind SLOs: PromQL through the Prometheus
// HTTP query API (Prometheus, Thanos, Mimir, VictoriaMetrics) with the
// official client, and native ingest of counts and raw observations, which
// it aggregates into per-minute buckets for the slo store.
//
// The PromQL it runs is built by GoodExpr and TotalExpr, which the rule
// generator in internal/alerting uses too, so tandem's own evaluation and
// the recording rules it writes compute the same numbers.
package sli

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/tandemhq/tandem/internal/slo"
)

// Range formats a window for PromQL: "5m", "1h", "28d", or seconds for
// spans that are not whole minutes.
func Range(d time.Duration) string {
	if d%time.Minute == 0 {
		return slo.FormatDuration(d)
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

var ops = map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

// Op is the PromQL comparison for an OpenSLO op (lt, lte, gt, gte).
func Op(op string) string { return ops[op] }

// sliceCond is the PromQL that is 1 for a good time slice and 0 for a bad
// one, and has no sample for a slice without data: no traffic is neither
// good nor bad.
//
// A threshold slice is good when the share of the query's points inside it
// (one every PointStep, the slice's end included) that meet the threshold
// reaches TimeSliceTarget; a slice of PointStep or less is its one point.
// A point the query cannot compute (NaN: the histogram_quantile of a
// histogram without requests, a ratio of zero over zero) is dropped before
// the comparison, where it would otherwise be a failed point ("NaN < bool
// 0.4" is 0). WindowVar in the query stands for the slice.
//
// A ratio slice is good when its good/total reaches TimeSliceTarget; a
// slice whose total did not increase has no sample.
func sliceCond(def *slo.Definition) string {
	in := def.Indicator
	s := Range(def.TimeSliceWindow)
	if in.IsThreshold() {
		q := strings.ReplaceAll(in.Query, WindowVar, s)
		point := fmt.Sprintf("(((%s) <= +Inf) %s bool %s)", q, ops[in.Op], formatNum(in.Threshold))
		if def.TimeSliceWindow <= PointStep {
			return point // one point: the slice's own
		}
		// The points of (end-slice, end]: a range a second short of the
		// slice, so that a Prometheus before 3.0, whose ranges include
		// their start, does not count the previous slice's last point.
		inner := Range(def.TimeSliceWindow - time.Second)
		return fmt.Sprintf("(avg_over_time(%s[%s:%s]) >= bool %s)", point, inner, Range(PointStep), formatNum(sliceTarget(def)))
	}
	total := fmt.Sprintf("(sum(%s) > 0)", CountExpr(in.Total, s))
	ratio := fmt.Sprintf("sum(%s) / %s", CountExpr(in.Good, s), total)
	if in.Bad != "" {
		ratio = fmt.Sprintf("(1 - sum(%s) / %s)", CountExpr(in.Bad, s), total)
	}
	return fmt.Sprintf("((%s) >= bool %s)", ratio, formatNum(sliceTarget(def)))
}

// PointStep is the spacing of a threshold SLI's points inside a time slice:
// a 5-minute slice has 5 points, and 95 % of them is timeSliceTarget 0.95
// of a slice. It is fixed, not the server's evaluation interval, so that
// tandem's queries and the rules it writes count the same points.
const PointStep = time.Minute

// sliceTarget is the definition's TimeSliceTarget, 1 when unset (every
// point, or every event, of a slice must be good).
func sliceTarget(def *slo.Definition) float64 {
	if def.TimeSliceTarget <= 0 {
		return 1
	}
	return def.TimeSliceTarget
}

// sliceRange is the range of the subquery that reads the slices of the
// window w: a second short of w. The subquery evaluates the slice
// condition at every multiple of the slice length inside its range, and
// each of those points stands for the slice that ends there. A Prometheus
// before 3.0 includes a range's start, so at a query time on a slice
// boundary a range of w itself would also read the point at the window's
// start: the slice before the window, one slice too many ("1d:1h" reads 25
// hours). A second short of w, the point at the start is out on every
// version, and the other points are the same.
func sliceRange(w string) string {
	d, err := model.ParseDuration(w)
	if err != nil || time.Duration(d) <= time.Second {
		return w
	}
	return Range(time.Duration(d) - time.Second)
}

func timeslices(def *slo.Definition) bool {
	return def.Method == slo.Timeslices || def.Indicator.IsThreshold()
}

// GoodExpr is the PromQL for the good units (events, or good time slices)
// of the window w ending at the query's time. It returns an empty vector
// when the source has no series.
func GoodExpr(def *slo.Definition, w string) string {
	in := def.Indicator
	if timeslices(def) {
		return fmt.Sprintf("sum(sum_over_time(%s[%s:%s]))", sliceCond(def), sliceRange(w), Range(def.TimeSliceWindow))
	}
	if in.Bad != "" {
		return fmt.Sprintf("(sum(%s) - (sum(%s) or vector(0)))", CountExpr(in.Total, w), CountExpr(in.Bad, w))
	}
	return fmt.Sprintf("sum(%s)", CountExpr(in.Good, w))
}

// TotalExpr is the PromQL for all units of the window w: events, or time
// slices with data.
func TotalExpr(def *slo.Definition, w string) string {
	if timeslices(def) {
		return fmt.Sprintf("sum(count_over_time(%s[%s:%s]))", sliceCond(def), sliceRange(w), Range(def.TimeSliceWindow))
	}
	return fmt.Sprintf("sum(%s)", CountExpr(def.Indicator.Total, w))
}

// BadExpr is the PromQL for the bad units of the window w: 0 rather than
// nothing when the source has no bad series (divided by a total that is
// not positive, as the rules do, it has no sample).
func BadExpr(def *slo.Definition, w string) string {
	if !timeslices(def) && def.Indicator.Bad != "" {
		// No bad series is no bad event, not no data: the total says
		// whether the window has data.
		return fmt.Sprintf("(sum(%s) or vector(0))", CountExpr(def.Indicator.Bad, w))
	}
	return fmt.Sprintf("(%s - (%s or vector(0)))", TotalExpr(def, w), GoodExpr(def, w))
}

// EventsExpr is the PromQL for the events of the window w, for the
// minimum-events guard of alerts: the count of the total query (never the
// number of time slices). It is empty when the units are the events
// themselves (Occurrences) or there are no events to count (a threshold
// indicator, whose guard counts its time slices with data: TotalExpr, see
// slo.Definition.MinEventsFor).
func EventsExpr(def *slo.Definition, w string) string {
	if !timeslices(def) || def.Indicator.IsThreshold() {
		return ""
	}
	return fmt.Sprintf("sum(%s)", CountExpr(def.Indicator.Total, w))
}

func formatNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Prometheus reads Prometheus-backed SLOs. It keeps one API client per
// server URL. It is safe for concurrent use.
type Prometheus struct {
	// Log reports a latency query that failed (default slog.Default()).
	Log *slog.Logger

	http *http.Client

	mu   sync.Mutex
	apis map[string]v1.API
}

// NewPrometheus returns a source using h for requests (nil: a client with
// a 30 s timeout).
func NewPrometheus(h *http.Client) *Prometheus {
	if h == nil {
		h = &http.Client{Timeout: 30 * time.Second}
	}
	return &Prometheus{http: h, apis: map[string]v1.API{}}
}

func (p *Prometheus) api(url string) (v1.API, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.apis[url]; ok {
		return a, nil
	}
	c, err := api.NewClient(api.Config{Address: url, Client: p.http})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", url, err)
	}
	a := v1.NewAPI(c)
	p.apis[url] = a
	return a, nil
}

// windowData are counts per window computed by Prometheus, ending at end,
// and the p95 latency over the SLO's window (-1: none).
type windowData struct {
	end  time.Time
	sums map[time.Duration]slo.Counts
	p95  float64
}

func (w *windowData) WindowEnd() time.Time { return w.end }
func (w *windowData) P95Ms() float64       { return w.p95 }
func (w *windowData) Sums(ds []time.Duration) []slo.Counts {
	out := make([]slo.Counts, len(ds))
	for i, d := range ds {
		out[i] = w.sums[d]
	}
	return out
}

// WindowsQuery is the one PromQL query that returns the good and total
// units of every window in ds, and their events when EventsExpr has them,
// each series labelled tandem_w (the window in seconds) and tandem_k
// (good, total or events).
func WindowsQuery(def *slo.Definition, ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		secs := strconv.FormatInt(int64(d/time.Second), 10)
		w := Range(d)
		kinds := []struct{ kind, expr string }{{"good", GoodExpr(def, w)}, {"total", TotalExpr(def, w)}}
		if e := EventsExpr(def, w); e != "" {
			kinds = append(kinds, struct{ kind, expr string }{"events", e})
		}
		for _, k := range kinds {
			parts = append(parts, fmt.Sprintf(`label_replace(label_replace(%s, "tandem_w", "%s", "", ""), "tandem_k", "%s", "", "")`, k.expr, secs, k.kind))
		}
	}
	return strings.Join(parts, " or ")
}

// LatencyQuery is the PromQL for the indicator's latency histogram over
// the window w: the rate of each bucket (cumulative, labelled le).
func LatencyQuery(def *slo.Definition, w string) string {
	return fmt.Sprintf("sum by (le) (rate(%s[%s]))", def.Indicator.LatencyHistogram, w)
}

// BucketQuantile is the q-quantile of a cumulative histogram given as
// upper bound → count (the +Inf bucket included), interpolated linearly
// inside the bucket that holds it as histogram_quantile does, with 0 as
// the lower bound of the first bucket. A quantile in the +Inf bucket is
// the highest finite bound (as the native histogram reports it), not
// +Inf. ok is false when the histogram is empty.
func BucketQuantile(q float64, buckets map[float64]float64) (v float64, ok bool) {
	bounds := make([]float64, 0, len(buckets))
	for b := range buckets {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	if len(bounds) == 0 {
		return 0, false
	}
	total := buckets[bounds[len(bounds)-1]]
	if total <= 0 || math.IsNaN(total) {
		return 0, false
	}
	rank := q * total
	lower, prev := 0.0, 0.0
	for _, b := range bounds {
		c := math.Max(buckets[b], prev) // rate() can bend a cumulative count
		if math.IsInf(b, 1) {
			return lower, true // in the overflow bucket: the last finite bound
		}
		if c >= rank && c > prev {
			return lower + (b-lower)*(rank-prev)/(c-prev), true
		}
		lower, prev = b, c
	}
	return lower, true
}

// Data queries every window the evaluation needs in one instant query at
// now, and the p95 latency over the longest window in a second one when
// the indicator names a latency histogram. Windows that Prometheus has no
// series for count as empty.
func (p *Prometheus) Data(ctx context.Context, def *slo.Definition, now time.Time) (slo.Data, error) {
	a, err := p.api(def.Indicator.PrometheusURL)
	if err != nil {
		return nil, err
	}
	ds := slo.Windows(def, now)
	// Windows shorter than a second cannot be queried; they are empty.
	var q []time.Duration
	for _, d := range ds {
		if d >= time.Second {
			q = append(q, d.Truncate(time.Second))
		}
	}
	out := &windowData{end: now, sums: map[time.Duration]slo.Counts{}, p95: -1}
	if len(q) == 0 {
		return out, nil
	}
	val, _, _, err := a.Query(ctx, WindowsQuery(def, q), now)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", def.Indicator.PrometheusURL, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %s: got %s, want a vector", def.Indicator.PrometheusURL, val.Type())
	}
	bySecs := map[int64]slo.Counts{}
	for _, s := range vec {
		secs, err := strconv.ParseInt(string(s.Metric["tandem_w"]), 10, 64)
		v := float64(s.Value)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		c := bySecs[secs]
		switch s.Metric["tandem_k"] {
		case "good":
			c.Good = math.Max(0, v)
		case "events":
			c.Events = math.Max(0, v)
		default:
			c.Total = math.Max(0, v)
		}
		bySecs[secs] = c
	}
	for _, d := range ds {
		c := bySecs[int64(d/time.Second)]
		if c.Good > c.Total { // extrapolation of two counters can disagree slightly
			c.Good = c.Total
		}
		out.sums[d] = c
	}
	if def.Indicator.LatencyHistogram != "" {
		// The p95 is an extra, read after the counts: its query (a rate
		// over the whole window of every bucket) is the likeliest to time
		// out, and losing it, or the deadline it used up, must not cost
		// the SLO its budget, burn rates and alerts.
		if p95, err := p.quantile(ctx, a, def, 0.95, slices.Max(q), now); err != nil {
			log := p.Log
			if log == nil {
				log = slog.Default()
			}
			log.Warn("SLO latency histogram unreadable; no p95 this time", "slo", def.Name, "err", err)
		} else {
			out.p95 = p95
		}
	}
	return out, nil
}

// Counts reads the good and total units of the window ending at at, which
// may be any length of a second or more (Data reads only the windows
// evaluation needs). A window without series is empty.
func (p *Prometheus) Counts(ctx context.Context, def *slo.Definition, window time.Duration, at time.Time) (slo.Counts, error) {
	a, err := p.api(def.Indicator.PrometheusURL)
	if err != nil {
		return slo.Counts{}, err
	}
	val, _, _, err := a.Query(ctx, WindowsQuery(def, []time.Duration{window.Truncate(time.Second)}), at)
	if err != nil {
		return slo.Counts{}, fmt.Errorf("query %s: %w", def.Indicator.PrometheusURL, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return slo.Counts{}, fmt.Errorf("query %s: got %s, want a vector", def.Indicator.PrometheusURL, val.Type())
	}
	var c slo.Counts
	for _, s := range vec {
		if v := float64(s.Value); !math.IsNaN(v) && !math.IsInf(v, 0) {
			if s.Metric["tandem_k"] == "good" {
				c.Good = math.Max(0, v)
			} else {
				c.Total = math.Max(0, v)
			}
		}
	}
	c.Good = math.Min(c.Good, c.Total)
	return c, nil
}

// Quantile reads the q-quantile of the indicator's latency histogram
// (tandem.dev/latency-histogram) over the window ending at at, in
// milliseconds. ok is false when the SLO names no histogram or the window
// holds no request; err is set when Prometheus cannot be read.
func (p *Prometheus) Quantile(ctx context.Context, def *slo.Definition, q float64, window time.Duration, at time.Time) (float64, bool, error) {
	if def.Indicator.LatencyHistogram == "" {
		return 0, false, nil
	}
	a, err := p.api(def.Indicator.PrometheusURL)
	if err != nil {
		return 0, false, err
	}
	v, err := p.quantile(ctx, a, def, q, window, at)
	if err != nil || v < 0 {
		return 0, false, err
	}
	return v, true, nil
}

// quantile reads the q-quantile of the indicator's latency histogram over
// the window w ending at now, in milliseconds; -1 when there is no data.
func (p *Prometheus) quantile(ctx context.Context, a v1.API, def *slo.Definition, q float64, w time.Duration, now time.Time) (float64, error) {
	val, _, _, err := a.Query(ctx, LatencyQuery(def, Range(w)), now)
	if err != nil {
		return -1, fmt.Errorf("query %s: %w", def.Indicator.PrometheusURL, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return -1, fmt.Errorf("query %s: got %s, want a vector", def.Indicator.PrometheusURL, val.Type())
	}
	buckets := map[float64]float64{}
	for _, s := range vec {
		le, err := strconv.ParseFloat(string(s.Metric["le"]), 64)
		if v := float64(s.Value); err == nil && !math.IsNaN(v) && v >= 0 {
			buckets[le] += v
		}
	}
	v, ok := BucketQuantile(q, buckets)
	if !ok {
		return -1, nil // no series, or no request in the window
	}
	unit := def.Indicator.LatencyUnitMs
	if unit <= 0 {
		unit = 1000
	}
	return v * unit, nil
}

// Hours returns hourly good and total units in [from, to) from a
// query_range with a one-hour step.
func (p *Prometheus) Hours(ctx context.Context, def *slo.Definition, from, to time.Time) ([]slo.Bucket, error) {
	a, err := p.api(def.Indicator.PrometheusURL)
	if err != nil {
		return nil, err
	}
	start := from.UTC().Truncate(time.Hour).Add(time.Hour) // the end of the first hour
	end := to.UTC().Truncate(time.Hour)
	if end.Before(start) {
		return nil, nil
	}
	r := v1.Range{Start: start, End: end, Step: time.Hour}
	read := func(expr string) (map[int64]float64, error) {
		val, _, _, err := a.QueryRange(ctx, expr, r)
		if err != nil {
			return nil, fmt.Errorf("query_range %s: %w", def.Indicator.PrometheusURL, err)
		}
		m, ok := val.(model.Matrix)
		if !ok {
			return nil, fmt.Errorf("query_range: got %s, want a matrix", val.Type())
		}
		out := map[int64]float64{}
		for _, s := range m {
			for _, pt := range s.Values {
				if v := float64(pt.Value); !math.IsNaN(v) && !math.IsInf(v, 0) {
					out[pt.Timestamp.Unix()] += math.Max(0, v)
				}
			}
		}
		return out, nil
	}
	good, err := read(GoodExpr(def, "1h"))
	if err != nil {
		return nil, err
	}
	total, err := read(TotalExpr(def, "1h"))
	if err != nil {
		return nil, err
	}
	var out []slo.Bucket
	for t := start; !t.After(end); t = t.Add(time.Hour) {
		c := slo.Counts{Good: good[t.Unix()], Total: total[t.Unix()]}
		if c.Total == 0 {
			continue
		}
		c.Good = math.Min(c.Good, c.Total)
		out = append(out, slo.Bucket{Start: t.Add(-time.Hour), Counts: c})
	}
	return out, nil
}
