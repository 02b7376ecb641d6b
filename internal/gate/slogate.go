package gate

import (
	"fmt"
	"math"
	"strings"

	"github.com/tandemhq/tandem/internal/slo"
)

// SLOThresholds are the SLO gate's limits; a nil limit is not checked.
type SLOThresholds struct {
	// MinBudgetRemaining is the least share of error budget left (0.1 for
	// 10 %).
	MinBudgetRemaining *float64
	// MaxBurnRate is the highest burn rate over BurnWindow allowed.
	MaxBurnRate *float64
	// BurnWindow is the burn-rate window checked ("1h" by default).
	BurnWindow string
	// P95LatencyMs is the highest p95 latency allowed.
	P95LatencyMs *float64
	// RespectFreeze fails the gate while the service is in release freeze.
	RespectFreeze bool
}

// Any reports whether at least one limit is set.
func (t SLOThresholds) Any() bool {
	return t.MinBudgetRemaining != nil || t.MaxBurnRate != nil || t.P95LatencyMs != nil || t.RespectFreeze
}

// EvaluateSLO checks every SLO status against the thresholds, one check per
// SLO and limit, plus one release-freeze check for the service when
// RespectFreeze is set. An SLO without data or whose source failed makes
// its checks inconclusive; a p95 limit on an SLO without latency data is
// inconclusive too. No statuses at all is one inconclusive check.
func EvaluateSLO(service string, statuses []slo.Status, t SLOThresholds) []Check {
	if t.BurnWindow == "" {
		t.BurnWindow = "1h"
	}
	if len(statuses) == 0 {
		return []Check{{Name: "slos " + service, Op: ">=", Threshold: 1, Verdict: Inconclusive,
			Detail: "no SLO found for service " + service}}
	}
	var out []Check
	frozen := slo.Freeze{}
	for _, st := range statuses {
		if st.Freeze.Active && !frozen.Active {
			frozen = st.Freeze
		}
		noData := ""
		switch {
		case st.Error != "":
			noData = "source error: " + st.Error
		case st.Status == slo.StatusNoData:
			noData = "no data in the SLO window"
		}
		add := func(c Check, ok bool) {
			c.Verdict = Pass
			if !ok {
				c.Verdict = Fail
			}
			if noData != "" {
				c.Verdict, c.Detail = Inconclusive, noData
			}
			out = append(out, c)
		}
		if v := t.MinBudgetRemaining; v != nil {
			val := 0.0
			if st.ErrorBudget.Remaining == nil && noData == "" {
				noData = "no data in the SLO window"
			} else if st.ErrorBudget.Remaining != nil {
				val = *st.ErrorBudget.Remaining
			}
			c := Check{Name: "budget_remaining " + st.Name, Value: val, Op: ">=", Threshold: *v, Unit: "ratio"}
			if !Holds(val, ">=", *v) {
				c.Detail = fmt.Sprintf("%s of the error budget left, the gate wants at least %s", pct(val), pct(*v))
			}
			add(c, Holds(val, ">=", *v))
		}
		if v := t.MaxBurnRate; v != nil {
			rate, ok := st.BurnRates[t.BurnWindow]
			c := Check{Name: "burn_rate_" + t.BurnWindow + " " + st.Name, Op: "<=", Threshold: *v}
			if !ok || rate == nil {
				c.Verdict, c.Detail = Inconclusive, "no burn rate over "+t.BurnWindow
				if ok {
					c.Detail += " (no events in that window)"
				}
				out = append(out, c)
			} else {
				val := *rate
				c.Value = val
				if !Holds(val, "<=", *v) {
					c.Detail = fmt.Sprintf("budget burning %.4gx over %s", val, t.BurnWindow)
				}
				add(c, Holds(val, "<=", *v))
			}
		}
		if v := t.P95LatencyMs; v != nil {
			c := Check{Name: "p95_latency_ms " + st.Name, Op: "<=", Threshold: *v, Unit: "ms"}
			if st.P95Ms == nil {
				c.Verdict, c.Detail = Inconclusive, "the SLI has no latency data"
				if noData != "" {
					c.Detail = noData
				}
				out = append(out, c)
			} else {
				c.Value = *st.P95Ms
				add(c, Holds(c.Value, "<=", *v))
			}
		}
	}
	if t.RespectFreeze {
		c := Check{Name: "release_freeze " + service, Op: "==", Threshold: 0, Verdict: Pass}
		if frozen.Active {
			c.Value, c.Verdict, c.Detail = 1, Fail, frozen.Reason
		}
		out = append(out, c)
	}
	return out
}

// FormatCheck renders a check as one line: name, value, op, threshold,
// verdict, and the detail when there is one.
func FormatCheck(c Check) string {
	val := formatValue(c.Value, c.Unit)
	if c.Verdict == Inconclusive && c.Value == 0 {
		val = "n/a"
	}
	s := fmt.Sprintf("%-14s %s = %s (want %s %s)", strings.ToUpper(c.Verdict), c.Name, val, c.Op, formatValue(c.Threshold, c.Unit))
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
