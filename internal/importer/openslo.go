package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
)

// OpenSLO v1 documents as tandem reads them (docs/slo.md).

// SLODoc is an OpenSLO SLO document.
type SLODoc struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   SLOMeta `yaml:"metadata"`
	Spec       SLOSpec `yaml:"spec"`
}

// SLOMeta is an OpenSLO document's metadata.
type SLOMeta struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// SLOSpec is an SLO's spec.
type SLOSpec struct {
	Description     string           `yaml:"description,omitempty"`
	Service         string           `yaml:"service"`
	Indicator       SLIDoc           `yaml:"indicator"`
	TimeWindow      []TimeWindow     `yaml:"timeWindow"`
	BudgetingMethod string           `yaml:"budgetingMethod"`
	Objectives      []Objective      `yaml:"objectives"`
	AlertPolicies   []AlertPolicyDoc `yaml:"alertPolicies,omitempty"`
}

// SLIDoc is an inline SLI.
type SLIDoc struct {
	Metadata SLOMeta `yaml:"metadata"`
	Spec     struct {
		RatioMetric RatioMetric `yaml:"ratioMetric"`
	} `yaml:"spec"`
}

// RatioMetric is a counter ratio: good or bad over total.
type RatioMetric struct {
	Counter bool       `yaml:"counter"`
	Good    *MetricDoc `yaml:"good,omitempty"`
	Bad     *MetricDoc `yaml:"bad,omitempty"`
	Total   MetricDoc  `yaml:"total"`
}

// MetricDoc is a metric with its source.
type MetricDoc struct {
	MetricSource struct {
		MetricSourceRef string `yaml:"metricSourceRef,omitempty"`
		Type            string `yaml:"type"`
		Spec            struct {
			Query string `yaml:"query"`
		} `yaml:"spec"`
	} `yaml:"metricSource"`
}

// TimeWindow is a rolling window.
type TimeWindow struct {
	Duration  string `yaml:"duration"`
	IsRolling bool   `yaml:"isRolling"`
}

// Objective is an SLO's target.
type Objective struct {
	DisplayName string  `yaml:"displayName,omitempty"`
	Target      float64 `yaml:"target"`
}

// AlertPolicyDoc is an inline alert policy with one burn-rate condition.
type AlertPolicyDoc struct {
	Kind     string  `yaml:"kind"`
	Metadata SLOMeta `yaml:"metadata"`
	Spec     struct {
		Description string         `yaml:"description,omitempty"`
		Conditions  []ConditionDoc `yaml:"conditions"`
	} `yaml:"spec"`
}

// ConditionDoc is an inline burn-rate alert condition.
type ConditionDoc struct {
	Kind     string  `yaml:"kind"`
	Metadata SLOMeta `yaml:"metadata"`
	Spec     struct {
		Severity  string `yaml:"severity"`
		Condition struct {
			Kind           string  `yaml:"kind"`
			Op             string  `yaml:"op"`
			Threshold      float64 `yaml:"threshold"`
			LookbackWindow string  `yaml:"lookbackWindow"`
			AlertAfter     string  `yaml:"alertAfter"`
		} `yaml:"condition"`
	} `yaml:"spec"`
}

// DataSourceDoc is an OpenSLO Prometheus DataSource.
type DataSourceDoc struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   SLOMeta `yaml:"metadata"`
	Spec       struct {
		Type              string            `yaml:"type"`
		ConnectionDetails map[string]string `yaml:"connectionDetails"`
	} `yaml:"spec"`
}

// Burn is one multi-window burn-rate condition as a source tool defines
// it: the alert fires when the error ratio over both windows exceeds
// Factor × (1 − objective), once that has held for For (0: at once, the
// rule's for:).
type Burn struct {
	Severity    string // page or ticket
	Factor      float64
	Long, Short time.Duration
	For         time.Duration
}

// SLOOptions are the settings every SLO import shares.
type SLOOptions struct {
	// PrometheusURL is the server the SLOs query. Empty: the output
	// directory's slo_settings.prometheus_url, else a DataSource with
	// DefaultPrometheusURL and a warning.
	PrometheusURL string
}

// DefaultPrometheusURL is the DataSource URL an SLO import writes when
// neither --prometheus-url nor the output directory gives one.
const DefaultPrometheusURL = "http://localhost:9090"

// shortWindowAnnotation sets an AlertCondition's short window in tandem
// (docs/slo.md); without it tandem takes a twelfth of lookbackWindow.
const shortWindowAnnotation = "tandem.dev/short-window"

// promDataSource is the name of the DataSource an SLO import writes.
const promDataSource = "prometheus"

// sloBuilder collects the SLOs of one import and the services they need.
type sloBuilder struct {
	res      *Result
	nm       *Namer
	opts     SLOOptions
	services map[string]string // source service → tandem name
	teams    map[string]string // source team → tandem name
	unowned  bool
	source   string
}

func newSLOBuilder(source string, nm *Namer, opts SLOOptions) *sloBuilder {
	res := &Result{Source: source}
	b := &sloBuilder{res: res, nm: nm, opts: opts, services: map[string]string{}, teams: map[string]string{}, source: source}
	switch {
	case opts.PrometheusURL != "":
		res.DataSource = promDS(opts.PrometheusURL)
	case nm.Existing().PrometheusURL != "":
	default:
		res.DataSource = promDS(DefaultPrometheusURL)
	}
	return b
}

func promDS(url string) *DataSourceDoc {
	d := &DataSourceDoc{APIVersion: "openslo/v1", Kind: "DataSource", Metadata: SLOMeta{Name: promDataSource}}
	d.Spec.Type = "Prometheus"
	d.Spec.ConnectionDetails = map[string]string{"url": url}
	return d
}

// service returns the tandem service for a source service name, defining
// it (owned by team, or the unowned team) when the directory lacks it.
func (b *sloBuilder) service(name, team, pos string) string {
	if s, ok := b.services[name]; ok {
		return s
	}
	s, existing := b.nm.ServiceFor(name, "service")
	b.services[name] = s
	if existing {
		return s
	}
	svc := catalog.Service{Name: s}
	if team != "" {
		tn, ok := b.teams[team]
		if !ok {
			var existingTeam bool
			tn, existingTeam = b.nm.TeamFor(team, "team")
			b.teams[team] = tn
			if !existingTeam {
				b.res.Teams = append(b.res.Teams, catalog.Team{Name: tn, DisplayName: team})
			}
		}
		svc.Team = tn
	} else {
		svc.Team = unownedTeam
		b.unowned = true
		b.res.warn(pos, "service %q is not in the output directory and the source names no owner; it is defined with team %q", name, unownedTeam)
	}
	b.res.Services = append(b.res.Services, svc)
	return s
}

// sloLabel is a label a source gives an SLO, and where it gives it.
type sloLabel struct{ key, value, at string }

// labelsOf lists the labels of o, a labels object, sorted by key.
func labelsOf(o *obj) []sloLabel {
	m := stringMap(o)
	out := make([]sloLabel, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, sloLabel{k, m[k], o.at(k)})
	}
	return out
}

// labelMap is ls as a map, a later label of a key replacing an earlier one.
func labelMap(ls []sloLabel) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.key] = l.value
	}
	return m
}

// sloLabels are the metadata.labels an imported SLO gets: the source's
// labels (a later one of a key replacing an earlier), less those tandem's
// loader refuses (config.SLOLabelName: tandem's own slo, service, window,
// severity and alertname, and Prometheus's __ names) and a second key that
// names the same Prometheus label as another. Each label left out is
// warned about at its path; the output always loads.
func (b *sloBuilder) sloLabels(ls []sloLabel) map[string]string {
	last := map[string]sloLabel{}
	for _, l := range ls {
		last[l.key] = l
	}
	out := map[string]string{}
	from := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(last)) {
		l := last[k]
		name, refused := config.SLOLabelName(k)
		switch {
		case refused != "":
			b.res.warn(l.at, "not imported: %s; tandem sets it itself (rename the label in the output to keep it)", refused)
			continue
		case from[name] != "":
			b.res.warn(l.at, "not imported: labels %q and %q are both the Prometheus label %q", from[name], k, name)
			continue
		}
		from[name] = k
		out[k] = l.value
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// add appends an SLO: bad (or good, when goodQuery) over total counter
// selectors, the objective and window, the burn conditions and the
// source's labels (see sloLabels).
func (b *sloBuilder) add(name, display, description, service string, objective float64, window time.Duration, num string, good bool, total string, burns []Burn, labels []sloLabel) {
	doc := SLODoc{APIVersion: "openslo/v1", Kind: "SLO", Metadata: SLOMeta{Name: name, DisplayName: display, Labels: b.sloLabels(labels)}}
	doc.Spec.Description = description
	doc.Spec.Service = service
	doc.Spec.Indicator.Metadata.Name = name + "-sli"
	rm := &doc.Spec.Indicator.Spec.RatioMetric
	rm.Counter = true
	m := b.metric(num)
	if good {
		rm.Good = &m
	} else {
		rm.Bad = &m
	}
	rm.Total = b.metric(total)
	doc.Spec.TimeWindow = []TimeWindow{{Duration: osDuration(window), IsRolling: true}}
	doc.Spec.BudgetingMethod = "Occurrences"
	doc.Spec.Objectives = []Objective{{Target: objective}}
	for i, br := range burns {
		var ap AlertPolicyDoc
		ap.Kind = "AlertPolicy"
		ap.Metadata.Name = fmt.Sprintf("%s-%s-%d", name, br.Severity, i+1)
		var c ConditionDoc
		c.Kind = "AlertCondition"
		c.Metadata.Name = ap.Metadata.Name
		c.Spec.Severity = br.Severity
		c.Spec.Condition.Kind = "burnrate"
		c.Spec.Condition.Op = "gt"
		c.Spec.Condition.Threshold = br.Factor
		c.Spec.Condition.LookbackWindow = osDuration(br.Long)
		// OpenSLO has one window per condition; the short window is
		// tandem's annotation, alertAfter the rule's for: (OpenSLO: how
		// long the condition must hold).
		c.Metadata.Annotations = map[string]string{shortWindowAnnotation: osDuration(br.Short)}
		if br.For > 0 {
			c.Spec.Condition.AlertAfter = osDuration(br.For)
		}
		ap.Spec.Conditions = []ConditionDoc{c}
		doc.Spec.AlertPolicies = append(doc.Spec.AlertPolicies, ap)
	}
	b.res.SLOs = append(b.res.SLOs, doc)
}

func (b *sloBuilder) metric(q string) MetricDoc {
	var m MetricDoc
	m.MetricSource.Type = "Prometheus"
	if b.res.DataSource != nil {
		m.MetricSource.MetricSourceRef = promDataSource
	}
	m.MetricSource.Spec.Query = q
	return m
}

func (b *sloBuilder) finish() *Result {
	if b.unowned {
		addUnownedTeam(b.nm, b.res)
	}
	if len(b.res.SLOs) == 0 {
		b.res.DataSource = nil
	}
	sortWarnings(b.res.Warnings)
	return b.res
}

// osDuration writes d in OpenSLO's shorthand with the largest exact unit.
func osDuration(d time.Duration) string {
	switch {
	case d%(7*24*time.Hour) == 0:
		return fmt.Sprintf("%dw", d/(7*24*time.Hour))
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// counterSelector finds the counter selector in a query of the forms
// Sloth and Pyrra write: a bare selector, or sum(rate(SEL[w])) /
// sum(increase(SEL[w])) with any range. It returns the selector and the
// labels of a by/without clause (tandem sums every series). window is
// substituted for Sloth's {{.window}} first.
func counterSelector(q string) (sel string, grouping []string, err error) {
	q = windowTmpl.ReplaceAllString(q, "5m")
	p := parser.NewParser(parser.Options{})
	expr, err := p.ParseExpr(q)
	if err != nil {
		return "", nil, fmt.Errorf("invalid PromQL: %v", err)
	}
	for {
		switch e := expr.(type) {
		case *parser.ParenExpr:
			expr = e.Expr
			continue
		case *parser.AggregateExpr:
			if e.Op != parser.SUM {
				return "", nil, fmt.Errorf("aggregation %s: tandem sums counters", e.Op)
			}
			if e.Without {
				return "", nil, fmt.Errorf("sum without (...) keeps labels: tandem sums every series")
			}
			grouping = append(grouping, e.Grouping...)
			expr = e.Expr
			continue
		case *parser.Call:
			if (e.Func.Name != "rate" && e.Func.Name != "increase") || len(e.Args) != 1 {
				return "", nil, fmt.Errorf("function %s: tandem needs rate() or increase() of one counter", e.Func.Name)
			}
			ms, ok := e.Args[0].(*parser.MatrixSelector)
			if !ok {
				return "", nil, fmt.Errorf("%s() of a subquery or expression: tandem needs a counter selector", e.Func.Name)
			}
			vs := ms.VectorSelector.(*parser.VectorSelector)
			if vs.OriginalOffset != 0 || vs.Timestamp != nil {
				return "", nil, fmt.Errorf("offset and @ modifiers are not supported")
			}
			return vs.String(), grouping, nil
		case *parser.VectorSelector:
			if e.OriginalOffset != 0 || e.Timestamp != nil {
				return "", nil, fmt.Errorf("offset and @ modifiers are not supported")
			}
			return e.String(), grouping, nil
		default:
			return "", nil, fmt.Errorf("%s expression: tandem needs one counter selector, optionally inside sum(rate(…))", strings.ToLower(parser.DocumentedType(expr.Type())))
		}
	}
}
