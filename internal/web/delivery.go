package web

import (
	"context"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/web/chart"
)

// DORA is what the dashboard needs of the DORA capability. *dora.Loader
// implements it.
type DORA interface {
	// Load reads the deploys, commits and incidents a report needs.
	Load(ctx context.Context, cat *catalog.Catalog, q dora.Query) (dora.Inputs, error)
}

// deliveryRanges are the ranges the delivery page offers: DORA metrics
// mean little over less than a few weeks.
var deliveryRanges = []string{"28d", "90d", "180d", "365d"}

// metricView is one DORA metric as a card: value, tier and weekly trend.
type metricView struct {
	ID     string
	Name   string
	Value  string
	Detail string
	Tier   string // elite, high, medium, low, no_data; "" for rework (no tiers)
	Trend  template.HTML
	// TrendTitle says what the bars count, in their unit.
	TrendTitle string
	Help       string
	// Previous is the same figure over the period just before the range
	// ("0.65 / day in the 90 days before").
	Previous string
}

// deployRow is one deploy that the delivery metrics count.
type deployRow struct {
	ID       int64
	At       time.Time
	Service  string
	Status   string
	Rollback bool
	Hotfix   bool
}

// maxDeployRows bounds the deploy list under the metrics.
const maxDeployRows = 200

// deploysIn lists the deploys (and rollbacks) of scope in [from, to),
// newest first, at most maxDeployRows. Config changes and flags, which
// the inputs carry for the change failure rate, are not deploys.
func deploysIn(in dora.Inputs, from, to time.Time, scope []int32) []deployRow {
	var out []deployRow
	f, t := from.UnixMilli(), to.UnixMilli()
	for i := len(in.Deploys) - 1; i >= 0 && len(out) < maxDeployRows; i-- {
		dp := in.Deploys[i]
		if dp.Config || dp.At < f || dp.At >= t || (scope != nil && !slices.Contains(scope, dp.Service)) {
			continue
		}
		st := "success"
		switch dp.Status {
		case dora.Failed:
			st = "failed"
		case dora.RolledBack:
			st = "rolled_back"
		case dora.InProgress:
			st = "in_progress"
		}
		out = append(out, deployRow{ID: dp.ID, At: time.UnixMilli(dp.At).UTC(), Service: in.Services[dp.Service].Name, Status: st, Rollback: dp.Rollback, Hotfix: dp.Hotfix})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out
}

// reportRow is one team's or service's metrics in a table.
type reportRow struct {
	Name   string
	Team   string
	Report dora.Report
}

// deliveryData is the data of delivery.html.
type deliveryData struct {
	base
	URL      *url.URL
	Range    timeRange
	Presets  []string
	Team     string
	Env      string
	Teams    []string
	Envs     []string
	Org      dora.Report
	Metrics  []metricView
	ByTeam   []reportRow
	Services []reportRow
	// Deploys are the deploys the metrics count, newest first.
	Deploys []deployRow
	Empty   bool
}

// serviceDORA is a service's DORA metrics for the service page.
type serviceDORA struct {
	Report  dora.Report
	Metrics []metricView
}

// tierOf returns a tier for display ("" for none).
func tierOf(t dora.Tier) string {
	if t == "" {
		return string(dora.NoData)
	}
	return string(t)
}

// secondsText prints an optional duration in seconds.
func secondsText(s *float64) string {
	if s == nil {
		return "no data"
	}
	return humanDuration(time.Duration(*s * float64(time.Second)))
}

func ratioText(r *float64) string {
	if r == nil {
		return "no data"
	}
	return chart.Format{Percent: true, Decimals: 1}.Text(*r)
}

// weekLabel is how a period is labelled under a trend bar.
func weekLabel(r dora.Report) string { return r.From.UTC().Format("Jan 2") }

// metricViews builds the five metric cards of a report with weekly periods
// and the report of the period before; link, when not nil, is where a
// week's bar leads (the deploys it counts).
func metricViews(r, prev dora.Report, prevLabel string, weeks []dora.Report, link func(w dora.Report) string) []metricView {
	bars := func(title string, val func(dora.Report) float64, tier func(dora.Report) dora.Tier, f chart.Format) template.HTML {
		c := chart.Bars{Title: title, Format: f, Width: 360, Height: 140, Axis: true}
		for _, w := range weeks {
			b := chart.Bar{Label: weekLabel(w), V: val(w)}
			b.Title = "week of " + weekLabel(w) + ": " + f.Text(b.V)
			if tier != nil {
				b.Class = "tier-" + tierOf(tier(w))
				b.Title += " (" + tierWord(tierOf(tier(w))) + ")"
			}
			if link != nil {
				b.Href = link(w)
				b.Title += "; open its deploys"
			}
			c.Bars = append(c.Bars, b)
		}
		return c.SVG()
	}
	ptr := func(p *float64, scale float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p * scale
	}
	hours := chart.Format{Suffix: " h", Decimals: -1}
	per := func(v string) string { return v + " " + prevLabel }
	return []metricView{
		{ID: "df", Name: "Deployment frequency", Tier: tierOf(r.DeploymentFrequencyTier),
			Value:      chart.Format{Decimals: 2}.Text(r.DeploymentFrequencyPerDay) + " / day",
			Detail:     plural(r.SuccessfulDeploys, "successful deploy", "successful deploys") + " of " + itoa(int64(r.Deploys)),
			Previous:   per(chart.Format{Decimals: 2}.Text(prev.DeploymentFrequencyPerDay) + " / day"),
			Help:       "Successful production deploys per day.",
			TrendTitle: "Successful deploys per week",
			Trend: bars("Successful deploys per week", func(w dora.Report) float64 { return float64(w.SuccessfulDeploys) },
				func(w dora.Report) dora.Tier { return w.DeploymentFrequencyTier }, chart.Number)},
		{ID: "lt", Name: "Lead time for changes", Tier: tierOf(r.LeadTimeTier),
			Value:      secondsText(r.LeadTimeMedianSeconds) + " median",
			Detail:     "p90 " + secondsText(r.LeadTimeP90Seconds) + " over " + plural(r.LeadTimeCommits, "commit", "commits"),
			Previous:   per(secondsText(prev.LeadTimeMedianSeconds)),
			Help:       "From commit to running in production.",
			TrendTitle: "Median lead time per week, in hours",
			Trend: bars("Median lead time per week, hours", func(w dora.Report) float64 { return ptr(w.LeadTimeMedianSeconds, 1/3600.0) },
				func(w dora.Report) dora.Tier { return w.LeadTimeTier }, hours)},
		{ID: "cfr", Name: "Change failure rate", Tier: tierOf(r.ChangeFailureRateTier),
			Value:      ratioText(r.ChangeFailureRate),
			Detail:     itoa(int64(r.FailedDeploys)) + " failed of " + plural(r.Deploys, "deploy", "deploys"),
			Previous:   per(ratioText(prev.ChangeFailureRate)),
			Help:       "Deploys that failed, were rolled back or caused an incident.",
			TrendTitle: "Change failure rate per week, in percent",
			Trend: bars("Change failure rate per week", func(w dora.Report) float64 { return ptr(w.ChangeFailureRate, 1) },
				func(w dora.Report) dora.Tier { return w.ChangeFailureRateTier }, chart.Format{Percent: true, Decimals: 0})},
		{ID: "fdrt", Name: "Failed deployment recovery time", Tier: tierOf(r.RecoveryTimeTier),
			Value:      secondsText(r.RecoveryTimeMedianSeconds) + " median",
			Detail:     plural(r.Recoveries, "recovery", "recoveries") + ", " + itoa(int64(r.OpenFailures)) + " not yet recovered",
			Previous:   per(secondsText(prev.RecoveryTimeMedianSeconds)),
			Help:       "From a failed deploy to service restored.",
			TrendTitle: "Median recovery time per week, in hours",
			Trend: bars("Median recovery time per week, hours", func(w dora.Report) float64 { return ptr(w.RecoveryTimeMedianSeconds, 1/3600.0) },
				func(w dora.Report) dora.Tier { return w.RecoveryTimeTier }, hours)},
		{ID: "rework", Name: "Rework rate", Tier: "",
			Value:      ratioText(r.ReworkRate),
			Detail:     plural(r.ReworkDeploys, "unplanned deploy", "unplanned deploys") + " (hotfixes, fixes after a failure); DORA gives it no tiers",
			Previous:   per(ratioText(prev.ReworkRate)),
			Help:       "Deploys that fix a failure instead of shipping planned work.",
			TrendTitle: "Rework rate per week, in percent",
			Trend: bars("Rework rate per week", func(w dora.Report) float64 { return ptr(w.ReworkRate, 1) }, nil,
				chart.Format{Percent: true, Decimals: 0})},
	}
}

// tierWord is a tier for reading: "elite", or "no data".
func tierWord(t string) string {
	if t == "no_data" || t == "" {
		return "no data"
	}
	return t
}

// previousLabel names the period before a range: "in the 90d before".
func previousLabel(tr timeRange) string {
	return "in the " + compactDuration(tr.Span()) + " before"
}

// serviceIndexes returns the indexes in in.Services of the named services.
func serviceIndexes(in dora.Inputs, names map[string]bool) []int32 {
	var out []int32
	for i, s := range in.Services {
		if names[s.Name] {
			out = append(out, int32(i))
		}
	}
	return out
}

// deliveryPage shows the five DORA metrics with weekly trends and tiers for
// the organisation (or one team), and tables per team and per service.
func (h *Handler) deliveryPage(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.DORA == nil {
		return unavailable("delivery metrics")
	}
	q := r.URL.Query()
	tr, err := parseRange(q, b.Now, "90d")
	if err != nil {
		return err
	}
	cat := h.deps.Config.Get().Catalog
	d := deliveryData{base: b, URL: r.URL, Range: tr, Presets: deliveryRanges, Team: q.Get("team"), Env: q.Get("env")}
	d.Title = "Delivery"
	envs := map[string]bool{}
	for _, t := range cat.Teams {
		d.Teams = append(d.Teams, t.Name)
	}
	for _, s := range cat.Services {
		for _, e := range environments(s) {
			envs[e] = true
		}
	}
	d.Envs = sortedKeys(envs)
	if d.Team != "" {
		if _, ok := cat.Team(d.Team); !ok {
			return tandem.FieldErrorf("team", "no team named %q", d.Team)
		}
	}
	if d.Env != "" && !envs[d.Env] {
		return tandem.FieldErrorf("env", "no service runs in environment %q", d.Env)
	}
	// The period before the range is read too, for the comparison.
	prevFrom := tr.From.Add(-tr.Span())
	in, err := h.deps.DORA.Load(r.Context(), cat, dora.Query{Environment: d.Env, From: prevFrom, To: tr.To})
	if err != nil {
		return err
	}
	a := dora.Analyze(in, h.doraOptions())
	var scope []int32
	if d.Team != "" {
		names := map[string]bool{}
		for _, n := range cat.ServicesOfTeam(d.Team) {
			names[n] = true
		}
		scope = serviceIndexes(in, names)
		if scope == nil {
			scope = []int32{}
		}
	}
	d.Org = a.Report(tr.From, tr.To, scope)
	d.Empty = d.Org.Deploys == 0
	link := func(w dora.Report) string {
		q := url.Values{"from": {w.From.UTC().Format(time.RFC3339)}, "to": {w.To.UTC().Format(time.RFC3339)}}
		if d.Team != "" {
			q.Set("team", d.Team)
		}
		if d.Env != "" {
			q.Set("env", d.Env)
		}
		return "/delivery?" + q.Encode() + "#deploys"
	}
	d.Metrics = metricViews(d.Org, a.Report(prevFrom, tr.From, scope), previousLabel(tr), a.Periods(tr.From, tr.To, "week", scope), link)
	d.Deploys = deploysIn(in, tr.From, tr.To, scope)
	for _, rep := range a.ByTeam(tr.From, tr.To) {
		d.ByTeam = append(d.ByTeam, reportRow{Name: rep.Team, Team: rep.Team, Report: rep})
	}
	for _, rep := range a.ByService(tr.From, tr.To) {
		if d.Team != "" && rep.Team != d.Team {
			continue
		}
		d.Services = append(d.Services, reportRow{Name: rep.Service, Team: rep.Team, Report: rep})
	}
	sort.SliceStable(d.Services, func(i, j int) bool { return d.Services[i].Report.Deploys > d.Services[j].Report.Deploys })
	h.render(w, http.StatusOK, "delivery.html", d)
	return nil
}

// serviceDORA computes one service's metrics over the range with weekly
// trends.
func (h *Handler) serviceDORA(ctx context.Context, service string, tr timeRange) (*serviceDORA, error) {
	cat := h.deps.Config.Get().Catalog
	prevFrom := tr.From.Add(-tr.Span())
	in, err := h.deps.DORA.Load(ctx, cat, dora.Query{Services: []string{service}, From: prevFrom, To: tr.To})
	if err != nil {
		return nil, err
	}
	a := dora.Analyze(in, h.doraOptions())
	rep := a.Report(tr.From, tr.To, nil)
	return &serviceDORA{Report: rep, Metrics: metricViews(rep, a.Report(prevFrom, tr.From, nil), previousLabel(tr), a.Periods(tr.From, tr.To, "week", nil), nil)}, nil
}

// tierCache keeps the overview's tier badges of a preset range for a
// minute: the overview refreshes every 30 seconds.
type tierCache struct {
	mu      sync.Mutex
	at      time.Time
	span    string
	reports map[string]dora.Report
}

// fillTiers sets each row's DORA tier badges over the range; false when
// the DORA capability is not wired. Preset ranges are cached for a minute.
func (h *Handler) fillTiers(ctx context.Context, now time.Time, tr timeRange, rows []overviewRow, index map[string]int) (bool, error) {
	if h.deps.DORA == nil {
		return false, nil
	}
	h.tiers.mu.Lock()
	defer h.tiers.mu.Unlock()
	if tr.Custom || h.tiers.reports == nil || h.tiers.span != tr.Range || now.Before(h.tiers.at) || now.Sub(h.tiers.at) > time.Minute {
		cat := h.deps.Config.Get().Catalog
		in, err := h.deps.DORA.Load(ctx, cat, dora.Query{From: tr.From, To: tr.To})
		if err != nil {
			return true, err
		}
		h.tiers.reports = map[string]dora.Report{}
		for _, rep := range dora.Analyze(in, h.doraOptions()).ByService(tr.From, tr.To) {
			h.tiers.reports[rep.Service] = rep
		}
		h.tiers.at, h.tiers.span = now, tr.Range
		if tr.Custom {
			h.tiers.span = ""
		}
	}
	for name, rep := range h.tiers.reports {
		i, ok := index[name]
		if !ok {
			continue
		}
		rows[i].Tiers = []tierBadge{
			{Metric: "DF", Tier: tierOf(rep.DeploymentFrequencyTier), Title: "Deployment frequency " + chart.Format{Decimals: 2}.Text(rep.DeploymentFrequencyPerDay) + "/day"},
			{Metric: "LT", Tier: tierOf(rep.LeadTimeTier), Title: "Lead time " + secondsText(rep.LeadTimeMedianSeconds)},
			{Metric: "CFR", Tier: tierOf(rep.ChangeFailureRateTier), Title: "Change failure rate " + ratioText(rep.ChangeFailureRate)},
			{Metric: "FDRT", Tier: tierOf(rep.RecoveryTimeTier), Title: "Recovery time " + secondsText(rep.RecoveryTimeMedianSeconds)},
		}
	}
	return true, nil
}

// doraOptions are the configured DORA windows (defaults when not wired).
func (h *Handler) doraOptions() dora.Options {
	if h.deps.DORAOptions == nil {
		return dora.Options{}
	}
	return h.deps.DORAOptions()
}
