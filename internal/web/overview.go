package web

import (
	"context"
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
)

// sloCell is one SLO of a service as the overview shows it.
type sloCell struct {
	Name      string
	Status    string  // healthy, warning, critical, exhausted, no_data
	Remaining float64 // NaN without data
	NoData    bool
	Burn1h    float64 // NaN when the last hour holds no events
	SLI       float64 // NaN without data
	Objective float64
	Page      bool   // page alert firing
	Reason    string // why there is no data
}

// incidentRef is an open incident as listed beside a service.
type incidentRef struct {
	ID       int64
	Title    string
	Severity string
	Status   string
}

// overviewRow is one service on the overview.
type overviewRow struct {
	Service catalog.Service
	SLOs    []sloCell
	// Status is the worst SLO status, "no_slo" when the service has none.
	Status string
	// Remaining is the smallest remaining budget of its SLOs with data
	// (NaN when none has data); Burn the largest 1h burn rate of those
	// with events in the last hour (NaN when none has).
	Remaining    float64
	Burn         float64
	Freeze       bool
	FreezeReason string
	Tiers        []tierBadge
	Incidents    []incidentRef
	OnCall       []string
}

// tierBadge is a DORA tier shown as a badge.
type tierBadge struct {
	Metric string // short name: "DF", "LT", "CFR", "MTTR"
	Title  string // full name and value, for hover and screen readers
	Tier   string // elite, high, medium, low, or "" for no data
}

// statusRank orders statuses worst first.
var statusRank = map[string]int{"exhausted": 0, "critical": 1, "warning": 2, "healthy": 3, "no_data": 4, "no_slo": 5}

// statusIcon is the symbol shown before a status word.
var statusIcon = map[string]string{"exhausted": "✖", "critical": "■", "warning": "▲", "healthy": "✓", "no_data": "○", "no_slo": "–"}

// statusWord is how a status reads on the page.
var statusWord = map[string]string{"exhausted": "exhausted", "critical": "critical", "warning": "warning", "healthy": "healthy", "no_data": "no data", "no_slo": "no SLO"}

// overviewFilter is the overview's filters, from the URL.
type overviewFilter struct {
	Team, Env, Status string
	Tier              int // 0: any
	Q                 string
}

// parseOverviewFilter reads team, tier, env, status and q from the query.
// A bad tier or status is an invalid error naming the field.
func parseOverviewFilter(q url.Values) (overviewFilter, error) {
	f := overviewFilter{Team: q.Get("team"), Env: q.Get("env"), Status: q.Get("status"), Q: strings.TrimSpace(q.Get("q"))}
	if t := q.Get("tier"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 9 {
			return f, tandem.FieldErrorf("tier", "tier must be a number from 1 to 9, got %q", t)
		}
		f.Tier = n
	}
	if _, ok := statusRank[f.Status]; f.Status != "" && !ok {
		return f, tandem.FieldErrorf("status", "status must be one of exhausted, critical, warning, healthy, no_data, no_slo; got %q", f.Status)
	}
	return f, nil
}

// keep reports whether a row passes the filter. A service passes the
// environment filter when it runs there or has SLOs there (the row's SLOs
// are that environment's).
func (f overviewFilter) keep(r overviewRow) bool {
	s := r.Service
	switch {
	case f.Team != "" && s.Team != f.Team:
		return false
	case f.Tier != 0 && s.Tier != f.Tier:
		return false
	case f.Env != "" && !slices.Contains(environments(s), f.Env) && len(r.SLOs) == 0:
		return false
	case f.Status != "" && r.Status != f.Status:
		return false
	case f.Q != "" && !strings.Contains(strings.ToLower(s.Name+" "+s.Description), strings.ToLower(f.Q)):
		return false
	}
	return true
}

func environments(s catalog.Service) []string {
	if len(s.Environments) == 0 {
		return []string{catalog.DefaultEnvironment}
	}
	return s.Environments
}

// sortWorstFirst orders rows by status (worst first), then remaining budget
// (least first), then open incidents (most first), then name.
func sortWorstFirst(rows []overviewRow) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if ra, rb := statusRank[a.Status], statusRank[b.Status]; ra != rb {
			return ra < rb
		}
		if ra, rb := nanHigh(a.Remaining), nanHigh(b.Remaining); ra != rb {
			return ra < rb
		}
		if len(a.Incidents) != len(b.Incidents) {
			return len(a.Incidents) > len(b.Incidents)
		}
		return a.Service.Name < b.Service.Name
	})
}

func nanHigh(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(1)
	}
	return v
}

// summarize fills a row's Status, Remaining, Burn and Freeze from its SLOs.
func summarize(r *overviewRow) {
	r.Status, r.Remaining, r.Burn = "no_slo", math.NaN(), math.NaN()
	for _, c := range r.SLOs {
		if r.Status == "no_slo" || statusRank[c.Status] < statusRank[r.Status] {
			r.Status = c.Status
		}
		if !c.NoData && (math.IsNaN(r.Remaining) || c.Remaining < r.Remaining) {
			r.Remaining = c.Remaining
		}
		if !math.IsNaN(c.Burn1h) && (math.IsNaN(r.Burn) || c.Burn1h > r.Burn) {
			r.Burn = c.Burn1h
		}
	}
}

// overviewData is the data of overview.html.
type overviewData struct {
	base
	URL     *url.URL
	Range   timeRange
	Presets []string
	Filter  overviewFilter
	// Env is the environment whose SLOs the rows show (production when
	// the URL names none).
	Env      string
	Rows     []overviewRow
	Total    int
	Counts   map[string]int // services per status, before the status filter
	Teams    []string
	Envs     []string
	Tiers    []int
	Statuses []string
	// Which capabilities could be read; the page says when one is missing.
	HaveSLO, HaveDORA, HaveIncidents, HaveOncall bool
}

// overview lists every service with its reliability and delivery state.
func (h *Handler) overview(w http.ResponseWriter, r *http.Request, b base) error {
	f, err := parseOverviewFilter(r.URL.Query())
	if err != nil {
		return err
	}
	tr, err := parseRange(r.URL.Query(), b.Now, "28d")
	if err != nil {
		return err
	}
	env, err := parseEnv(r.URL.Query())
	if err != nil {
		return err
	}
	b.Title = "Overview"
	d, err := h.overviewRows(r.Context(), b.Now, tr, env)
	if err != nil {
		return err
	}
	d.base, d.URL, d.Filter, d.Range, d.Presets, d.Env = b, r.URL, f, tr, rangePresets, env
	d.Counts = map[string]int{}
	kept := d.Rows[:0]
	for _, row := range d.Rows {
		d.Counts[row.Status]++
		if f.keep(row) {
			kept = append(kept, row)
		}
	}
	d.Total = len(d.Rows)
	d.Rows = kept
	sortWorstFirst(d.Rows)
	h.render(w, http.StatusOK, "overview.html", d)
	return nil
}

// overviewRows gathers a row per service from every capability, with the
// SLOs of environment env.
func (h *Handler) overviewRows(ctx context.Context, now time.Time, tr timeRange, env string) (overviewData, error) {
	cfg := h.deps.Config.Get()
	var d overviewData
	teams, envs, tiers := map[string]bool{}, map[string]bool{}, map[int]bool{}
	rows := make([]overviewRow, len(cfg.Catalog.Services))
	index := make(map[string]int, len(rows))
	for i, s := range cfg.Catalog.Services {
		rows[i] = overviewRow{Service: s, Remaining: math.NaN()}
		index[s.Name] = i
		teams[s.Team] = true
		tiers[s.Tier] = true
		for _, e := range environments(s) {
			envs[e] = true
		}
	}
	var err error
	if d.HaveSLO, err = h.fillSLOs(ctx, now, env, rows, index, envs); err != nil {
		return d, err
	}
	if d.HaveDORA, err = h.fillTiers(ctx, now, tr, rows, index); err != nil {
		return d, err
	}
	if d.HaveIncidents, err = h.fillIncidents(ctx, rows, index); err != nil {
		return d, err
	}
	if d.HaveOncall, err = h.fillOncall(ctx, now, rows); err != nil {
		return d, err
	}
	for i := range rows {
		summarize(&rows[i])
	}
	d.Rows = rows
	d.Teams = sortedKeys(teams)
	d.Envs = envChoices(env, sortedKeys(envs))
	for t := range tiers {
		if t > 0 {
			d.Tiers = append(d.Tiers, t)
		}
	}
	sort.Ints(d.Tiers)
	d.Statuses = []string{"exhausted", "critical", "warning", "healthy", "no_data", "no_slo"}
	return d, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
