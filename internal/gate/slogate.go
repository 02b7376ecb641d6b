package gate

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
)

// SLOThresholds are the SLO gate's limits; a nil limit is not checked.
type SLOThresholds struct {
	// MinBudgetRemaining is the least share of error budget left (0.1 for
	// 10 %), over the SLO's own window.
	MinBudgetRemaining *float64
	// MaxBurnRate is the highest burn rate over BurnWindow allowed.
	MaxBurnRate *float64
	// BurnWindow is the burn-rate window checked (default 1h).
	BurnWindow time.Duration
	// P95LatencyMs is the highest p95 latency allowed over the recent
	// window (SLOInput.Recent).
	P95LatencyMs *float64
	// RespectFreeze fails the gate while the service is in release freeze.
	RespectFreeze bool
}

// Any reports whether at least one limit is set.
func (t SLOThresholds) Any() bool {
	return t.MinBudgetRemaining != nil || t.MaxBurnRate != nil || t.P95LatencyMs != nil || t.RespectFreeze
}

// StatusBurnWindow reports whether the burn rate over d is one an SLO's
// status reports (slo.BurnWindows): the gate then checks the very number
// the burn-rate alerts use, and reads the data itself otherwise.
func StatusBurnWindow(d time.Duration) bool { return slices.Contains(slo.BurnWindows, d) }

// Span is an SLO's SLI over one span of time that the gate reads from the
// data rather than from the SLO's status: the recent window of the p95
// check, a burn window the status does not report, a migration's window.
type Span struct {
	From, To    time.Time
	Good, Total float64
	// P95Ms is the p95 latency in milliseconds; nil when the span holds no
	// latency observation, and NoLatency then says why.
	P95Ms     *float64
	NoLatency string
	// Error is set when the span could not be read.
	Error string
}

// Length is the span's duration as the gate prints it ("15m").
func (s *Span) Length() string { return slo.FormatDuration(s.To.Sub(s.From)) }

// SLOInput is what the SLO gate knows of one SLO.
type SLOInput struct {
	Status slo.Status
	// Recent is read for the p95 check; nil without one.
	Recent *Span
	// Burn is read for a burn-rate check whose window the status does not
	// report; nil when the status's burn rate is checked.
	Burn *Span
}

// EvaluateSLO checks every SLO against the thresholds, one check per SLO
// and limit, plus one release-freeze check for the service when
// RespectFreeze is set. Each check says which window it measured:
//
//   - budget_remaining: the SLO's own window (its status);
//   - burn_rate_<w>: the status's burn rate over w when w is one of
//     slo.BurnWindows, else the Burn span's bad ratio over the allowed bad
//     ratio;
//   - p95_latency_ms: the Recent span, never the SLO's whole window (a
//     canary slow for ten minutes must not hide in 28 days).
//
// No data is never a number: an SLO without data, a source that failed, a
// span without events or without latency observations makes that check
// inconclusive with a null value and the reason. The freeze check is
// inconclusive while an SLO whose freeze is unknown (no data) could hold
// it, unless another SLO already does. No statuses at all is one
// inconclusive check.
func EvaluateSLO(service string, in []SLOInput, t SLOThresholds) []Check {
	if t.BurnWindow <= 0 {
		t.BurnWindow = time.Hour
	}
	if len(in) == 0 {
		return []Check{{Name: "slos " + service, Op: ">=", Threshold: 1, Verdict: Inconclusive,
			Detail: "no SLO selected for service " + service}}
	}
	var out []Check
	frozen, unknownFreeze := slo.Freeze{}, ""
	burnName := slo.FormatDuration(t.BurnWindow)
	for _, x := range in {
		st := x.Status
		unread := statusNoData(st)
		if st.Freeze.Active && !frozen.Active {
			frozen = st.Freeze
		}
		if unread != "" && unknownFreeze == "" {
			unknownFreeze = "SLO " + st.Name + ": " + unread
		}
		if v := t.MinBudgetRemaining; v != nil {
			c := Check{Name: "budget_remaining " + st.Name, Op: ">=", Threshold: *v, Unit: "ratio",
				Window: st.Window, From: st.WindowStart, To: st.EvaluatedAt}
			switch {
			case unread != "":
				c.Verdict, c.Detail = Inconclusive, unread
			case st.ErrorBudget.Remaining == nil:
				c.Verdict, c.Detail = Inconclusive, "no events in the SLO's "+st.Window+" window"
			default:
				val := *st.ErrorBudget.Remaining
				c.Value = Measured(val)
				c.Verdict = verdictOf(Holds(val, ">=", *v))
				if c.Verdict == Fail {
					c.Detail = fmt.Sprintf("%s of the error budget left, the gate wants at least %s", pct(val), pct(*v))
				}
			}
			out = append(out, c)
		}
		if v := t.MaxBurnRate; v != nil {
			c := Check{Name: "burn_rate_" + burnName + " " + st.Name, Op: "<=", Threshold: *v, Window: burnName}
			var val float64
			var why string
			if x.Burn != nil {
				c.Window, c.From, c.To = x.Burn.Length(), x.Burn.From, x.Burn.To
				val, why = spanBurn(x.Burn, st.Objective)
			} else {
				c.From, c.To = st.EvaluatedAt.Add(-t.BurnWindow), st.EvaluatedAt
				val, why = statusBurn(st, burnName, unread)
			}
			if why != "" {
				c.Verdict, c.Detail = Inconclusive, why
			} else {
				c.Value = Measured(val)
				c.Verdict = verdictOf(Holds(val, "<=", *v))
				if c.Verdict == Fail {
					c.Detail = fmt.Sprintf("budget burning %.4gx over %s", val, c.Window)
				}
			}
			out = append(out, c)
		}
		if v := t.P95LatencyMs; v != nil {
			c := Check{Name: "p95_latency_ms " + st.Name, Op: "<=", Threshold: *v, Unit: "ms"}
			switch r := x.Recent; {
			case r == nil:
				c.Verdict, c.Detail = Inconclusive, "the recent window was not read"
			case r.Error != "":
				c.Window, c.From, c.To = r.Length(), r.From, r.To
				c.Verdict, c.Detail = Inconclusive, "cannot read the SLI: "+r.Error
			case r.P95Ms == nil:
				c.Window, c.From, c.To = r.Length(), r.From, r.To
				c.Verdict, c.Detail = Inconclusive, r.NoLatency
			default:
				c.Window, c.From, c.To = r.Length(), r.From, r.To
				c.Value = Measured(*r.P95Ms)
				c.Verdict = verdictOf(Holds(*r.P95Ms, "<=", *v))
			}
			out = append(out, c)
		}
	}
	if t.RespectFreeze {
		c := Check{Name: "release_freeze " + service, Op: "==", Threshold: 0}
		switch {
		case frozen.Active:
			c.Value, c.Verdict, c.Detail = Measured(1), Fail, frozen.Reason
		case unknownFreeze != "":
			c.Verdict, c.Detail = Inconclusive, "cannot tell whether the service is in release freeze: "+unknownFreeze
		default:
			c.Value, c.Verdict = Measured(0), Pass
		}
		out = append(out, c)
	}
	return out
}

// statusNoData says why an SLO's status has no numbers to check, or "".
func statusNoData(st slo.Status) string {
	switch {
	case st.Error != "":
		return st.Error
	case st.Status == slo.StatusNoData:
		return "no events in the SLO's " + st.Window + " window"
	}
	return ""
}

// statusBurn is the status's burn rate over the window named w, or why
// there is none.
func statusBurn(st slo.Status, w, unread string) (float64, string) {
	if unread != "" {
		return 0, unread
	}
	v, ok := st.BurnRates[w]
	switch {
	case !ok:
		return 0, "the SLO's status reports no burn rate over " + w
	case v == nil:
		return 0, "no events over the " + w + " window"
	}
	return *v, ""
}

// spanBurn is the burn rate of a span, (bad / total) / (1 - objective), or
// why there is none.
func spanBurn(s *Span, objective float64) (float64, string) {
	switch {
	case s.Error != "":
		return 0, "cannot read the SLI: " + s.Error
	case s.Total <= 0:
		return 0, "no events over the " + s.Length() + " window"
	case objective >= 1:
		return 0, "the SLO allows no error, so it has no burn rate"
	}
	bad := max(0, s.Total-s.Good)
	return math.Round(bad/s.Total/(1-objective)*1e6) / 1e6, ""
}

func verdictOf(ok bool) string {
	if ok {
		return Pass
	}
	return Fail
}

// FormatCheck renders a check as one line: verdict, name, value (or "no
// data"), the window it was measured over, the limit, and the detail when
// there is one:
//
//	FAIL           p95_latency_ms checkout-api = 975ms over 15m (want <= 500ms): …
func FormatCheck(c Check) string {
	s := fmt.Sprintf("%-14s %s = %s", strings.ToUpper(c.Verdict), c.Name, c.ValueText())
	if c.Window != "" {
		s += " over " + c.Window
	}
	s += fmt.Sprintf(" (want %s %s)", c.Op, c.ThresholdText())
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	return s
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "ratio":
		return pct(v)
	case "ms":
		return fmt.Sprintf("%.4gms", v)
	case "s":
		return fmt.Sprintf("%.3gs", v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

func pct(v float64) string { return fmt.Sprintf("%.4g%%", v*100) }
