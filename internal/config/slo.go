package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
)

// SLOSection holds the top-level keys of a tandem document for SLOs: the
// settings of SLO evaluation. The SLOs themselves are OpenSLO v1 documents
// (see openslo.go).
type SLOSection struct {
	// SLOSettings configures SLO evaluation for the whole installation. At
	// most one document may set it.
	SLOSettings *SLOSettings `yaml:"slo_settings"`
	// SLOs are SLOs in tandem's short form: a rolling window, budgeting by
	// occurrences and the workbook's alerts. Anything else is written in
	// OpenSLO; names are unique across both.
	SLOs []ShortSLO `yaml:"slos"`
}

// ShortSLO is tandem's short form of an SLO: a rolling window, budgeting by
// occurrences, the workbook's alerts, and exactly one of Prometheus, Ingest
// or Migrations as the source. Anything else is written in OpenSLO.
type ShortSLO struct {
	// Name identifies the SLO (required): a DNS label of lowercase letters,
	// digits and '-', at most 63.
	Name string `yaml:"name"`
	// Service names the catalog service the SLO is for (required).
	Service string `yaml:"service"`
	// Description is free text about the SLO.
	Description string `yaml:"description"`
	// Environment is where the SLO is measured, such as staging (default
	// production). Status, budgets, gates, freezes and alerts are per
	// environment; OpenSLO documents say it as metadata.labels.environment.
	Environment string `yaml:"environment"`
	// Objective is the share of events that must be good, a ratio above 0
	// and below 1 such as 0.999 (required).
	Objective float64 `yaml:"objective"`
	// Window is the rolling window, a duration of at least 1h such as 28d
	// (required).
	Window string `yaml:"window"`
	// FreezeBelow is the remaining-budget ratio, from 0 to below 1, under
	// which the service enters release freeze (default
	// slo_settings.freeze_below).
	FreezeBelow *float64 `yaml:"freeze_below"`
	// MinEvents is the least number of events an alert's long window needs
	// for the alert to fire, 0 for no minimum (default
	// slo_settings.min_events).
	MinEvents *float64 `yaml:"min_events"`
	// Prometheus makes the SLI a ratio of Prometheus counters. Set exactly
	// one of prometheus, ingest and migrations.
	Prometheus *struct {
		// URL is the Prometheus base URL (default
		// slo_settings.prometheus_url); one of the two is required.
		URL string `yaml:"url"`
		// Good is a counter selector of good events such as
		// http_requests_total{code!~"5.."}; set good or bad, not both.
		Good string `yaml:"good"`
		// Bad is a counter selector of bad events, in place of good.
		Bad string `yaml:"bad"`
		// Total is a counter selector of all events (required).
		Total string `yaml:"total"`
	} `yaml:"prometheus"`
	// Ingest makes the SLI the events posted to
	// POST /api/v1/slos/{name}/events.
	Ingest *struct {
		// MaxStatus is the HTTP status from which a raw observation is bad,
		// up to 600 (default 500).
		MaxStatus int `yaml:"max_status"`
		// LatencyMaxMs makes raw observations slower than this many
		// milliseconds bad (default 0: latency is not judged).
		LatencyMaxMs float64 `yaml:"latency_max_ms"`
	} `yaml:"ingest"`
	// Migrations makes the SLI the outcome of migration change events:
	// failed and rolled-back migrations are bad.
	Migrations *struct {
		// Environment counts the migrations of one environment only
		// (default: every environment).
		Environment string `yaml:"environment"`
	} `yaml:"migrations"`
}

// SLOSettings configures SLO evaluation for the whole installation. At most
// one document may set it.
type SLOSettings struct {
	// EvaluateEvery is how often the server evaluates every SLO, a duration
	// of at least 1s (default 1m).
	EvaluateEvery string `yaml:"evaluate_every"`
	// PrometheusURL is the Prometheus (or Thanos, Mimir, VictoriaMetrics)
	// base URL for metric sources that name no DataSource.
	PrometheusURL string `yaml:"prometheus_url"`
	// QueryTimeout bounds one evaluation's queries, a duration of at least
	// 1s (default 10s).
	QueryTimeout string `yaml:"query_timeout"`
	// FreezeBelow is the remaining-budget ratio, from 0 to below 1, under
	// which a service enters release freeze (default 0: only when
	// exhausted). An SLO's own freeze_below or tandem.dev/freeze-below wins.
	FreezeBelow *float64 `yaml:"freeze_below"`
	// MinEvents is the least number of events an alert's long window needs
	// for the alert to fire, 0 for no minimum (default 20). An SLO's own
	// min_events or tandem.dev/min-events wins.
	MinEvents *float64 `yaml:"min_events"`
	// Evaluator says who raises the burn-rate alerts of Prometheus-backed
	// SLOs (default tandem): tandem (its evaluator opens the incidents; the
	// generated rules may run too, and their alerts join the same
	// incidents) or prometheus (the rules of `tandem slo rules`, through
	// Alertmanager; tandem still computes statuses, budgets and alert
	// state, and raises nothing). SLOs only tandem computes (ingest,
	// changes) always alert through tandem.
	Evaluator string `yaml:"evaluator"`
}

// SLOConfig is the validated SLO config: every SLO, sorted by name, and the
// evaluation settings with defaults applied.
type SLOConfig struct {
	Definitions   []*slo.Definition
	EvaluateEvery time.Duration
	QueryTimeout  time.Duration
	PrometheusURL string
	// Evaluator is slo_settings.evaluator: slo.EvaluatorTandem (default)
	// or slo.EvaluatorPrometheus; every Definition carries it.
	Evaluator string

	freezeBelow float64
	minEvents   float64
	settings    []entry[SLOSettings]
	short       []entry[ShortSLO]
}

// Get returns the SLO named name.
func (c SLOConfig) Get(name string) (*slo.Definition, bool) {
	i := sort.Search(len(c.Definitions), func(i int) bool { return c.Definitions[i].Name >= name })
	if i < len(c.Definitions) && c.Definitions[i].Name == name {
		return c.Definitions[i], true
	}
	return nil, false
}

// Names lists the SLO names, sorted.
func (c SLOConfig) Names() []string {
	out := make([]string, len(c.Definitions))
	for i, d := range c.Definitions {
		out[i] = d.Name
	}
	return out
}

// collectSLO files the section's items of one document, with their nodes.
func (l *loader) collectSLO(file string, root *yaml.Node, d *document) {
	if d.SLOSettings != nil {
		l.cfg.SLO.settings = append(l.cfg.SLO.settings, entry[SLOSettings]{*d.SLOSettings, file, at(root, "slo_settings")})
	}
	for i, v := range d.SLOs {
		l.cfg.SLO.short = append(l.cfg.SLO.short, entry[ShortSLO]{v, file, item(at(root, "slos"), i)})
	}
}

// buildShortSLO validates one short-form SLO and returns its Definition,
// or nil with the errors recorded.
func (l *loader) buildShortSLO(e entry[ShortSLO]) *slo.Definition {
	before := len(l.errs)
	v, file, node := e.v, e.file, e.node
	path := "slos." + v.Name
	if !dnsLabel.MatchString(v.Name) {
		l.errAt(file, node, "name", path+".name", "expected a DNS label (lowercase letters, digits and dashes, at most 63), got %q", v.Name)
		return nil
	}
	def := &slo.Definition{Name: v.Name, Service: v.Service, Description: v.Description, Objective: v.Objective,
		Method: slo.Occurrences, FreezeBelow: l.cfg.SLO.freezeBelow, Position: fmt.Sprintf("%s:%d", file, node.Line),
		Environment: slo.DefaultEnvironment}
	if v.Environment != "" {
		if !validEnvironment(v.Environment) {
			l.errAt(file, node, "environment", path+".environment", "expected an environment name (letters, digits, '.', '_' and '-', at most 64), got %q", v.Environment)
		}
		def.Environment = v.Environment
		// The label carries it onto the rules, alerts and /metrics, as
		// OpenSLO's metadata.labels.environment does.
		def.Labels = map[string]string{"environment": v.Environment}
	}
	if _, ok := l.cfg.Catalog.Service(v.Service); !ok {
		msg := fmt.Sprintf("service %q is not in the catalog", v.Service)
		if c := closest(v.Service, l.cfg.Catalog.ServiceNames()); len(c) > 0 {
			msg += "; did you mean " + strings.Join(quoteAll(c), ", ") + "?"
		}
		l.errAt(file, node, "service", path+".service", "%s", msg)
	}
	if v.Objective <= 0 || v.Objective >= 1 {
		l.errAt(file, node, "objective", path+".objective", "expected a ratio above 0 and below 1 such as 0.999, got %v", v.Objective)
	}
	w, err := tandem.ParseDuration(v.Window)
	if err != nil || w < time.Hour {
		l.errAt(file, node, "window", path+".window", "expected a rolling window of at least 1h such as 28d, got %q", v.Window)
	}
	def.Window = slo.Window{Rolling: w}
	sources := 0
	if p := v.Prometheus; p != nil {
		sources++
		in := &def.Indicator
		in.Source, in.PrometheusURL, in.Good, in.Bad, in.Total = slo.SourcePrometheus, p.URL, p.Good, p.Bad, p.Total
		if in.PrometheusURL == "" {
			in.PrometheusURL = l.cfg.SLO.PrometheusURL
		}
		pn := at(node, "prometheus")
		switch {
		case in.PrometheusURL == "":
			l.errAt(file, pn, "", path+".prometheus.url", "required here or as slo_settings.prometheus_url")
		case checkHTTPURL(in.PrometheusURL) != "":
			l.errAt(file, pn, "url", path+".prometheus.url", "%s", checkHTTPURL(in.PrometheusURL))
		}
		if (p.Good == "") == (p.Bad == "") {
			l.errAt(file, pn, "", path+".prometheus.good", "set exactly one of good and bad")
		}
		for _, q := range []struct {
			f, v string
			out  *string
		}{{"good", p.Good, &in.Good}, {"bad", p.Bad, &in.Bad}, {"total", p.Total, &in.Total}} {
			if q.v != "" || q.f == "total" {
				*q.out, _ = l.promQuery(file, at(pn, q.f), pn, path+".prometheus."+q.f, q.v, sli.CountQuery)
			}
		}
	}
	if in := v.Ingest; in != nil {
		sources++
		def.Indicator.Source, def.Indicator.MaxStatus, def.Indicator.LatencyMaxMs = slo.SourceNative, in.MaxStatus, in.LatencyMaxMs
		if def.Indicator.MaxStatus == 0 {
			def.Indicator.MaxStatus = 500
		}
		if in.MaxStatus < 0 || in.MaxStatus > 600 || in.LatencyMaxMs < 0 {
			l.errAt(file, at(node, "ingest"), "", path+".ingest", "max_status must be an HTTP status and latency_max_ms not negative")
		}
	}
	if m := v.Migrations; m != nil {
		sources++
		def.Indicator.Source, def.Indicator.ChangeKind, def.Indicator.Environment = slo.SourceChanges, "migration", m.Environment
	}
	if sources != 1 {
		l.errAt(file, node, "", path, "set exactly one source: prometheus, ingest or migrations")
	}
	def.Alerting = slo.DefaultPolicy(w)
	def.Alerting.MinEvents = l.cfg.SLO.minEvents
	if v.MinEvents != nil {
		if *v.MinEvents < 0 {
			l.errAt(file, node, "min_events", path+".min_events", "must not be negative")
		}
		def.Alerting.MinEvents = *v.MinEvents
	}
	if v.FreezeBelow != nil {
		if *v.FreezeBelow < 0 || *v.FreezeBelow >= 1 {
			l.errAt(file, node, "freeze_below", path+".freeze_below", "expected a ratio from 0 to below 1, got %v", *v.FreezeBelow)
		}
		def.FreezeBelow = *v.FreezeBelow
	}
	if len(l.errs) > before {
		return nil
	}
	return def
}

// sloSettings validates slo_settings and applies defaults. It runs from
// loadOpenSLO, before the SLOs are built, since they use the defaults.
func (l *loader) sloSettings() {
	c := &l.cfg.SLO
	c.EvaluateEvery, c.QueryTimeout, c.minEvents, c.Evaluator = time.Minute, 10*time.Second, slo.DefaultMinEvents, slo.EvaluatorTandem
	if len(c.settings) > 1 {
		first := c.settings[0]
		for _, e := range c.settings[1:] {
			l.errAt(e.file, e.node, "", "slo_settings", "slo_settings is set twice; first at %s:%d", first.file, first.node.Line)
		}
	}
	if len(c.settings) == 0 {
		return
	}
	e := c.settings[0]
	s := e.v
	dur := func(field, v string, def time.Duration) time.Duration {
		if v == "" {
			return def
		}
		d, err := tandem.ParseDuration(v)
		if err != nil || d < time.Second {
			l.errAt(e.file, e.node, field, "slo_settings."+field, "expected a duration of at least 1s such as 1m, got %q", v)
			return def
		}
		return d
	}
	c.EvaluateEvery = dur("evaluate_every", s.EvaluateEvery, c.EvaluateEvery)
	c.QueryTimeout = dur("query_timeout", s.QueryTimeout, c.QueryTimeout)
	if s.PrometheusURL != "" {
		if err := checkHTTPURL(s.PrometheusURL); err != "" {
			l.errAt(e.file, e.node, "prometheus_url", "slo_settings.prometheus_url", "%s", err)
		}
		c.PrometheusURL = s.PrometheusURL
	}
	if s.FreezeBelow != nil {
		if *s.FreezeBelow < 0 || *s.FreezeBelow >= 1 {
			l.errAt(e.file, e.node, "freeze_below", "slo_settings.freeze_below", "expected a ratio from 0 to below 1, got %v", *s.FreezeBelow)
		}
		c.freezeBelow = *s.FreezeBelow
	}
	if s.MinEvents != nil {
		if *s.MinEvents < 0 {
			l.errAt(e.file, e.node, "min_events", "slo_settings.min_events", "must not be negative")
		}
		c.minEvents = *s.MinEvents
	}
	switch s.Evaluator {
	case "":
	case slo.EvaluatorTandem, slo.EvaluatorPrometheus:
		c.Evaluator = s.Evaluator
	default:
		l.errAt(e.file, e.node, "evaluator", "slo_settings.evaluator", "expected tandem (tandem raises the burn-rate alerts) or prometheus (the rules of tandem slo rules do, through Alertmanager), got %q", s.Evaluator)
	}
}

// buildSLO adds the short-form SLOs to those loadOpenSLO built (names are
// unique across both) and sorts them.
func (l *loader) buildSLO() {
	seen := map[string]string{}
	for _, d := range l.cfg.SLO.Definitions {
		seen[d.Name] = d.Position
	}
	for _, e := range l.cfg.SLO.short {
		if first, dup := seen[e.v.Name]; dup {
			l.errAt(e.file, e.node, "name", "slos."+e.v.Name, "duplicate SLO name %q; first defined at %s", e.v.Name, first)
			continue
		}
		if d := l.buildShortSLO(e); d != nil {
			seen[d.Name] = d.Position
			l.cfg.SLO.Definitions = append(l.cfg.SLO.Definitions, d)
		}
	}
	sort.Slice(l.cfg.SLO.Definitions, func(i, j int) bool {
		return l.cfg.SLO.Definitions[i].Name < l.cfg.SLO.Definitions[j].Name
	})
	for _, d := range l.cfg.SLO.Definitions {
		d.Evaluator = l.cfg.SLO.Evaluator
	}
}

var environmentRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validEnvironment reports whether name can name an environment: it
// appears in URLs, labels and CLI flags.
func validEnvironment(name string) bool { return environmentRe.MatchString(name) }
