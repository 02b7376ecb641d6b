package config

import (
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/slo"
)

// SLOSection holds the top-level keys of a tandem document for SLOs: the
// settings of SLO evaluation. The SLOs themselves are OpenSLO v1 documents
// (see openslo.go).
type SLOSection struct {
	SLOSettings *SLOSettings `yaml:"slo_settings"`
}

// SLOSettings configures SLO evaluation for the whole installation. At most
// one document may set it.
type SLOSettings struct {
	// EvaluateEvery is how often the server evaluates every SLO (default 1m).
	EvaluateEvery string `yaml:"evaluate_every"`
	// PrometheusURL is the Prometheus (or Thanos, Mimir, VictoriaMetrics)
	// base URL for metric sources that name no DataSource.
	PrometheusURL string `yaml:"prometheus_url"`
	// QueryTimeout bounds one evaluation's queries (default 10s).
	QueryTimeout string `yaml:"query_timeout"`
	// FreezeBelow is the default remaining-budget ratio under which a
	// service enters release freeze (default 0: only when exhausted). An
	// SLO's annotation tandem.dev/freeze-below overrides it.
	FreezeBelow *float64 `yaml:"freeze_below"`
	// MinEvents is the default minimum number of events in an alert's long
	// window for it to fire (default 20). Annotation tandem.dev/min-events
	// overrides it.
	MinEvents *float64 `yaml:"min_events"`
}

// SLOConfig is the validated SLO config: every SLO, sorted by name, and the
// evaluation settings with defaults applied.
type SLOConfig struct {
	Definitions   []*slo.Definition
	EvaluateEvery time.Duration
	QueryTimeout  time.Duration
	PrometheusURL string

	freezeBelow float64
	minEvents   float64
	settings    []entry[SLOSettings]
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
}

// sloSettings validates slo_settings and applies defaults. It runs from
// loadOpenSLO, before the SLOs are built, since they use the defaults.
func (l *loader) sloSettings() {
	c := &l.cfg.SLO
	c.EvaluateEvery, c.QueryTimeout, c.minEvents = time.Minute, 10*time.Second, slo.DefaultMinEvents
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
}

// buildSLO sorts the SLOs that loadOpenSLO built. The references into the
// catalog were checked there.
func (l *loader) buildSLO() {
	sort.Slice(l.cfg.SLO.Definitions, func(i, j int) bool {
		return l.cfg.SLO.Definitions[i].Name < l.cfg.SLO.Definitions[j].Name
	})
}
