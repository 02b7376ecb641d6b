// Package chaos runs chaos experiments and judges them by the SLOs: a
// chaos run is a change event of kind chaos whose verdict — held,
// degraded or broken — comes from what the experiment cost each SLO of
// the service in its environment.
//
// The pure core (this file) takes the SLIs measured over an experiment and
// returns the verdict and each SLO's cost in error budget; it reads no
// clock and does no I/O. The shell around it is the Service (steady-state
// check, observation, verdict stored on the change), its Store, the
// process-group runner the CLI uses, the Toxiproxy-based fault proxy, and
// the importers of LitmusChaos, Chaos Mesh and Gremlin reports.
package chaos

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Verdicts of a chaos experiment.
const (
	// Held: every SLO stayed within its objective's pace (no page
	// condition) and the experiment cost less than the degraded share of
	// any SLO's budget.
	Held = "held"
	// Degraded: some SLO's budget burned above the stated share, but no
	// page condition held.
	Degraded = "degraded"
	// Broken: a page condition held during the experiment, or it was
	// aborted.
	Broken = "broken"
	// Inconclusive: an SLO could not be read or held no events over the
	// experiment; no data is never a verdict of held.
	Inconclusive = "inconclusive"
)

// DefaultDegradedShare is the share of an SLO's error budget an experiment
// may cost before it is degraded (0.1 %).
const DefaultDegradedShare = 0.001

// SLOData is what one SLO measured over an experiment's window (the run
// and its cool-down).
type SLOData struct {
	SLO string `json:"slo"`
	// Objective is the SLO's target ratio; Window the length of its
	// budget window (the calendar period's nominal length).
	Objective float64       `json:"objective"`
	Window    time.Duration `json:"-"`
	// PageBurnRate is the lowest burn rate of the SLO's page conditions,
	// 0 when it has none; MinEvents the least events a page condition
	// needs.
	PageBurnRate float64 `json:"page_burn_rate,omitempty"`
	MinEvents    float64 `json:"min_events,omitempty"`
	// Good and Total are the events of the window.
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
	// Error is set when the SLI could not be read.
	Error string `json:"error,omitempty"`
	// PageFiring says the SLO's own page alert was firing at the end.
	PageFiring bool `json:"page_firing,omitempty"`
}

// Cost is one SLO's part of a verdict: the burn rate over the
// experiment's window and the share of the SLO's error budget it cost.
// BurnRate and BudgetCost are null when the window held no events or the
// SLI could not be read (Reason says which).
type Cost struct {
	SLO        string   `json:"slo"`
	Good       *float64 `json:"good"`
	Total      *float64 `json:"total"`
	BurnRate   *float64 `json:"burn_rate"`
	BudgetCost *float64 `json:"budget_cost"`
	Verdict    string   `json:"verdict"`
	Reason     string   `json:"reason"`
}

// Judgement is the verdict of an experiment with each SLO's cost.
type Judgement struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	Costs   []Cost `json:"costs"`
}

func ptr(v float64) *float64 { return &v }

// BurnRate is the bad ratio over the allowed bad ratio; ok is false
// without events.
func BurnRate(good, total, objective float64) (float64, bool) {
	if total <= 0 || objective >= 1 || objective <= 0 {
		return 0, false
	}
	bad := math.Max(0, total-good)
	return bad / total / (1 - objective), true
}

// Judge gives an experiment's verdict from each SLO's data over span (the
// run and its cool-down). For each SLO:
//
//   - burn rate b = (bad / total) / (1 - objective);
//   - budget cost = b × span / window: the share of the window's error
//     budget the experiment spent, at the pace it burned;
//   - broken when the SLO's page alert was firing at the end, or when b is
//     above its lowest page burn rate with at least MinEvents events;
//   - degraded when the cost is at least degradedShare;
//   - held otherwise; inconclusive without events or when unreadable.
//
// The experiment is broken when it was aborted or any SLO is broken, then
// degraded when any is, then inconclusive when any SLO is, else held.
// No SLO at all is inconclusive.
func Judge(in []SLOData, span time.Duration, degradedShare float64, aborted bool, abortReason string) Judgement {
	if degradedShare <= 0 {
		degradedShare = DefaultDegradedShare
	}
	j := Judgement{Costs: make([]Cost, 0, len(in))}
	count := map[string][]string{}
	for _, d := range in {
		c := Cost{SLO: d.SLO}
		switch {
		case d.Error != "":
			c.Verdict, c.Reason = Inconclusive, "SLI unreadable: "+d.Error
		case d.Total <= 0:
			c.Good, c.Total = ptr(d.Good), ptr(d.Total)
			c.Verdict, c.Reason = Inconclusive, "no events over the experiment"
		default:
			c.Good, c.Total = ptr(d.Good), ptr(d.Total)
			b, _ := BurnRate(d.Good, d.Total, d.Objective)
			c.BurnRate = ptr(round(b, 6))
			cost := 0.0
			if d.Window > 0 {
				cost = b * span.Seconds() / d.Window.Seconds()
			}
			c.BudgetCost = ptr(round(cost, 9))
			switch {
			case d.PageFiring:
				c.Verdict, c.Reason = Broken, "the SLO's page alert fired"
			case d.PageBurnRate > 0 && b > d.PageBurnRate && d.Total >= d.MinEvents:
				c.Verdict, c.Reason = Broken, fmt.Sprintf("burn rate %.4g above the page threshold %.4g over %.0f events", b, d.PageBurnRate, d.Total)
			case cost >= degradedShare:
				c.Verdict, c.Reason = Degraded, fmt.Sprintf("cost %s of the error budget, at least the degraded share %s", pct(cost), pct(degradedShare))
			default:
				c.Verdict, c.Reason = Held, fmt.Sprintf("burn rate %.4g, cost %s of the error budget", b, pct(cost))
			}
		}
		count[c.Verdict] = append(count[c.Verdict], c.SLO)
		j.Costs = append(j.Costs, c)
	}
	sort.Slice(j.Costs, func(a, b int) bool { return j.Costs[a].SLO < j.Costs[b].SLO })
	names := func(v string) string {
		s := count[v]
		sort.Strings(s)
		return strings.Join(s, ", ")
	}
	switch {
	case aborted:
		j.Verdict, j.Reason = Broken, "aborted: "+abortReason
	case len(count[Broken]) > 0:
		j.Verdict, j.Reason = Broken, "page condition on "+names(Broken)
	case len(count[Degraded]) > 0:
		j.Verdict, j.Reason = Degraded, "error budget burned above the degraded share on "+names(Degraded)
	case len(in) == 0:
		j.Verdict, j.Reason = Inconclusive, "no SLO to judge the experiment by"
	case len(count[Inconclusive]) > 0:
		j.Verdict, j.Reason = Inconclusive, "no data for "+names(Inconclusive)
	default:
		j.Verdict, j.Reason = Held, "every SLO held"
	}
	return j
}

// Abort reports whether an experiment must stop: an SLO burns above limit
// over the window observed so far with at least its MinEvents events (so
// that the first failed request of a quiet service does not abort). reason
// names the SLO and its burn rate.
func Abort(in []SLOData, limit float64) (abort bool, reason string) {
	if limit <= 0 {
		return false, ""
	}
	for _, d := range in {
		if d.Error != "" || d.Total < math.Max(1, d.MinEvents) {
			continue
		}
		if b, ok := BurnRate(d.Good, d.Total, d.Objective); ok && b > limit {
			return true, fmt.Sprintf("SLO %s burns its error budget %.4gx, above the abort limit %.4g", d.SLO, b, limit)
		}
	}
	return false, ""
}

// ExitCode maps a verdict to the exit code gates use: 0 held, 1 degraded
// or broken, 2 inconclusive (could not evaluate).
func ExitCode(verdict string) int {
	switch verdict {
	case Held:
		return 0
	case Degraded, Broken:
		return 1
	}
	return 2
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func pct(v float64) string {
	return fmt.Sprintf("%.4g%%", v*100)
}
