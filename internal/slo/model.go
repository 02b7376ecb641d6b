// Package slo holds tandem's service level objectives: the model that
// internal/config decodes from OpenSLO v1 documents, the pure math of
// windows, error budgets, burn rates and multi-window multi-burn-rate alerts
// (functions that take data and now, never a clock), the store of native SLI
// data (per-minute buckets and hourly rollups), and the evaluation Service
// that the API, CLI, gates, incidents and the dashboard read.
//
// Contract (other capabilities code against it):
//
//   - (*Service).Status(ctx, name, now) returns one SLO's Status;
//     StatusAll(ctx, now) every SLO's, sorted by name; History(ctx, name,
//     from, to) an hourly budget trend; Frozen(service) whether a service is
//     in release freeze and why. Unknown names are *tandem.Error not_found.
//   - The JSON of Status is: name, service, environment, objective (ratio), window,
//     window_start, sli (ratio), attainment (percent), good, total,
//     error_budget {total, consumed, remaining, remaining_minutes,
//     total_minutes}, burn_rates {"5m", "30m", "1h", "2h", "6h", "1d",
//     "3d"}, status (healthy|warning|critical|exhausted|no_data), reason,
//     alerts {page, ticket}, freeze {active, reason}, p95_latency_ms,
//     source, evaluated_at and error. No number in it is ever NaN or
//     infinite.
//   - No data is never a number. When the SLO window holds no events,
//     status is no_data, reason is "no events in the window", and sli,
//     attainment and error_budget's consumed, remaining and
//     remaining_minutes are null (good and total are 0: the source was
//     read and held nothing). When the source cannot be read, status is
//     no_data, reason is "source unreadable: " and the error, error is
//     "reading the SLI failed: " and the error, and good and total are null
//     too. A burn-rate window without
//     events is null, not 0, whatever the status. p95_latency_ms is null
//     when the SLI has no latency data in the window. error_budget's total
//     and total_minutes are facts of the definition and always numbers.
//     A no_data SLO never fires an alert and never freezes releases.
//   - The minimum-events guard of an alert (AlertPolicy.MinEvents) counts
//     events, not time slices: Counts carries Events beside the units.
//   - Native latency percentiles come from a DDSketch per bucket (see
//     LatencyAccuracy): any quantile over any span of buckets is within 1 %
//     of the exact value of its rank.
//   - Firing and resolved page and ticket alerts reach the incident
//     capability through the AlertSink interface, which internal/app
//     adapts (one incident per SLO and severity; a ticket opens none
//     unless the alert mapping names it). With Definition.Evaluator
//     prometheus a Prometheus-backed SLO's alerts are computed, not sent.
//     A condition with an AlertAfter fires once it has held that long
//     (alerts.page.pending_since meanwhile; kept in slo_alert_holds).
package slo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
)

// DefaultEnvironment is the environment of an SLO that names none (the
// catalog's default environment).
const DefaultEnvironment = catalog.DefaultEnvironment

// Env is the SLO's environment, DefaultEnvironment when unset.
func (d *Definition) Env() string {
	if d.Environment == "" {
		return DefaultEnvironment
	}
	return d.Environment
}

// Budgeting methods, as OpenSLO names them.
const (
	Occurrences = "Occurrences"
	Timeslices  = "Timeslices"
)

// Status values, from best to worst; NoData when the window holds no events.
const (
	StatusHealthy   = "healthy"
	StatusWarning   = "warning"
	StatusCritical  = "critical"
	StatusExhausted = "exhausted"
	StatusNoData    = "no_data"
)

// Thresholds of remaining budget for the status: warning under 50 %,
// critical under 10 %, exhausted at or below 0.
const (
	WarningBelow  = 0.5
	CriticalBelow = 0.1
)

// Source kinds of an indicator.
const (
	SourcePrometheus = "prometheus" // PromQL through the Prometheus HTTP API
	SourceNative     = "native"     // counts and observations posted to tandem
	SourceChanges    = "changes"    // change events (migrations) recorded in tandem
)

// Definition is one SLO, validated. It is built by internal/config from
// OpenSLO documents and never changed afterwards.
type Definition struct {
	Name        string
	DisplayName string
	Description string
	Service     string
	// Environment is where the SLO is measured ("production", "staging"):
	// OpenSLO's metadata.labels.environment, the short form's environment
	// field, DefaultEnvironment when neither names one. Status, budgets,
	// gates, freezes and alerts are per environment: a staging SLO never
	// freezes or pages for production.
	Environment string
	// Objective is the target ratio of good events (or good time slices),
	// strictly between 0 and 1.
	Objective float64
	Window    Window
	// Method is Occurrences or Timeslices.
	Method string
	// TimeSliceTarget is the ratio a slice must reach to be good (ratio
	// indicators with Timeslices); TimeSliceWindow the slice length.
	TimeSliceTarget float64
	TimeSliceWindow time.Duration
	Indicator       Indicator
	Alerting        AlertPolicy
	// FreezeBelow puts the service in release freeze when remaining budget
	// falls under it (a ratio; 0 freezes only when exhausted).
	FreezeBelow float64
	// Labels are the SLO's OpenSLO metadata.labels as Prometheus labels:
	// names sanitised ([a-zA-Z_][a-zA-Z0-9_]*) and never one of tandem's
	// own (slo, service, window, severity), list values joined with ",".
	// The generated rules and the tandem_slo_info series carry them.
	Labels map[string]string
	// Evaluator says who raises the SLO's burn-rate alerts: EvaluatorTandem
	// (tandem's evaluator, the default) or EvaluatorPrometheus (the rules of
	// `tandem slo rules`, through Alertmanager; tandem still computes the
	// status, budgets and alert state but sends nothing to incidents).
	Evaluator string
	// Position is "file:line" of the definition, for messages.
	Position string
}

// Indicator says where the SLI's numbers come from.
type Indicator struct {
	Name   string
	Source string // SourcePrometheus, SourceNative or SourceChanges
	// Prometheus: the server's base URL and the queries. For a ratio, Good
	// or Bad (one of them) and Total are counter selectors; for a
	// threshold, Query yields the value compared with Threshold by Op.
	PrometheusURL string
	Good, Bad     string
	Total         string
	Query         string
	Op            string // lt, lte, gt, gte (threshold indicators)
	Threshold     float64
	// LatencyHistogram, when set, selects the _bucket series of a
	// Prometheus histogram of the service's latency (annotation
	// tandem.dev/latency-histogram); the p95 over the SLO's window is read
	// from it with histogram_quantile. LatencyUnitMs converts its unit to
	// milliseconds (1000 for seconds, Prometheus's convention).
	LatencyHistogram string
	LatencyUnitMs    float64
	// Native: an observation is good when its status is below MaxStatus
	// (default 500) and, if LatencyMaxMs > 0, its latency at most that.
	MaxStatus    int
	LatencyMaxMs float64
	// Changes: the change kind counted (migration) and environment ("" all).
	ChangeKind  string
	Environment string
	// OTLP, when set, says that the native data comes from OpenTelemetry
	// metrics posted to POST /v1/metrics: which points feed the SLI and
	// which of their events are good. Such an SLO takes no posted events.
	OTLP *OTLPSelector
}

// OTLPSelector picks the OTLP data points of one metric that feed a native
// SLI. A point's events all count in total when it matches Match; they are
// good when it matches Good and MaxStatus too, and, with LatencyMaxMs, only
// the histogram observations at most that many milliseconds are.
type OTLPSelector struct {
	// Metric is the OTLP metric's name: a monotonic Sum (each point's
	// value is a count of events) or a Histogram or ExponentialHistogram
	// (each observation is an event).
	Metric string
	// Match and Good are attribute matchers, sorted by key.
	Match, Good []AttrMatcher
	// MaxStatus, when above 0, makes a point's events good only when its
	// http.response.status_code attribute (or the older http.status_code)
	// is below it; a point without one is bad.
	MaxStatus int
	// LatencyMaxMs, when above 0, counts as good the observations of a
	// histogram at most this many milliseconds (see sli.OTLP for the
	// boundary semantics).
	LatencyMaxMs float64
}

// AttrMatcher matches an attribute whose value, in its string form
// (pcommon.Value.AsString: 200, true, GET), is one of Values. The
// attribute is looked up on the data point, then on its resource.
type AttrMatcher struct {
	Key    string
	Values []string
}

// IsThreshold reports whether the indicator compares a value with a
// threshold per time slice (OpenSLO thresholdMetric).
func (i Indicator) IsThreshold() bool { return i.Query != "" }

// Window is an SLO's time window: rolling (the last Rolling of time) or
// calendar-aligned (Count Units from Start, in Location).
type Window struct {
	Rolling time.Duration
	// Calendar windows: Unit is one of "Day", "Week", "Month", "Quarter",
	// "Year"; Start is the beginning of one period; Location its zone.
	Unit     string
	Count    int
	Start    time.Time
	Location *time.Location
}

// IsRolling reports whether the window is rolling.
func (w Window) IsRolling() bool { return w.Rolling > 0 }

// String renders the window as written: "28d" or "1 Month (calendar)".
func (w Window) String() string {
	if w.IsRolling() {
		return FormatDuration(w.Rolling)
	}
	return fmt.Sprintf("%d %s (calendar)", w.Count, w.Unit)
}

// Nominal is the window's length for scaling alert thresholds: the rolling
// duration, or the calendar period's average length.
func (w Window) Nominal() time.Duration {
	if w.IsRolling() {
		return w.Rolling
	}
	day := 24 * time.Hour
	n := time.Duration(w.Count)
	switch w.Unit {
	case "Day":
		return n * day
	case "Week":
		return n * 7 * day
	case "Month":
		return n * 30 * day
	case "Quarter":
		return n * 91 * day
	case "Year":
		return n * 365 * day
	}
	return 30 * day
}

// Bounds returns the window that holds now: [now-Rolling, now) for a
// rolling window, or the calendar period [start, end) containing now. The
// calendar arithmetic runs in the window's location, so periods follow its
// daylight-saving changes and months of different length.
func (w Window) Bounds(now time.Time) (start, end time.Time) {
	if w.IsRolling() {
		return now.Add(-w.Rolling), now
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	ref := w.Start.In(loc)
	if w.Start.IsZero() {
		ref = time.Date(2000, 1, 1, 0, 0, 0, 0, loc)
		if w.Unit == "Week" {
			ref = time.Date(2000, 1, 3, 0, 0, 0, 0, loc) // a Monday
		}
	}
	step := func(k int) time.Time {
		c := w.Count * k
		switch w.Unit {
		case "Day":
			return ref.AddDate(0, 0, c)
		case "Week":
			return ref.AddDate(0, 0, 7*c)
		case "Month":
			return addMonths(ref, c)
		case "Quarter":
			return addMonths(ref, 3*c)
		default: // Year
			return addMonths(ref, 12*c)
		}
	}
	nominal := w.Nominal()
	k := int(now.Sub(ref) / nominal)
	if now.Before(ref) {
		k--
	}
	for step(k).After(now) {
		k--
	}
	for !step(k + 1).After(now) {
		k++
	}
	return step(k).UTC(), step(k + 1).UTC()
}

// addMonths adds n months to t, keeping the day of month but clamping it to
// the month's length (Jan 31 + 1 month is Feb 28 or 29, not March 3).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	ny := y + total/12
	nm := total % 12
	if nm < 0 {
		nm += 12
		ny--
	}
	last := time.Date(ny, time.Month(nm+2), 0, 0, 0, 0, 0, t.Location()).Day()
	if d > last {
		d = last
	}
	hh, mm, ss := t.Clock()
	return time.Date(ny, time.Month(nm+1), d, hh, mm, ss, t.Nanosecond(), t.Location())
}

// FormatDuration writes d in the largest whole unit among d, h, m, s
// ("28d", "6h", "5m"), the form burn-rate windows use.
func FormatDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d >= 24*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0 && d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0 && d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// Evaluators of an SLO's alerts (slo_settings.evaluator).
const (
	EvaluatorTandem     = "tandem"
	EvaluatorPrometheus = "prometheus"
)

// RaisesAlerts reports whether tandem's evaluator sends the SLO's alerts to
// incidents: always for SLIs only tandem computes (native, changes), and
// for Prometheus SLIs unless the evaluator is Prometheus.
func (d *Definition) RaisesAlerts() bool {
	return d.Evaluator != EvaluatorPrometheus || d.Indicator.Source != SourcePrometheus
}

// MinEventsFor is the least count the minimum-event guard wants in an
// alert's long window: the policy's MinEvents events for a ratio SLI (in
// time slices too: the guard counts events, never slices). A threshold SLI
// has no event count: the guard counts its time slices with data, and a
// long window that holds fewer slices than MinEvents needs all of them (a
// 1-hour window of 5-minute slices needs data in its 12 slices).
func (d *Definition) MinEventsFor(long time.Duration) float64 {
	m := d.Alerting.MinEvents
	if d.Indicator.IsThreshold() && d.TimeSliceWindow > 0 {
		if n := float64(long / d.TimeSliceWindow); n < m {
			return n
		}
	}
	return m
}

// BurnWindows are the windows every Status reports a burn rate for.
var BurnWindows = []time.Duration{
	5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour,
}

// BurnCondition fires when the burn rates over both Long and Short
// compare to Threshold by Op (OpenSLO's lt, lte, gt, gte; "" is gt) and
// Long holds at least the policy's minimum of events (MinEventsFor), once
// that has held for AlertAfter (0: at once), as OpenSLO's alertAfter and
// Prometheus's for: mean.
type BurnCondition struct {
	Long, Short time.Duration
	Threshold   float64
	Op          string
	AlertAfter  time.Duration
}

// Compare reports whether the burn rate b meets the condition's threshold.
func (c BurnCondition) Compare(b float64) bool {
	switch c.Op {
	case "lt":
		return b < c.Threshold
	case "lte":
		return b <= c.Threshold
	case "gte":
		return b >= c.Threshold
	}
	return b > c.Threshold
}

// Key names the condition in stored alert state; a changed condition is a
// new one, whose hold starts again.
func (c BurnCondition) Key() string {
	op := c.Op
	if op == "" {
		op = "gt"
	}
	return FormatDuration(c.Long) + "/" + FormatDuration(c.Short) + " " + op + " " + strconv.FormatFloat(c.Threshold, 'g', -1, 64) + " for " + FormatDuration(c.AlertAfter)
}

// AlertPolicy is an SLO's multi-window multi-burn-rate alerting.
type AlertPolicy struct {
	Page   []BurnCondition
	Ticket []BurnCondition
	// MinEvents is the least number of events the long window of a
	// condition must hold for it to fire, so that one failure out of three
	// requests never pages.
	MinEvents float64
}

// DefaultMinEvents is the default minimum event count per alert window.
const DefaultMinEvents = 20

// DefaultPolicy is the Google SRE Workbook's policy ("Alerting on SLOs",
// table 5-8) for an SLO window of length window: page when 2 % of the
// budget burns in 1 h (short window 5 m) or 5 % in 6 h (30 m); ticket when
// 10 % burns in 1 d (2 h) or 10 % in 3 d (6 h). For a 30-day window the
// thresholds are the workbook's 14.4, 6, 3 and 1; for another window W they
// scale as budget fraction × W / long window (a 28-day window pages at
// 0.02 × 672 h / 1 h = 13.44).
func DefaultPolicy(window time.Duration) AlertPolicy {
	scale := func(fraction float64, long time.Duration) float64 {
		return round(fraction*float64(window)/float64(long), 6)
	}
	return AlertPolicy{
		Page: []BurnCondition{
			{Long: time.Hour, Short: 5 * time.Minute, Threshold: scale(0.02, time.Hour)},
			{Long: 6 * time.Hour, Short: 30 * time.Minute, Threshold: scale(0.05, 6*time.Hour)},
		},
		Ticket: []BurnCondition{
			{Long: 24 * time.Hour, Short: 2 * time.Hour, Threshold: scale(0.10, 24*time.Hour)},
			{Long: 72 * time.Hour, Short: 6 * time.Hour, Threshold: scale(0.10, 72*time.Hour)},
		},
		MinEvents: DefaultMinEvents,
	}
}

func formatFloat(v float64) string { return strconv.FormatFloat(round(v, 4), 'f', -1, 64) }

func formatPercent(v float64) string { return strconv.FormatFloat(round(v*100, 2), 'f', -1, 64) + "%" }

// formatPercentOf is formatPercent of *v, or "no data" for nil.
func formatPercentOf(v *float64) string {
	if v == nil {
		return "no data"
	}
	return formatPercent(*v)
}
