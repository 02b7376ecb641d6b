package web

import (
	"cmp"
	"context"
	"encoding/json"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/web/chart"
)

// Changes is what the dashboard needs of the change capability.
// *change.Store implements it.
type Changes interface {
	List(ctx context.Context, f change.Filter) ([]change.Event, error)
}

// serviceRanges are the ranges the service page offers: its charts use the
// SLO's hourly history, so shorter ranges would show a handful of points.
var serviceRanges = []string{"24h", "7d", "28d", "90d"}

// burnRate is one burn-rate window of an SLO; Rate is NaN when the window
// holds no events.
type burnRate struct {
	Window string
	Rate   float64
}

// orNaN is *v, or NaN (shown as "no data") for a number the data cannot give.
func orNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// sloPanel is one SLO on the service page.
type sloPanel struct {
	Status      slo.Status
	Gauge       template.HTML
	SLIChart    template.HTML
	BudgetChart template.HTML
	BurnChart   template.HTML
	BurnRates   []burnRate
	// MinSLI is the worst hourly SLI in the range (NaN without data).
	MinSLI     float64
	HistoryErr string
	// BurnClipped is the burn-rate axis's top when taller values were
	// drawn at it (0: nothing clipped).
	BurnClipped float64
	// SLIFloor is the SLI axis's bottom when lower values were drawn at
	// it (0: nothing clipped).
	SLIFloor float64
	// Links lead out: the SLI's query in Prometheus and Grafana Explore,
	// the runbook of its alerts.
	Links []outLink
}

// outLink is a link to another tool.
type outLink struct {
	Text, Href string
}

// sliQuery is the PromQL that gives an SLO's SLI, for links to Prometheus
// and Grafana; "" for an SLI that Prometheus does not hold.
func sliQuery(ind slo.Indicator) string {
	switch {
	case ind.Source != slo.SourcePrometheus:
		return ""
	case ind.Query != "":
		return ind.Query
	case ind.Good != "" && ind.Total != "":
		return "sum(rate(" + ind.Good + "[5m])) / sum(rate(" + ind.Total + "[5m]))"
	case ind.Bad != "" && ind.Total != "":
		return "1 - sum(rate(" + ind.Bad + "[5m])) / sum(rate(" + ind.Total + "[5m]))"
	}
	return ""
}

// sloLinks builds an SLO's links out from the dashboard config.
func sloLinks(dc config.DashboardConfig, def *slo.Definition, tr timeRange) []outLink {
	var out []outLink
	if q := sliQuery(def.Indicator); q != "" {
		prom := cmp.Or(dc.PrometheusURL, strings.TrimRight(def.Indicator.PrometheusURL, "/"))
		if prom != "" {
			v := url.Values{"g0.expr": {q}, "g0.tab": {"0"}, "g0.range_input": {strings.ReplaceAll(compactDuration(tr.Span()), " ", "")},
				"g0.end_input": {tr.To.UTC().Format("2006-01-02 15:04:05")}}
			out = append(out, outLink{Text: "Query in Prometheus", Href: prom + "/graph?" + v.Encode()})
		}
		if dc.GrafanaURL != "" {
			left, _ := json.Marshal(map[string]any{
				"datasource": dc.GrafanaDatasource,
				"queries":    []map[string]string{{"refId": "A", "expr": q}},
				"range":      map[string]string{"from": strconv.FormatInt(tr.From.UnixMilli(), 10), "to": strconv.FormatInt(tr.To.UnixMilli(), 10)},
			})
			out = append(out, outLink{Text: "Explore in Grafana", Href: dc.GrafanaURL + "/explore?" + url.Values{"left": {string(left)}}.Encode()})
		}
	}
	if rb := dc.AlertRunbooks[def.Name]; rb != "" {
		out = append(out, outLink{Text: "Runbook for its alerts", Href: rb})
	}
	return out
}

// sliAxis is the SLI chart's value range for an objective: from ten error
// budgets below the objective (never below 0) to 100%.
func sliAxis(objective float64) (floor, top float64) {
	floor = math.Max(0, objective-10*(1-objective))
	if objective >= 1 || floor >= 1 {
		floor = 0.9
	}
	return floor, 1
}

// serviceData is the data of service.html.
type serviceData struct {
	base
	URL     *url.URL
	Range   timeRange
	Presets []string
	// Env is the environment whose SLOs and changes the charts show;
	// Envs the ones the page offers.
	Env          string
	Envs         []string
	Service      catalog.Service
	Runbook      string
	Team         catalog.Team
	Owners       []catalog.Person
	Tools        []catalog.OwnershipRow
	Dependents   []string
	SLOs         []sloPanel
	Changes      []change.Event
	Kinds        []string // change kinds on the charts, for the legend
	Incidents    []incident.Incident
	Policy       *policyView
	PolicyName   string
	Freeze       bool
	FreezeReason string
	DORA         *serviceDORA
	// GatesByChange are gate results linked to a change; GateRuns the
	// latest results of the service.
	GatesByChange map[int64][]gate.Result
	GateRuns      []gate.Result
	HaveGates     bool
	// Chaos are the service's chaos experiments in the range;
	// ChaosByChange the SLO verdict of each chaos change.
	Chaos         []chaosPanel
	ChaosByChange map[int64]string
	HaveChaos     bool

	HaveSLO, HaveChanges, HaveIncidents, HaveOncall, HaveDORA bool
}

// servicePage shows one service: SLO charts with change markers on the same
// time axis, budget and burn-rate trends, recent changes, incidents, owners,
// tools and the escalation policy.
func (h *Handler) servicePage(w http.ResponseWriter, r *http.Request, b base) error {
	cat := h.deps.Config.Get().Catalog
	name := r.PathValue("name")
	svc, ok := cat.Service(name)
	if !ok {
		msg := "no service named " + name
		if c := catalog.Closest(name, cat.ServiceNames(), 3); len(c) > 0 {
			msg += "; did you mean " + strings.Join(c, ", ") + "?"
		}
		return tandem.Errorf(tandem.ENotFound, "%s", msg)
	}
	tr, err := parseRange(r.URL.Query(), b.Now, "7d")
	if err != nil {
		return err
	}
	env, err := parseEnv(r.URL.Query())
	if err != nil {
		return err
	}
	b.Title, b.Section = svc.Name, "overview"
	d := serviceData{base: b, URL: r.URL, Range: tr, Presets: serviceRanges, Env: env, Service: svc, Runbook: h.deps.Config.Get().Dashboard.ServiceRunbooks[svc.Name]}
	d.Team, _ = cat.Team(svc.Team)
	for _, m := range d.Team.Members {
		if p, ok := cat.Person(m); ok {
			d.Owners = append(d.Owners, p)
		} else {
			d.Owners = append(d.Owners, catalog.Person{Name: m})
		}
	}
	owners := map[string]bool{svc.Team: true}
	for _, m := range d.Team.Members {
		owners[m] = true
	}
	for _, row := range catalog.Ownership(cat) {
		if owners[row.Primary.Name] || row.Backup != nil && owners[row.Backup.Name] {
			d.Tools = append(d.Tools, row)
		}
	}
	for _, s := range cat.Services {
		if slices.Contains(s.DependsOn, svc.Name) {
			d.Dependents = append(d.Dependents, s.Name)
		}
	}
	ctx := r.Context()

	var markers []chart.Marker
	if h.deps.Changes != nil {
		d.HaveChanges = true
		evs, err := h.deps.Changes.List(ctx, change.Filter{Services: []string{svc.Name}, Since: tr.From, Until: tr.To.Add(time.Millisecond), Limit: 5000})
		if err != nil {
			return err
		}
		kinds := map[string]bool{}
		for _, e := range evs {
			// The environment's changes go on its charts; the table below
			// lists every environment's.
			if cmp.Or(e.Environment, catalog.DefaultEnvironment) != env {
				continue
			}
			kinds[e.Kind] = true
			markers = append(markers, chart.Marker{T: e.At(), Kind: e.Kind, Href: "#change-" + itoa(e.ID),
				Text: changeText(e), Failed: e.Failed()})
		}
		for _, k := range change.Kinds {
			if kinds[k] {
				d.Kinds = append(d.Kinds, k)
			}
		}
		if len(evs) > 100 {
			evs = evs[:100]
		}
		d.Changes = evs
	}

	sloEnvs := []string{}
	if h.deps.SLOs != nil {
		d.HaveSLO = true
		for _, def := range h.deps.SLOs.Definitions() {
			if def.Service != svc.Name {
				continue
			}
			sloEnvs = append(sloEnvs, def.Env())
			if def.Env() != env {
				continue
			}
			st, err := h.deps.SLOs.Status(ctx, def.Name, b.Now)
			if err != nil {
				return err
			}
			if st.Freeze.Active {
				d.Freeze = true
				d.FreezeReason = strings.TrimPrefix(d.FreezeReason+"; "+st.Freeze.Reason, "; ")
			}
			d.SLOs = append(d.SLOs, h.sloPanel(ctx, def, st, tr, markers))
		}
	}
	d.Envs = envChoices(env, environments(svc), sloEnvs)

	if h.deps.Incidents != nil {
		d.HaveIncidents = true
		incs, err := h.deps.Incidents.List(ctx, incident.Filter{Service: svc.Name, Since: tr.From, Limit: 200})
		if err != nil {
			return err
		}
		open, err := h.deps.Incidents.List(ctx, incident.Filter{Service: svc.Name, Status: []string{incident.Triggered, incident.Acknowledged}, Until: tr.From, Limit: 200})
		if err != nil {
			return err
		}
		incs = append(incs, open...)
		sortIncidents(incs)
		d.Incidents = incs
	}

	if h.deps.Oncall != nil {
		d.HaveOncall = true
		dir, err := h.deps.Oncall.Directory(ctx, b.Now, b.Now.Add(time.Millisecond))
		if err != nil {
			return err
		}
		if p, ok := dir.PolicyForService(svc.Name); ok {
			d.Policy = &policyView{Policy: p, Rules: dir.PolicyOnCall(p, b.Now)}
		}
		d.PolicyName = svc.EscalationPolicy
	}

	if h.deps.Gates != nil {
		d.HaveGates = true
		if d.GatesByChange, d.GateRuns, err = h.gateResults(ctx, svc.Name, tr); err != nil {
			return err
		}
	}

	if h.deps.Chaos != nil {
		d.HaveChaos = true
		if d.Chaos, d.ChaosByChange, err = h.chaosPanels(ctx, svc.Name, tr); err != nil {
			return err
		}
	}

	if h.deps.DORA != nil {
		d.HaveDORA = true
		sd, err := h.serviceDORA(ctx, svc.Name, tr)
		if err != nil {
			return err
		}
		d.DORA = sd
	}
	h.render(w, http.StatusOK, "service.html", d)
	return nil
}

// changeText is how a change reads in a marker's hover text.
func changeText(e change.Event) string {
	s := e.Kind + " " + e.Service
	if e.Version != "" {
		s += " " + e.Version
	}
	if e.Environment != "" && e.Environment != catalog.DefaultEnvironment {
		s += " to " + e.Environment
	}
	s += " (" + strings.ReplaceAll(e.Status, "_", " ")
	if e.FailureReason != "" {
		s += ": " + e.FailureReason
	}
	s += ")"
	if e.Actor != "" {
		s += " by " + e.Actor
	}
	return s
}

// sloPanel builds one SLO's gauge and charts over the range.
func (h *Handler) sloPanel(ctx context.Context, def *slo.Definition, st slo.Status, tr timeRange, markers []chart.Marker) sloPanel {
	p := sloPanel{Status: st, MinSLI: math.NaN(), Links: sloLinks(h.deps.Config.Get().Dashboard, def, tr)}
	p.Gauge = chart.Arc(orNaN(st.ErrorBudget.Remaining), st.ErrorBudget.Remaining == nil, st.Name, def.FreezeBelow)
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} {
		if v, ok := st.BurnRates[w]; ok {
			p.BurnRates = append(p.BurnRates, burnRate{Window: w, Rate: orNaN(v)})
		}
	}
	hist, err := h.deps.SLOs.History(ctx, def.Name, tr.From, tr.To)
	if err != nil {
		p.HistoryErr = tandem.ErrorMessage(err)
		hist = nil
	}
	sli := make([]chart.Point, 0, len(hist))
	budget := make([]chart.Point, 0, len(hist))
	burn := make([]chart.Point, 0, len(hist))
	for _, hp := range hist {
		// A point stands for the hour ending at hp.Time; draw it mid-hour.
		at := hp.Time.Add(-30 * time.Minute)
		if hp.SLI == nil {
			sli = append(sli, chart.Point{T: at, V: math.NaN()})
			burn = append(burn, chart.Point{T: at, V: math.NaN()})
		} else {
			sli = append(sli, chart.Point{T: at, V: *hp.SLI})
			b, _ := slo.BurnRate(slo.Counts{Good: hp.Good, Total: hp.Total}, def.Objective)
			burn = append(burn, chart.Point{T: at, V: b})
			if math.IsNaN(p.MinSLI) || *hp.SLI < p.MinSLI {
				p.MinSLI = *hp.SLI
			}
		}
		budget = append(budget, chart.Point{T: hp.Time, V: orNaN(hp.Remaining)})
	}
	// The SLI axis is scaled around the objective, as far below it as
	// ten times the error budget, so 99.80% against 99.9% sits visibly
	// under the line; deeper dips are drawn at the floor (the caption
	// says so).
	floor, ceil := sliAxis(def.Objective)
	if !math.IsNaN(p.MinSLI) && p.MinSLI < floor {
		p.SLIFloor = floor
	}
	p.SLIChart = chart.TimeSeries{
		Title: def.Name + ": SLI per hour with changes, " + tr.Label(), From: tr.From, To: tr.To,
		Series:  []chart.Series{{Name: "SLI", Points: sli, Area: true}},
		Markers: markers, Rules: []chart.Rule{{V: def.Objective, Label: "objective " + chart.Percent.Text(def.Objective)}},
		Format: chart.Percent, Width: 960, Height: 240,
		FixedY: true, YMin: floor, YMax: ceil,
	}.SVG()
	// The budget axis runs from 100% down to 0, or below when overspent.
	low := 0.0
	for _, pt := range budget {
		// Hours without data (before the SLO's first events) are NaN
		// and must not become the axis's bottom.
		if !math.IsNaN(pt.V) {
			low = math.Min(low, pt.V)
		}
	}
	if low < 0 {
		low = math.Floor(low*4) / 4
	}
	p.BudgetChart = chart.TimeSeries{
		Title: def.Name + ": error budget left, " + tr.Label(), From: tr.From, To: tr.To,
		Series:  []chart.Series{{Name: "budget left", Points: budget, Area: true}},
		Markers: markers, Rules: []chart.Rule{{V: 0, Label: "exhausted"}, {V: 0.1, Label: "10%"}, {V: 0.5, Label: "50%"}},
		Format: chart.Format{Percent: true, Decimals: 0}, Width: 480, Height: 200,
		FixedY: true, YMin: low, YMax: 1,
	}.SVG()
	var rules []chart.Rule
	seen := map[float64]bool{}
	for _, c := range def.Alerting.Page {
		if !seen[c.Threshold] {
			rules = append(rules, chart.Rule{V: c.Threshold, Label: "page " + chart.Number.Text(c.Threshold) + "×"})
			seen[c.Threshold] = true
		}
	}
	for _, c := range def.Alerting.Ticket {
		if !seen[c.Threshold] {
			rules = append(rules, chart.Rule{V: c.Threshold, Label: "ticket " + chart.Number.Text(c.Threshold) + "×"})
			seen[c.Threshold] = true
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].V > rules[j].V })
	// One spike of 300× would flatten every threshold into the floor: the
	// axis stops at four times the highest threshold and taller values are
	// drawn at the top (the caption says so).
	top := 0.0
	for _, pt := range burn {
		if !math.IsNaN(pt.V) {
			top = math.Max(top, pt.V)
		}
	}
	fixed, yMax := false, 0.0
	if len(rules) > 0 {
		limit := 4 * rules[0].V
		if top > limit {
			fixed, yMax = true, limit
			p.BurnClipped = limit
		}
	}
	p.BurnChart = chart.TimeSeries{
		FixedY: fixed, YMin: 0, YMax: yMax,
		Title: def.Name + ": burn rate per hour, " + tr.Label(), From: tr.From, To: tr.To,
		Series:  []chart.Series{{Name: "burn rate", Points: burn}},
		Markers: markers, Rules: rules,
		Format: chart.Format{Suffix: "×", Decimals: -1}, Width: 480, Height: 200,
	}.SVG()
	return p
}

// Gates lists gate results (the audit log). *gate.Store implements it.
type Gates interface {
	List(ctx context.Context, f gate.Filter) ([]gate.Result, error)
}

// gateResults reads the service's gate results in the range: by change
// (verification of a deploy, a gate run for it) and the latest runs.
func (h *Handler) gateResults(ctx context.Context, service string, tr timeRange) (map[int64][]gate.Result, []gate.Result, error) {
	rs, err := h.deps.Gates.List(ctx, gate.Filter{Service: service, Since: tr.From, Until: tr.To.Add(time.Millisecond), Limit: 1000})
	if err != nil {
		return nil, nil, err
	}
	byChange := map[int64][]gate.Result{}
	for _, r := range rs {
		if r.ChangeID != 0 {
			byChange[r.ChangeID] = append(byChange[r.ChangeID], r)
		}
	}
	if len(rs) > 20 {
		rs = rs[:20]
	}
	return byChange, rs, nil
}
