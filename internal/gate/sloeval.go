package gate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/slo"
)

// DefaultRecentWindow is the window the SLO gate reads for its p95 check
// when the request names none.
const DefaultRecentWindow = 15 * time.Minute

// MaxSpan is the longest window the SLO gate reads itself (the recent
// window, a burn window the status does not report, a migration).
const MaxSpan = 7 * 24 * time.Hour

// SLORequest asks the SLO gate for checks: the service, optionally some of
// its SLOs, the limits, and the window of the checks the gate reads from
// the data. Durations are strings ("15m", "1h").
type SLORequest struct {
	Service string   `json:"service"`
	SLOs    []string `json:"slos,omitempty"`
	// Environment is the environment whose SLOs are checked (default
	// production); a named SLO of another environment is refused.
	Environment string `json:"environment,omitempty"`
	// MinBudgetRemaining, MaxBurnRate and P95LatencyMs are the limits;
	// none at all checks that budget is left (min_budget_remaining 0).
	MinBudgetRemaining *float64 `json:"min_budget_remaining,omitempty"`
	MaxBurnRate        *float64 `json:"max_burn_rate,omitempty"`
	// BurnWindow is the burn-rate window (default 1h).
	BurnWindow    string   `json:"burn_window,omitempty"`
	P95LatencyMs  *float64 `json:"p95_latency_ms,omitempty"`
	RespectFreeze bool     `json:"respect_freeze,omitempty"`
	// Window is the recent window of the p95 check, ending now (default
	// 15m).
	Window string `json:"window,omitempty"`
	// From and To, when set, are the window of the p95 and burn-rate checks
	// instead (a migration's run); the burn rate is then read over them.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// RequestsOnly selects only SLOs measured from requests (native ingest
	// and Prometheus), not those counting change events: the latency and
	// error SLOs the migration gate checks.
	RequestsOnly bool `json:"requests_only,omitempty"`
	// ResolveOnly resolves the names and answers the selection without
	// reading any data or making any check.
	ResolveOnly bool `json:"resolve_only,omitempty"`
}

// SLOEvaluation is the SLO gate's answer: the SLOs it selected, the window
// of the checks it read from the data, the checks and their verdict.
type SLOEvaluation struct {
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	SLOs        []string  `json:"slos"`
	Window      string    `json:"window"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Verdict     string    `json:"verdict,omitempty"`
	Checks      []Check   `json:"checks"`
}

// SLOStatuses evaluates the SLOs of the live config (*slo.Service).
type SLOStatuses interface {
	Definitions() []*slo.Definition
	Status(ctx context.Context, name string, now time.Time) (slo.Status, error)
}

// SpanReader reads an SLO's data over a span of time (SLIReader).
type SpanReader interface {
	WindowReader
	// Quantile is the q-quantile of the SLO's latency in [from, to), in
	// milliseconds; ok is false when the span holds no latency observation.
	Quantile(ctx context.Context, def *slo.Definition, q float64, from, to time.Time) (v float64, ok bool, err error)
}

// SLOGate answers SLO gate requests from the live SLOs.
type SLOGate struct {
	SLOs   SLOStatuses
	Reader SpanReader
	// Services lists the catalog's service names.
	Services func() []string
	Clock    clock.Clock
}

// sloPlan is a parsed SLORequest.
type sloPlan struct {
	t        SLOThresholds
	from, to time.Time // the window read from the data
	fixed    bool      // From and To were given
}

func parseSLORequest(r SLORequest, now time.Time) (sloPlan, error) {
	p := sloPlan{t: SLOThresholds{MinBudgetRemaining: r.MinBudgetRemaining, MaxBurnRate: r.MaxBurnRate,
		P95LatencyMs: r.P95LatencyMs, RespectFreeze: r.RespectFreeze, BurnWindow: time.Hour}}
	if strings.TrimSpace(r.Service) == "" {
		return p, tandem.FieldErrorf("service", "required")
	}
	if len(r.SLOs) > 100 {
		return p, tandem.FieldErrorf("slos", "at most 100 names")
	}
	dur := func(field, s string, def time.Duration) (time.Duration, error) {
		if s == "" {
			return def, nil
		}
		d, err := tandem.ParseDuration(s)
		if err != nil || d < time.Second || d > MaxSpan {
			return 0, tandem.FieldErrorf(field, "want a duration from 1s to 7d such as 15m or 1h, got %q", s)
		}
		return d, nil
	}
	var err error
	if p.t.BurnWindow, err = dur("burn_window", r.BurnWindow, time.Hour); err != nil {
		return p, err
	}
	window, err := dur("window", r.Window, DefaultRecentWindow)
	if err != nil {
		return p, err
	}
	switch {
	case r.From.IsZero() != r.To.IsZero():
		return p, tandem.FieldErrorf("from", "give both from and to, or neither")
	case !r.From.IsZero():
		if !r.From.Before(r.To) || r.To.Sub(r.From) > MaxSpan {
			return p, tandem.FieldErrorf("from", "want from before to, at most 7d apart")
		}
		if r.Window != "" {
			return p, tandem.FieldErrorf("window", "give window or from and to, not both")
		}
		p.from, p.to, p.fixed = r.From, r.To, true
	default:
		p.from, p.to = now.Add(-window), now
	}
	for _, l := range []struct {
		field string
		v     *float64
	}{{"min_budget_remaining", r.MinBudgetRemaining}, {"max_burn_rate", r.MaxBurnRate}, {"p95_latency_ms", r.P95LatencyMs}} {
		if l.v != nil && (*l.v != *l.v || *l.v > 1e12 || *l.v < -1e12) {
			return p, tandem.FieldErrorf(l.field, "want a finite number")
		}
	}
	if r.MaxBurnRate != nil && *r.MaxBurnRate < 0 {
		return p, tandem.FieldErrorf("max_burn_rate", "must not be negative")
	}
	if r.P95LatencyMs != nil && *r.P95LatencyMs <= 0 {
		return p, tandem.FieldErrorf("p95_latency_ms", "must be positive")
	}
	if !p.t.Any() {
		zero := 0.0
		p.t.MinBudgetRemaining = &zero
	}
	return p, nil
}

// ResolveSLOs picks the SLOs a gate on service checks: the named ones, or
// every SLO of the service (only those measured from requests when
// requestsOnly). Every name must resolve. An unknown service, an unknown
// SLO, an SLO of another service and an empty selection are one
// unprocessable *tandem.Error that names every problem, with close names:
//
//	unknown SLO checkout-api-availabilty (did you mean checkout-api-availability?)
func ResolveSLOs(service string, names []string, defs []*slo.Definition, services []string, requestsOnly bool) ([]*slo.Definition, error) {
	return ResolveSLOsIn(service, "", names, defs, services, requestsOnly)
}

// ResolveSLOsIn is ResolveSLOs within one environment (every environment
// when ""): the selection is the service's SLOs there, and a named SLO of
// another environment is one of the problems.
func ResolveSLOsIn(service, environment string, names []string, defs []*slo.Definition, services []string, requestsOnly bool) ([]*slo.Definition, error) {
	var problems []string
	field := "slos"
	known := false
	for _, s := range services {
		known = known || s == service
	}
	if !known {
		problems = append(problems, "unknown service "+service+didYouMean(service, services))
		field = "service"
	}
	byName := make(map[string]*slo.Definition, len(defs))
	all := make([]string, 0, len(defs))
	for _, d := range defs {
		byName[d.Name] = d
		all = append(all, d.Name)
	}
	var out []*slo.Definition
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		d, ok := byName[n]
		switch {
		case !ok:
			problems = append(problems, "unknown SLO "+n+didYouMean(n, all))
		case known && d.Service != service:
			problems = append(problems, fmt.Sprintf("SLO %s belongs to service %s, not %s", n, d.Service, service))
		case environment != "" && d.Env() != environment:
			problems = append(problems, fmt.Sprintf("SLO %s is measured in %s, not %s", n, d.Env(), environment))
		case requestsOnly && d.Indicator.Source == slo.SourceChanges:
			problems = append(problems, fmt.Sprintf("SLO %s counts change events, not requests", n))
		default:
			out = append(out, d)
		}
	}
	if len(names) == 0 && known {
		var others []string
		for _, d := range defs {
			if d.Service != service || (environment != "" && d.Env() != environment) {
				continue
			}
			if requestsOnly && d.Indicator.Source == slo.SourceChanges {
				others = append(others, d.Name)
				continue
			}
			out = append(out, d)
		}
		switch {
		case len(out) > 0:
		case requestsOnly && len(others) > 0:
			problems = append(problems, fmt.Sprintf("service %s has no SLO measured from requests (latency or errors); its SLOs count change events: %s",
				service, strings.Join(others, ", ")))
		case environment != "":
			problems = append(problems, "service "+service+" has no SLO in "+environment)
		default:
			problems = append(problems, "service "+service+" has no SLO")
		}
	}
	if len(problems) > 0 {
		return nil, &tandem.Error{Code: tandem.EUnprocessable, Field: field, Message: strings.Join(problems, "; "), Details: problems}
	}
	return out, nil
}

// didYouMean is " (did you mean X?)" with the closest candidate, or "".
func didYouMean(name string, candidates []string) string {
	if c := catalog.Closest(name, candidates, 1); len(c) > 0 {
		return " (did you mean " + c[0] + "?)"
	}
	return ""
}

// Evaluate answers an SLO gate request. Bad limits or windows are invalid
// errors naming the field; names that do not resolve are an unprocessable
// error (ResolveSLOs). Data that cannot be read is not an error: the
// checks that need it are inconclusive.
func (g *SLOGate) Evaluate(ctx context.Context, r SLORequest) (SLOEvaluation, error) {
	now := g.Clock.Now()
	p, err := parseSLORequest(r, now)
	if err != nil {
		return SLOEvaluation{}, err
	}
	var services []string
	if g.Services != nil {
		services = g.Services()
	}
	env := r.Environment
	if env == "" {
		env = slo.DefaultEnvironment
	}
	defs, err := ResolveSLOsIn(r.Service, env, r.SLOs, g.SLOs.Definitions(), services, r.RequestsOnly)
	if err != nil {
		return SLOEvaluation{}, err
	}
	ev := SLOEvaluation{Service: r.Service, Environment: env, SLOs: make([]string, len(defs)), Checks: []Check{},
		From: p.from, To: p.to, Window: slo.FormatDuration(p.to.Sub(p.from))}
	for i, d := range defs {
		ev.SLOs[i] = d.Name
	}
	if r.ResolveOnly {
		return ev, nil
	}
	in := make([]SLOInput, 0, len(defs))
	for _, d := range defs {
		st, err := g.SLOs.Status(ctx, d.Name, now)
		if err != nil {
			return SLOEvaluation{}, err
		}
		x := SLOInput{Status: st}
		var span *Span
		if p.t.P95LatencyMs != nil || (p.t.MaxBurnRate != nil && p.fixed) {
			span = g.span(ctx, d, p.from, p.to, p.t.P95LatencyMs != nil)
		}
		if p.t.P95LatencyMs != nil {
			x.Recent = span
		}
		if p.t.MaxBurnRate != nil {
			switch {
			case p.fixed:
				x.Burn = span
			case !StatusBurnWindow(p.t.BurnWindow):
				x.Burn = g.span(ctx, d, now.Add(-p.t.BurnWindow), now, false)
			}
		}
		in = append(in, x)
	}
	ev.Checks = EvaluateSLO(r.Service, in, p.t)
	ev.Verdict = Combine(ev.Checks)
	return ev, nil
}

// span reads one SLO's counts over [from, to), and its p95 when latency is
// asked for.
func (g *SLOGate) span(ctx context.Context, def *slo.Definition, from, to time.Time, latency bool) *Span {
	s := &Span{From: from, To: to}
	w, err := g.Reader.Window(ctx, def, from, to)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Good, s.Total = w.Good, w.Total
	if !latency {
		return s
	}
	v, ok, err := g.Reader.Quantile(ctx, def, 0.95, from, to)
	switch {
	case err != nil:
		s.Error = err.Error()
	case ok:
		s.P95Ms = Measured(v)
	case def.Indicator.Source == slo.SourcePrometheus && def.Indicator.LatencyHistogram == "":
		s.NoLatency = "SLO " + def.Name + " names no latency histogram (annotation tandem.dev/latency-histogram)"
	case def.Indicator.Source == slo.SourceChanges:
		s.NoLatency = "SLO " + def.Name + " counts change events, which have no latency"
	default:
		s.NoLatency = "no latency observations over the " + s.Length() + " window"
	}
	return s
}
