// Package okr evaluates reliability objectives and key results from config
// against live metrics tandem computes: SLO attainment, change failure
// rate, recovery time, time to detect, deploy frequency, features launched
// within a budget, and toil hours.
//
// Objectives belong to a team or are shared (Team empty) and to a quarter.
// The math is pure: Score and Trend take values and return values. Evaluate
// asks a Metrics table (filled by the app from the SLO, DORA, incident and
// toil capabilities) for each key result's value this quarter so far and in
// the previous quarter.
package okr

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// Kind is the metric a key result is bound to.
type Kind string

// Key-result kinds, with the unit of their values.
const (
	SLOAttainment     Kind = "slo_attainment"      // ratio 0..1, higher is better
	ChangeFailureRate Kind = "change_failure_rate" // ratio 0..1, lower is better
	RecoveryTime      Kind = "recovery_time"       // minutes (mean time to restore), lower is better
	TimeToDetect      Kind = "time_to_detect"      // minutes (mean), lower is better
	DeployFrequency   Kind = "deploy_frequency"    // deploys per day, higher is better
	SafeLaunches      Kind = "safe_launches"       // ratio of launches that consumed under the budget threshold, higher is better
	ToilHours         Kind = "toil_hours"          // hours in the period, lower is better
)

// Kinds lists every kind, for validation messages.
var Kinds = []Kind{SLOAttainment, ChangeFailureRate, RecoveryTime, TimeToDetect, DeployFrequency, SafeLaunches, ToilHours}

// HigherIsBetter says the direction of improvement of a kind.
func (k Kind) HigherIsBetter() bool {
	return k == SLOAttainment || k == DeployFrequency || k == SafeLaunches
}

// Unit names the unit of a kind's values.
func (k Kind) Unit() string {
	switch k {
	case SLOAttainment, ChangeFailureRate, SafeLaunches:
		return "ratio"
	case RecoveryTime, TimeToDetect:
		return "minutes"
	case DeployFrequency:
		return "per_day"
	case ToilHours:
		return "hours"
	}
	return ""
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Target is what a key result aims for: a bound (Op and Value, in the
// kind's unit) or a reduction against the previous quarter (ReduceBy,
// 0.3 for 30%).
type Target struct {
	Op       string  `json:"op,omitempty"` // ">", ">=", "<", "<="
	Value    float64 `json:"value,omitempty"`
	ReduceBy float64 `json:"reduce_by,omitempty"`
	Text     string  `json:"text"`
}

var (
	boundRe  = regexp.MustCompile(`^(>=|<=|>|<)\s*([0-9]*\.?[0-9]+)\s*(%|[a-z/][a-z0-9/ .]*)?$`)
	reduceRe = regexp.MustCompile(`^(?:reduce(?:d)?(?:\s+by)?|-)\s*([0-9]*\.?[0-9]+)\s*%(?:\s+(?:against|vs\.?)\s+last\s+quarter)?$`)
)

// ParseTarget reads a target for kind: "> 99.95%" and "< 10%" for ratios,
// "< 30m" or "< 1h" for durations (minutes), ">= 5/day" or ">= 20/week"
// for deploy frequency, "< 40h" (or "< 40") for toil hours, and for any
// kind "reduce 30%" / "reduced by 30% against last quarter".
func ParseTarget(kind Kind, s string) (Target, error) {
	text := strings.TrimSpace(s)
	low := strings.ToLower(text)
	if m := reduceRe.FindStringSubmatch(low); m != nil {
		f, _ := strconv.ParseFloat(m[1], 64)
		if f <= 0 || f >= 100 {
			return Target{}, fmt.Errorf("reduction %q: want a percentage between 0 and 100", text)
		}
		return Target{ReduceBy: f / 100, Text: text}, nil
	}
	m := boundRe.FindStringSubmatch(low)
	if m == nil {
		return Target{}, fmt.Errorf("target %q: want a bound such as \"> 99.95%%\", \"< 30m\", \">= 5/day\", or \"reduce 30%%\"", text)
	}
	op, num, unit := m[1], m[2], strings.TrimSpace(m[3])
	v, _ := strconv.ParseFloat(num, 64)
	t := Target{Op: op, Text: text}
	bad := func(want string) (Target, error) {
		return Target{}, fmt.Errorf("target %q for %s: want %s", text, kind, want)
	}
	switch kind.Unit() {
	case "ratio":
		if unit != "%" || v > 100 {
			return bad("a percentage such as \"> 99.9%\"")
		}
		t.Value = v / 100
	case "minutes":
		d, err := tandem.ParseDuration(num + unit)
		if unit == "" || unit == "%" || err != nil {
			return bad("a duration such as \"< 30m\"")
		}
		t.Value = d.Minutes()
	case "per_day":
		switch unit {
		case "/day", "/d", "per day":
			t.Value = v
		case "/week", "/w", "per week":
			t.Value = v / 7
		default:
			return bad("a rate such as \">= 5/day\" or \">= 20/week\"")
		}
	case "hours":
		switch unit {
		case "", "h", "hours":
			t.Value = v
		default:
			return bad("hours such as \"< 40h\"")
		}
	default:
		return Target{}, fmt.Errorf("unknown kind %q", kind)
	}
	if up := strings.HasPrefix(op, ">"); up != kind.HigherIsBetter() {
		dir := "lower"
		if kind.HigherIsBetter() {
			dir = "higher"
		}
		return Target{}, fmt.Errorf("target %q for %s: %s is better, so the bound must be %s", text, kind, dir, map[bool]string{true: "> or >=", false: "< or <="}[kind.HigherIsBetter()])
	}
	return t, nil
}

// Met reports whether value satisfies the bound target (a reduction target
// is met when value is at or below prev*(1-ReduceBy)).
func (t Target) Met(value, prev float64) bool {
	if t.ReduceBy > 0 {
		return value <= prev*(1-t.ReduceBy)+1e-12
	}
	switch t.Op {
	case ">":
		return value > t.Value
	case ">=":
		return value >= t.Value
	case "<":
		return value < t.Value
	case "<=":
		return value <= t.Value
	}
	return false
}

// KeyResult is one measurable result bound to a metric.
type KeyResult struct {
	Name   string `json:"name"`
	Title  string `json:"title,omitempty"`
	Kind   Kind   `json:"kind"`
	Target Target `json:"target"`
	// Start, when set, is the value the quarter started from: the score
	// then grows linearly from Start (0) to the target (1).
	Start *float64 `json:"start,omitempty"`
	// SLO names the SLO for slo_attainment (empty: every SLO in scope,
	// the worst one counts).
	SLO string `json:"slo,omitempty"`
	// Services narrows the scope (empty: the team's services, or every
	// service for a shared objective).
	Services []string `json:"services,omitempty"`
	// BudgetThreshold is the error-budget share a launch may consume to
	// count as safe (safe_launches; default 0.05).
	BudgetThreshold float64 `json:"budget_threshold,omitempty"`
	// Label selects the deploys that are feature launches (safe_launches;
	// default "feature").
	Label string `json:"label,omitempty"`
	// Category narrows toil_hours to one toil category.
	Category string `json:"category,omitempty"`
}

// Objective is a qualitative goal for a quarter with its key results.
type Objective struct {
	Name        string      `json:"name"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	Team        string      `json:"team,omitempty"` // empty: shared across teams
	Quarter     Quarter     `json:"quarter"`
	KeyResults  []KeyResult `json:"key_results"`
}

// Quarter is a calendar quarter in UTC.
type Quarter struct {
	Year int
	Q    int // 1..4
}

var quarterRe = regexp.MustCompile(`^(\d{4})-?[Qq]([1-4])$`)

// ParseQuarter reads "2026Q4" (or "2026-Q4").
func ParseQuarter(s string) (Quarter, error) {
	m := quarterRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Quarter{}, fmt.Errorf("quarter %q: want YYYYQn such as 2026Q4", s)
	}
	y, _ := strconv.Atoi(m[1])
	q, _ := strconv.Atoi(m[2])
	return Quarter{Year: y, Q: q}, nil
}

// QuarterOf returns the quarter t (in UTC) falls in.
func QuarterOf(t time.Time) Quarter {
	t = t.UTC()
	return Quarter{Year: t.Year(), Q: (int(t.Month())-1)/3 + 1}
}

func (q Quarter) String() string { return fmt.Sprintf("%dQ%d", q.Year, q.Q) }

// MarshalText writes "2026Q4".
func (q Quarter) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText reads "2026Q4".
func (q *Quarter) UnmarshalText(b []byte) error {
	v, err := ParseQuarter(string(b))
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// Start is the first instant of the quarter.
func (q Quarter) Start() time.Time {
	return time.Date(q.Year, time.Month(3*(q.Q-1)+1), 1, 0, 0, 0, 0, time.UTC)
}

// End is the first instant after the quarter.
func (q Quarter) End() time.Time { return q.Start().AddDate(0, 3, 0) }

// Prev is the quarter before.
func (q Quarter) Prev() Quarter {
	if q.Q == 1 {
		return Quarter{Year: q.Year - 1, Q: 4}
	}
	return Quarter{Year: q.Year, Q: q.Q - 1}
}

// Score grades value against the key result's target, 0..1:
//   - a reduction target: achieved reduction / planned reduction,
//     (prev - value) / (prev * ReduceBy); without a previous value there
//     is no score (ok false);
//   - with a Start: linear progress from Start to the target value;
//   - SLO attainment without a Start: target error rate / actual error
//     rate, (1-target)/(1-value), so 99.9% against 99.95% scores 0.5;
//   - other higher-is-better kinds: value/target;
//   - lower-is-better kinds: target/value (1 at or under the target).
//
// The result is clamped to [0, 1] and rounded to 4 decimals.
func Score(kr KeyResult, value, prev float64, hasPrev bool) (score float64, ok bool) {
	t := kr.Target
	switch {
	case t.ReduceBy > 0:
		if !hasPrev || prev <= 0 {
			return 0, false
		}
		return round4(clamp01((prev - value) / (prev * t.ReduceBy))), true
	case kr.Start != nil && *kr.Start != t.Value:
		return round4(clamp01((value - *kr.Start) / (t.Value - *kr.Start))), true
	case kr.Kind == SLOAttainment:
		if value >= 1 || t.Met(value, prev) {
			return 1, true
		}
		return round4(clamp01((1 - t.Value) / (1 - value))), true
	case kr.Kind.HigherIsBetter():
		if t.Met(value, prev) {
			return 1, true
		}
		if t.Value <= 0 {
			return 0, true
		}
		return round4(clamp01(value / t.Value)), true
	default:
		if t.Met(value, prev) || value <= 0 {
			return 1, true
		}
		return round4(clamp01(t.Value / value)), true
	}
}

// TargetValue is the value the key result aims for: the bound, or
// prev*(1-ReduceBy) for a reduction (NaN without a previous value).
func TargetValue(kr KeyResult, prev float64, hasPrev bool) float64 {
	if kr.Target.ReduceBy > 0 {
		if !hasPrev {
			return math.NaN()
		}
		return prev * (1 - kr.Target.ReduceBy)
	}
	return kr.Target.Value
}

// Trend compares value with the previous quarter's: improving, worsening
// or flat (within 1% of the previous value), in the kind's direction.
func Trend(kind Kind, value, prev float64) string {
	d := value - prev
	if math.Abs(d) <= 0.01*math.Abs(prev) || d == 0 {
		return "flat"
	}
	if (d > 0) == kind.HigherIsBetter() {
		return "improving"
	}
	return "worsening"
}

func clamp01(f float64) float64 {
	if f < 0 || math.IsNaN(f) {
		return 0
	}
	if f > 1 {
		return 1
	}
	return f
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

// Scope is what a key result measures over.
type Scope struct {
	Team     string
	Services []string
}

// MetricFunc measures a key result over [from, to) within scope. ok false
// means there is no data (no deploys, no incidents, no SLO), which is not
// an error.
type MetricFunc func(ctx context.Context, kr KeyResult, scope Scope, from, to time.Time) (value float64, ok bool, err error)

// Metrics binds each kind to the function that measures it. A kind
// without a function reports status "unavailable".
type Metrics map[Kind]MetricFunc

// KRStatus is a key result's state in a quarter.
type KRStatus struct {
	KeyResult
	Unit string `json:"unit"`
	// Status is ok, no_data (nothing to measure yet), no_baseline (a
	// reduction without a previous quarter) or unavailable (no metric
	// source for the kind in this server).
	Status      string   `json:"status"`
	Current     *float64 `json:"current,omitempty"`
	Previous    *float64 `json:"previous,omitempty"`
	TargetValue *float64 `json:"target_value,omitempty"`
	// Score is 0..1 when Status is ok, and null otherwise: a key result
	// that cannot be measured has no score, not a score of 0.
	Score *float64 `json:"score"`
	Met   bool     `json:"met"`
	Trend string   `json:"trend,omitempty"`
}

// ObjectiveStatus is an objective with its key results' states; Score is
// the mean of the key results' scores (those without a score count 0),
// and null when none of them has a score. Scored says how many have one.
type ObjectiveStatus struct {
	Name        string     `json:"name"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Team        string     `json:"team,omitempty"`
	Quarter     Quarter    `json:"quarter"`
	From        time.Time  `json:"from"`
	To          time.Time  `json:"to"`
	Score       *float64   `json:"score"`
	Scored      int        `json:"scored"`
	KeyResults  []KRStatus `json:"key_results"`
}

// ScopeFunc gives the services of a team ("" for every service).
type ScopeFunc func(team string) []string

// Evaluate measures every objective of quarter q (all teams when team is
// empty; a team's own and the shared ones otherwise) at now: the current
// value over [q.Start, min(now, q.End)), the previous over the whole
// previous quarter.
func Evaluate(ctx context.Context, objs []Objective, q Quarter, team string, m Metrics, services ScopeFunc, now time.Time) ([]ObjectiveStatus, error) {
	out := []ObjectiveStatus{}
	from, to := q.Start(), q.End()
	if now.Before(to) {
		to = now
	}
	pq := q.Prev()
	for _, o := range objs {
		if o.Quarter != q || (team != "" && o.Team != "" && o.Team != team) {
			continue
		}
		st := ObjectiveStatus{Name: o.Name, Title: o.Title, Description: o.Description, Team: o.Team, Quarter: q, From: from, To: to, KeyResults: []KRStatus{}}
		var sum float64
		for _, kr := range o.KeyResults {
			scope := Scope{Team: o.Team, Services: kr.Services}
			if len(scope.Services) == 0 && services != nil {
				scope.Services = services(o.Team)
			}
			ks := KRStatus{KeyResult: kr, Unit: kr.Kind.Unit()}
			fn := m[kr.Kind]
			if fn == nil {
				ks.Status = "unavailable"
				st.KeyResults = append(st.KeyResults, ks)
				continue
			}
			var cur, prev float64
			var okCur, okPrev bool
			var err error
			if !to.After(from) {
				okCur = false
			} else if cur, okCur, err = fn(ctx, kr, scope, from, to); err != nil {
				return nil, fmt.Errorf("objective %s, key result %s: %w", o.Name, kr.Name, err)
			}
			if prev, okPrev, err = fn(ctx, kr, scope, pq.Start(), pq.End()); err != nil {
				return nil, fmt.Errorf("objective %s, key result %s (previous quarter): %w", o.Name, kr.Name, err)
			}
			if okPrev {
				p := round4(prev)
				ks.Previous = &p
			}
			if tv := TargetValue(kr, prev, okPrev); !math.IsNaN(tv) {
				tv = round4(tv)
				ks.TargetValue = &tv
			}
			if !okCur {
				ks.Status = "no_data"
				st.KeyResults = append(st.KeyResults, ks)
				continue
			}
			c := round4(cur)
			ks.Current = &c
			score, ok := Score(kr, cur, prev, okPrev)
			if !ok {
				ks.Status = "no_baseline"
			} else {
				ks.Status = "ok"
				ks.Score = &score
				ks.Met = kr.Target.Met(cur, prev)
				sum += score
				st.Scored++
			}
			if okPrev {
				ks.Trend = Trend(kr.Kind, cur, prev)
			}
			st.KeyResults = append(st.KeyResults, ks)
		}
		if n := len(o.KeyResults); n > 0 && st.Scored > 0 {
			v := round4(sum / float64(n))
			st.Score = &v
		}
		out = append(out, st)
	}
	return out, nil
}

// ParseValue reads a value in kind's notation ("20%", "45m", "3/day",
// "40h"), as a key result's start is written.
func ParseValue(kind Kind, s string) (float64, error) {
	op := "<= "
	if kind.HigherIsBetter() {
		op = ">= "
	}
	t, err := ParseTarget(kind, op+strings.TrimSpace(s))
	if err != nil || t.ReduceBy > 0 {
		return 0, fmt.Errorf("value %q for %s: want the kind's unit (a percentage, a duration, a rate per day or week, hours)", s, kind)
	}
	return t.Value, nil
}
