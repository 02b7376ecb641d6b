package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
)

// OpenSLO v1 documents (https://github.com/OpenSLO/OpenSLO, v1) as the
// specification writes them: kinds SLO, SLI, Service, DataSource,
// AlertPolicy and AlertCondition. Fields tandem does not implement are
// refused by name; unknown fields are errors with their position.

// rawNode keeps a YAML value whose shape depends on a sibling field (a
// metric source's spec depends on its type); it is checked where it is
// interpreted.
type rawNode struct{ yaml.Node }

// UnmarshalYAML keeps the node as it is.
func (r *rawNode) UnmarshalYAML(n *yaml.Node) error {
	r.Node = *n
	return nil
}

type osMetadata struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName"`
	Labels      map[string]any    `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type osDoc[S any] struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   osMetadata `yaml:"metadata"`
	Spec       S          `yaml:"spec"`
}

type osServiceSpec struct {
	Description string `yaml:"description"`
}

type osDataSourceSpec struct {
	Description       string            `yaml:"description"`
	Type              string            `yaml:"type"`
	ConnectionDetails map[string]string `yaml:"connectionDetails"`
}

type osMetricSource struct {
	MetricSourceRef string  `yaml:"metricSourceRef"`
	Type            string  `yaml:"type"`
	Spec            rawNode `yaml:"spec"`
}

type osMetric struct {
	MetricSource *osMetricSource `yaml:"metricSource"`
}

type osRatioMetric struct {
	Counter *bool     `yaml:"counter"`
	Good    *osMetric `yaml:"good"`
	Bad     *osMetric `yaml:"bad"`
	Total   *osMetric `yaml:"total"`
	RawType string    `yaml:"rawType"`
	Raw     *osMetric `yaml:"raw"`
}

type osSLISpec struct {
	Description     string         `yaml:"description"`
	ThresholdMetric *osMetric      `yaml:"thresholdMetric"`
	RatioMetric     *osRatioMetric `yaml:"ratioMetric"`
}

type osInlineSLI struct {
	Metadata osMetadata `yaml:"metadata"`
	Spec     osSLISpec  `yaml:"spec"`
}

type osCalendar struct {
	StartTime string `yaml:"startTime"`
	TimeZone  string `yaml:"timeZone"`
}

type osTimeWindow struct {
	Duration  string      `yaml:"duration"`
	IsRolling *bool       `yaml:"isRolling"`
	Calendar  *osCalendar `yaml:"calendar"`
}

type osObjective struct {
	DisplayName     string       `yaml:"displayName"`
	Op              string       `yaml:"op"`
	Value           *float64     `yaml:"value"`
	Target          *float64     `yaml:"target"`
	TargetPercent   *float64     `yaml:"targetPercent"`
	TimeSliceTarget *float64     `yaml:"timeSliceTarget"`
	TimeSliceWindow rawNode      `yaml:"timeSliceWindow"`
	Indicator       *osInlineSLI `yaml:"indicator"`
	IndicatorRef    string       `yaml:"indicatorRef"`
	CompositeWeight *float64     `yaml:"compositeWeight"`
}

type osAlertPolicyRef struct {
	AlertPolicyRef string             `yaml:"alertPolicyRef"`
	Kind           string             `yaml:"kind"`
	Metadata       osMetadata         `yaml:"metadata"`
	Spec           *osAlertPolicySpec `yaml:"spec"`
}

type osSLOSpec struct {
	Description     string             `yaml:"description"`
	Service         string             `yaml:"service"`
	Indicator       *osInlineSLI       `yaml:"indicator"`
	IndicatorRef    string             `yaml:"indicatorRef"`
	TimeWindow      []osTimeWindow     `yaml:"timeWindow"`
	BudgetingMethod string             `yaml:"budgetingMethod"`
	Objectives      []osObjective      `yaml:"objectives"`
	AlertPolicies   []osAlertPolicyRef `yaml:"alertPolicies"`
}

type osConditionSpec struct {
	Kind           string   `yaml:"kind"`
	Op             string   `yaml:"op"`
	Threshold      *float64 `yaml:"threshold"`
	LookbackWindow string   `yaml:"lookbackWindow"`
	AlertAfter     string   `yaml:"alertAfter"`
}

type osAlertConditionSpec struct {
	Description string          `yaml:"description"`
	Severity    string          `yaml:"severity"`
	Condition   osConditionSpec `yaml:"condition"`
}

type osConditionRef struct {
	ConditionRef string                `yaml:"conditionRef"`
	Kind         string                `yaml:"kind"`
	Metadata     osMetadata            `yaml:"metadata"`
	Spec         *osAlertConditionSpec `yaml:"spec"`
}

type osAlertPolicySpec struct {
	Description         string           `yaml:"description"`
	AlertWhenNoData     *bool            `yaml:"alertWhenNoData"`
	AlertWhenResolved   *bool            `yaml:"alertWhenResolved"`
	AlertWhenBreaching  *bool            `yaml:"alertWhenBreaching"`
	Conditions          []osConditionRef `yaml:"conditions"`
	NotificationTargets []rawNode        `yaml:"notificationTargets"`
}

// Tandem's settings on an SLO are metadata annotations, which the OpenSLO
// specification leaves free.
const (
	annotationFreezeBelow      = "tandem.dev/freeze-below"
	annotationMinEvents        = "tandem.dev/min-events"
	annotationLatencyHistogram = "tandem.dev/latency-histogram"
	annotationLatencyUnit      = "tandem.dev/latency-unit"
	// annotationShortWindow, on an AlertCondition, sets the condition's
	// short window (default: a twelfth of lookbackWindow). Importers write
	// it to keep the short windows of Sloth's and Pyrra's alerts.
	annotationShortWindow = "tandem.dev/short-window"
)

// Prometheus-compatible data source types.
var promTypes = map[string]bool{"prometheus": true, "thanos": true, "mimir": true, "victoriametrics": true, "cortex": true}

type osEntry[S any] struct {
	doc  osDoc[S]
	file string
	node *yaml.Node
}

type openSLOSet struct {
	services    map[string]osEntry[osServiceSpec]
	datasources map[string]osEntry[osDataSourceSpec]
	slis        map[string]osEntry[osSLISpec]
	policies    map[string]osEntry[osAlertPolicySpec]
	conditions  map[string]osEntry[osAlertConditionSpec]
	slos        []osEntry[osSLOSpec]
}

// decodeOS decodes one document as kind S, reporting unknown fields and
// type errors with positions. It returns false when the document is bad.
func decodeOS[S any](l *loader, d docRef, out *osDoc[S]) bool {
	before := len(l.errs)
	checkKnown(d.file, d.node, reflect.TypeOf(*out), "", &l.errs)
	if err := d.node.Decode(out); err != nil {
		l.typeErrors(d.file, d.node, err)
	}
	if len(l.errs) > before {
		return false
	}
	if out.Metadata.Name == "" {
		l.errAt(d.file, d.node, "metadata", "metadata.name", "required")
		return false
	}
	if !dnsLabel.MatchString(out.Metadata.Name) {
		l.errAt(d.file, at(d.node, "metadata"), "name", "metadata.name", "expected a DNS label (lowercase letters, digits and dashes, at most 63), got %q", out.Metadata.Name)
		return false
	}
	return true
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// addNamedOS decodes a document of a named kind into m, refusing a name
// that is already defined.
func addNamedOS[S any](l *loader, d docRef, kind string, m map[string]osEntry[S]) {
	var doc osDoc[S]
	if !decodeOS(l, d, &doc) {
		return
	}
	name := doc.Metadata.Name
	if f, ok := m[name]; ok {
		l.errAt(d.file, at(d.node, "metadata"), "name", "metadata.name", "duplicate %s %q; first defined at %s:%d", kind, name, f.file, f.node.Line)
		return
	}
	m[name] = osEntry[S]{doc, d.file, d.node}
}

// loadOpenSLO decodes the OpenSLO documents collected by parseFile, checks
// their references (services into the catalog, SLIs, data sources, alert
// policies and conditions between each other) and fills
// l.cfg.SLO.Definitions.
func (l *loader) loadOpenSLO() {
	l.sloSettings()
	set := openSLOSet{
		services: map[string]osEntry[osServiceSpec]{}, datasources: map[string]osEntry[osDataSourceSpec]{},
		slis: map[string]osEntry[osSLISpec]{}, policies: map[string]osEntry[osAlertPolicySpec]{},
		conditions: map[string]osEntry[osAlertConditionSpec]{},
	}
	for _, d := range l.openslo {
		av := at(d.node, "apiVersion")
		if av.Value != "openslo/v1" {
			msg := "unsupported apiVersion %q; tandem reads OpenSLO openslo/v1"
			if strings.HasPrefix(av.Value, "openslo/") {
				msg += " (convert " + av.Value + " documents with the OpenSLO oslo tool)"
			}
			l.errAt(d.file, d.node, "apiVersion", "apiVersion", msg, av.Value)
			continue
		}
		kind := ""
		if k := at(d.node, "kind"); k != nil {
			kind = k.Value
		}
		switch kind {
		case "Service":
			addNamedOS(l, d, kind, set.services)
		case "DataSource":
			addNamedOS(l, d, kind, set.datasources)
		case "SLI":
			addNamedOS(l, d, kind, set.slis)
		case "AlertPolicy":
			addNamedOS(l, d, kind, set.policies)
		case "AlertCondition":
			addNamedOS(l, d, kind, set.conditions)
		case "SLO":
			var doc osDoc[osSLOSpec]
			if decodeOS(l, d, &doc) {
				set.slos = append(set.slos, osEntry[osSLOSpec]{doc, d.file, d.node})
			}
		case "AlertNotificationTarget":
			l.errAt(d.file, d.node, "kind", "kind", "OpenSLO kind AlertNotificationTarget is not supported: pages go through tandem's incidents, escalation policies and on-call schedules")
		case "":
			l.errAt(d.file, d.node, "", "kind", "required: one of SLO, SLI, Service, DataSource, AlertPolicy, AlertCondition")
		default:
			l.errAt(d.file, d.node, "kind", "kind", "unsupported OpenSLO kind %q; tandem reads SLO, SLI, Service, DataSource, AlertPolicy, AlertCondition", kind)
		}
	}
	for _, e := range set.datasources {
		l.checkDataSource(e)
	}
	for _, e := range set.conditions {
		l.checkCondition(e.file, e.node, "spec", e.doc.Metadata, e.doc.Spec)
	}
	seen := map[string]osEntry[osSLOSpec]{}
	for _, e := range set.slos {
		if f, ok := seen[e.doc.Metadata.Name]; ok {
			l.errAt(e.file, at(e.node, "metadata"), "name", "metadata.name", "duplicate SLO %q; first defined at %s:%d", e.doc.Metadata.Name, f.file, f.node.Line)
			continue
		}
		seen[e.doc.Metadata.Name] = e
		if def := l.buildDefinition(&set, e); def != nil {
			l.cfg.SLO.Definitions = append(l.cfg.SLO.Definitions, def)
		}
	}
}

func (l *loader) checkDataSource(e osEntry[osDataSourceSpec]) {
	spec := at(e.node, "spec")
	t := strings.ToLower(e.doc.Spec.Type)
	switch {
	case e.doc.Spec.Type == "":
		l.errAt(e.file, spec, "", "spec.type", "required: Prometheus (or Thanos, Mimir, VictoriaMetrics, Cortex)")
	case promTypes[t]:
		for k := range e.doc.Spec.ConnectionDetails {
			if k != "url" {
				l.errAt(e.file, at(spec, "connectionDetails"), k, "spec.connectionDetails."+k, "unknown connection detail; a Prometheus data source takes url")
			}
		}
		u := e.doc.Spec.ConnectionDetails["url"]
		if u == "" {
			l.errAt(e.file, spec, "connectionDetails", "spec.connectionDetails.url", "required: the server's base URL")
		} else if msg := checkHTTPURL(u); msg != "" {
			l.errAt(e.file, at(spec, "connectionDetails"), "url", "spec.connectionDetails.url", "%s", msg)
		}
	default:
		l.errAt(e.file, spec, "type", "spec.type", "unsupported data source type %q; tandem queries Prometheus and what speaks its API (Thanos, Mimir, VictoriaMetrics, Cortex)", e.doc.Spec.Type)
	}
}

func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("expected an http(s) URL, got %q", s)
	}
	return ""
}

// checkCondition validates a burn-rate condition and returns it; ok false
// when it is not usable.
func (l *loader) checkCondition(file string, node *yaml.Node, path string, meta osMetadata, s osAlertConditionSpec) (c slo.BurnCondition, severity string, ok bool) {
	spec := at(node, "spec")
	if spec == nil {
		spec = node
	}
	cond := at(spec, "condition")
	errs := len(l.errs)
	switch strings.ToLower(s.Severity) {
	case "page", "critical":
		severity = "page"
	case "ticket", "warning":
		severity = "ticket"
	case "":
		l.errAt(file, spec, "", path+".severity", "required: page (or critical) or ticket (or warning)")
	default:
		l.errAt(file, spec, "severity", path+".severity", "unsupported severity %q; tandem knows page (or critical) and ticket (or warning)", s.Severity)
	}
	if s.Condition.Kind != "burnrate" {
		l.errAt(file, cond, "kind", path+".condition.kind", "unsupported condition kind %q; tandem evaluates burnrate", s.Condition.Kind)
	}
	switch s.Condition.Op {
	case "lt", "lte", "gt", "gte":
		c.Op = s.Condition.Op
	case "":
		l.errAt(file, cond, "", path+".condition.op", "required: the comparison of the burn rate with the threshold, lt, lte, gt or gte")
	default:
		l.errAt(file, cond, "op", path+".condition.op", "unknown op %q; expected lt, lte, gt or gte", s.Condition.Op)
	}
	if s.Condition.Threshold == nil || *s.Condition.Threshold <= 0 {
		l.errAt(file, cond, "threshold", path+".condition.threshold", "required: a burn rate above 0")
	} else {
		c.Threshold = *s.Condition.Threshold
	}
	long, err := parseOSDuration(s.Condition.LookbackWindow, "mhdw")
	if err != nil {
		l.errAt(file, cond, "lookbackWindow", path+".condition.lookbackWindow", "%v", err)
	}
	// The burn must show in a short window too, so that the alert stops
	// soon after the burn does: the workbook's twelfth of the long window
	// (5m for 1h, 30m for 6h, 2h for 1d), at least a minute.
	c.Long, c.Short = long, (long / 12).Truncate(time.Minute)
	if c.Short < time.Minute && long > 0 {
		c.Short = time.Minute
	}
	// The tandem.dev/short-window annotation sets it instead.
	annotations := at(at(node, "metadata"), "annotations")
	for _, k := range keys(meta.Annotations) {
		if !strings.HasPrefix(k, "tandem.dev/") {
			continue
		}
		if k != annotationShortWindow {
			l.errAt(file, annotations, k, "metadata.annotations."+k, "unknown tandem annotation of an AlertCondition; expected %s", annotationShortWindow)
			continue
		}
		short, err := parseOSDuration(meta.Annotations[k], "mhdw")
		switch {
		case err != nil:
			l.errAt(file, annotations, k, "metadata.annotations."+k, "%v", err)
		case long > 0 && short >= long:
			l.errAt(file, annotations, k, "metadata.annotations."+k, "the short window %s is not shorter than lookbackWindow %s", meta.Annotations[k], s.Condition.LookbackWindow)
		default:
			c.Short = short
		}
	}
	// alertAfter is how long the condition must hold before the alert
	// fires (the specification: "the duration the condition needs to be
	// valid for before alerting", default 0m): Prometheus's for:.
	if s.Condition.AlertAfter != "" {
		if after, err := parseHold(s.Condition.AlertAfter); err != nil {
			l.errAt(file, cond, "alertAfter", path+".condition.alertAfter", "%v", err)
		} else {
			c.AlertAfter = after
		}
	}
	return c, severity, len(l.errs) == errs
}

// parseHold reads alertAfter: a duration shorthand of minutes, hours, days
// or weeks, 0m (the default) included.
func parseHold(s string) (time.Duration, error) {
	if m := osDurationRe.FindStringSubmatch(s); m != nil && strings.Trim(m[1], "0") == "" && strings.Contains("mhdw", m[2]) {
		return 0, nil
	}
	return parseOSDuration(s, "mhdw")
}

var osDurationRe = regexp.MustCompile(`^([0-9]+)([mhdwMQY])$`)

// parseOSDuration reads OpenSLO's duration shorthand ("5m", "28d", "1M")
// accepting the given units.
func parseOSDuration(s, units string) (time.Duration, error) {
	m := osDurationRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("expected a duration shorthand such as 5m, 1h, 28d, got %q", s)
	}
	if !strings.Contains(units, m[2]) {
		return 0, fmt.Errorf("unit %q is not allowed here; use one of %s", m[2], strings.Join(strings.Split(units, ""), ", "))
	}
	n, _ := strconv.Atoi(m[1])
	if n <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

// buildDefinition turns one SLO document into a Definition, or nil (with
// errors recorded).
func (l *loader) buildDefinition(set *openSLOSet, e osEntry[osSLOSpec]) *slo.Definition {
	before := len(l.errs)
	file, node, sp := e.file, e.node, e.doc.Spec
	spec := at(node, "spec")
	def := &slo.Definition{
		Name: e.doc.Metadata.Name, DisplayName: e.doc.Metadata.DisplayName, Description: sp.Description,
		Service: sp.Service, Position: fmt.Sprintf("%s:%d", file, node.Line),
		FreezeBelow: l.cfg.SLO.freezeBelow,
	}
	def.Labels = l.sloLabels(file, at(at(node, "metadata"), "labels"), e.doc.Metadata.Labels)
	if env, ok := def.Labels["environment"]; ok {
		if !validEnvironment(env) {
			l.errAt(file, at(at(node, "metadata"), "labels"), "environment", "metadata.labels.environment", "expected an environment name (letters, digits, '.', '_' and '-', at most 64), got %q", env)
		}
		def.Environment = env
	} else {
		def.Environment = slo.DefaultEnvironment
	}

	// Service: a catalog service (an OpenSLO Service document may describe
	// it, but the catalog owns it).
	if sp.Service == "" {
		l.errAt(file, spec, "", "spec.service", "required: the catalog service this SLO belongs to")
	} else if _, ok := l.cfg.Catalog.Service(sp.Service); !ok {
		msg := fmt.Sprintf("service %q is not in the catalog", sp.Service)
		if _, declared := set.services[sp.Service]; declared {
			msg += " (an OpenSLO Service document names it; add it to services: with its owning team too)"
		}
		names := l.cfg.Catalog.ServiceNames()
		if c := closest(sp.Service, names); len(c) > 0 {
			msg += "; did you mean " + strings.Join(quoteAll(c), ", ") + "?"
		}
		l.errAt(file, spec, "service", "spec.service", "%s", msg)
	}

	// Time window.
	switch len(sp.TimeWindow) {
	case 0:
		l.errAt(file, spec, "", "spec.timeWindow", "required: one time window such as {duration: 28d, isRolling: true}")
	case 1:
		l.timeWindow(file, item(at(spec, "timeWindow"), 0), sp.TimeWindow[0], &def.Window)
	default:
		l.errAt(file, item(at(spec, "timeWindow"), 1), "", "spec.timeWindow", "several time windows are not supported; write one SLO per window")
	}

	// Budgeting method.
	switch sp.BudgetingMethod {
	case slo.Occurrences, slo.Timeslices:
		def.Method = sp.BudgetingMethod
	case "":
		l.errAt(file, spec, "", "spec.budgetingMethod", "required: Occurrences or Timeslices")
	case "RatioTimeslices":
		l.errAt(file, spec, "budgetingMethod", "spec.budgetingMethod", "budgetingMethod RatioTimeslices is not supported; use Occurrences or Timeslices")
	default:
		l.errAt(file, spec, "budgetingMethod", "spec.budgetingMethod", "unknown budgetingMethod %q; expected Occurrences or Timeslices", sp.BudgetingMethod)
	}

	// Indicator: inline or referenced, exactly one.
	var sli osSLISpec
	var sliFile string
	var sliNode *yaml.Node
	switch {
	case sp.Indicator != nil && sp.IndicatorRef != "":
		l.errAt(file, spec, "indicatorRef", "spec.indicatorRef", "set indicator or indicatorRef, not both")
	case sp.Indicator != nil:
		sli, sliFile, sliNode = sp.Indicator.Spec, file, at(at(spec, "indicator"), "spec")
		def.Indicator.Name = sp.Indicator.Metadata.Name
		if sliNode == nil {
			l.errAt(file, spec, "indicator", "spec.indicator.spec", "required: the SLI's ratioMetric or thresholdMetric")
		}
	case sp.IndicatorRef != "":
		ref, ok := set.slis[sp.IndicatorRef]
		if !ok {
			l.danglingOS(file, spec, "indicatorRef", "spec.indicatorRef", "SLI", sp.IndicatorRef, keys(set.slis))
		} else {
			sli, sliFile, sliNode = ref.doc.Spec, ref.file, at(ref.node, "spec")
			def.Indicator.Name = ref.doc.Metadata.Name
		}
	default:
		l.errAt(file, spec, "", "spec.indicator", "required: an inline indicator or an indicatorRef to an SLI")
	}

	// Objectives: exactly one.
	var obj osObjective
	var objNode *yaml.Node
	switch len(sp.Objectives) {
	case 0:
		l.errAt(file, spec, "", "spec.objectives", "required: one objective with a target")
	case 1:
		obj, objNode = sp.Objectives[0], item(at(spec, "objectives"), 0)
	default:
		l.errAt(file, item(at(spec, "objectives"), 1), "", "spec.objectives", "several objectives in one SLO are not supported; write one SLO per objective")
	}
	if objNode != nil {
		l.objective(file, objNode, obj, def)
	}
	if sliNode != nil {
		l.indicator(set, sliFile, sliNode, sli, obj, objNode, file, def)
	}

	// Alerting: the workbook's policy, unless alertPolicies replace it.
	def.Alerting = slo.DefaultPolicy(def.Window.Nominal())
	def.Alerting.MinEvents = l.cfg.SLO.minEvents
	if len(sp.AlertPolicies) > 0 {
		def.Alerting.Page, def.Alerting.Ticket = nil, nil
		for i, ap := range sp.AlertPolicies {
			l.alertPolicy(set, file, item(at(spec, "alertPolicies"), i), ap, def)
		}
	}

	// Tandem's annotations.
	meta := at(node, "metadata")
	unit := ""
	for k, v := range e.doc.Metadata.Annotations {
		if !strings.HasPrefix(k, "tandem.dev/") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		switch k {
		case annotationLatencyHistogram:
			if def.Indicator.Source != slo.SourcePrometheus {
				l.errAt(file, at(meta, "annotations"), k, "metadata.annotations."+k, "a latency histogram is read from Prometheus; this SLO's data is %s (tandem ingest keeps its own histogram)", def.Indicator.Source)
			} else if !selectorRe.MatchString(v) || !strings.HasSuffix(strings.SplitN(v, "{", 2)[0], "_bucket") {
				l.errAt(file, at(meta, "annotations"), k, "metadata.annotations."+k, "expected the selector of a histogram's _bucket series such as http_request_duration_seconds_bucket{job=\"checkout\"}, got %q", v)
			}
			def.Indicator.LatencyHistogram = v
		case annotationLatencyUnit:
			unit = v
		case annotationFreezeBelow:
			if err != nil || f < 0 || f >= 1 {
				l.errAt(file, at(meta, "annotations"), k, "metadata.annotations."+k, "expected a ratio from 0 to below 1, got %q", v)
			}
			def.FreezeBelow = f
		case annotationMinEvents:
			if err != nil || f < 0 {
				l.errAt(file, at(meta, "annotations"), k, "metadata.annotations."+k, "expected a non-negative number, got %q", v)
			}
			def.Alerting.MinEvents = f
		default:
			l.errAt(file, at(meta, "annotations"), k, "metadata.annotations."+k, "unknown tandem annotation; expected one of %s, %s, %s, %s",
				annotationFreezeBelow, annotationMinEvents, annotationLatencyHistogram, annotationLatencyUnit)
		}
	}
	if def.Indicator.LatencyHistogram != "" {
		switch unit {
		case "", "s":
			def.Indicator.LatencyUnitMs = 1000
		case "ms":
			def.Indicator.LatencyUnitMs = 1
		default:
			l.errAt(file, at(meta, "annotations"), annotationLatencyUnit, "metadata.annotations."+annotationLatencyUnit, "expected s or ms, got %q", unit)
		}
	} else if unit != "" {
		l.errAt(file, at(meta, "annotations"), annotationLatencyUnit, "metadata.annotations."+annotationLatencyUnit, "only with %s", annotationLatencyHistogram)
	}
	if len(l.errs) > before {
		return nil
	}
	return def
}

// reservedLabels are the label names tandem's rules, alerts and /metrics
// set themselves.
var reservedLabels = map[string]bool{"slo": true, "service": true, "window": true, "severity": true, "alertname": true}

// SLOLabelName is the Prometheus label an OpenSLO metadata.labels key
// becomes on the SLO's rules, alerts and /metrics (promLabelName), and why
// the loader refuses the key: it is one of tandem's own labels (slo,
// service, window, severity, alertname) or reserved by Prometheus ("__").
// refused is "" for a key the loader accepts. Importers use it to write
// only labels the loader reads.
func SLOLabelName(key string) (name, refused string) {
	name = promLabelName(key)
	switch {
	case reservedLabels[name]:
		return name, fmt.Sprintf("label %q is tandem's own on the rules, alerts and /metrics of an SLO (slo, service, window, severity, alertname)", key)
	case strings.HasPrefix(name, "__"):
		return name, "label names starting with __ are reserved by Prometheus"
	}
	return name, ""
}

var invalidLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// promLabelName turns an OpenSLO label key (letters, digits, dashes,
// underscores and dots) into a Prometheus label name: every other
// character becomes "_", and a leading digit gets a "_" before it.
func promLabelName(key string) string {
	n := invalidLabelChars.ReplaceAllString(key, "_")
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		n = "_" + n
	}
	return n
}

// sloLabels turns an SLO's metadata.labels into the Prometheus labels its
// rules and series carry: names through promLabelName, a list of strings
// joined with ",". A name that is one of tandem's own (reservedLabels) or
// reserved by Prometheus ("__"), or that two keys share once sanitised, is
// an error at the key.
func (l *loader) sloLabels(file string, node *yaml.Node, labels map[string]any) map[string]string {
	if len(labels) == 0 {
		return nil
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]string{}
	from := map[string]string{}
	for _, k := range keys {
		path := "metadata.labels." + k
		name, refused := SLOLabelName(k)
		switch {
		case reservedLabels[name]:
			l.errAt(file, node, k, path, "%s; rename it", refused)
			continue
		case refused != "":
			l.errAt(file, node, k, path, "%s", refused)
			continue
		case from[name] != "":
			l.errAt(file, node, k, path, "labels %q and %q are both the Prometheus label %q", from[name], k, name)
			continue
		}
		var v string
		switch x := labels[k].(type) {
		case string:
			v = x
		case []any:
			parts := make([]string, 0, len(x))
			for _, p := range x {
				s, ok := p.(string)
				if !ok {
					l.errAt(file, node, k, path, "expected a string or a list of strings")
					break
				}
				parts = append(parts, s)
			}
			v = strings.Join(parts, ",")
		case nil:
		case map[string]any:
			l.errAt(file, node, k, path, "expected a string or a list of strings")
			continue
		default:
			v = fmt.Sprint(x)
		}
		from[name] = k
		out[name] = v
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func closest(name string, names []string) []string { return catalog.Closest(name, names, 3) }

func (l *loader) danglingOS(file string, node *yaml.Node, field, path, kind, name string, known []string) {
	msg := fmt.Sprintf("%s %q is not defined", kind, name)
	if c := closest(name, known); len(c) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(c), ", ") + "?"
	} else if len(known) > 0 {
		msg += "; defined: " + strings.Join(known, ", ")
	}
	l.errAt(file, node, field, path, "%s", msg)
}

func (l *loader) timeWindow(file string, node *yaml.Node, tw osTimeWindow, w *slo.Window) {
	rolling := tw.IsRolling != nil && *tw.IsRolling
	if tw.IsRolling == nil {
		l.errAt(file, node, "", "spec.timeWindow.isRolling", "required: true for a rolling window, false for a calendar-aligned one")
		return
	}
	if rolling {
		if tw.Calendar != nil {
			l.errAt(file, node, "calendar", "spec.timeWindow.calendar", "a rolling window takes no calendar")
		}
		d, err := parseOSDuration(tw.Duration, "mhdw")
		if err != nil {
			l.errAt(file, node, "duration", "spec.timeWindow.duration", "%v", err)
			return
		}
		if d < time.Hour {
			l.errAt(file, node, "duration", "spec.timeWindow.duration", "a rolling window must be at least 1h")
		}
		w.Rolling = d
		return
	}
	m := osDurationRe.FindStringSubmatch(tw.Duration)
	if m == nil {
		l.errAt(file, node, "duration", "spec.timeWindow.duration", "expected a duration shorthand such as 1M, 1w, 1Q, got %q", tw.Duration)
		return
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]string{"d": "Day", "w": "Week", "M": "Month", "Q": "Quarter", "Y": "Year"}[m[2]]
	if unit == "" || n <= 0 {
		l.errAt(file, node, "duration", "spec.timeWindow.duration", "a calendar window counts days (d), weeks (w), months (M), quarters (Q) or years (Y), got %q", tw.Duration)
		return
	}
	w.Unit, w.Count, w.Location = unit, n, time.UTC
	if tw.Calendar == nil {
		l.errAt(file, node, "", "spec.timeWindow.calendar", "required for a calendar window: startTime and timeZone")
		return
	}
	cal := at(node, "calendar")
	if tw.Calendar.TimeZone != "" {
		loc, err := time.LoadLocation(tw.Calendar.TimeZone)
		if err != nil {
			l.errAt(file, cal, "timeZone", "spec.timeWindow.calendar.timeZone", "unknown time zone %q; expected an IANA name such as Europe/Berlin", tw.Calendar.TimeZone)
		} else {
			w.Location = loc
		}
	}
	if tw.Calendar.StartTime == "" {
		l.errAt(file, cal, "", "spec.timeWindow.calendar.startTime", "required: the start of one period, \"2026-01-01 00:00:00\"")
		return
	}
	st, err := time.ParseInLocation("2006-01-02 15:04:05", tw.Calendar.StartTime, w.Location)
	if err != nil {
		l.errAt(file, cal, "startTime", "spec.timeWindow.calendar.startTime", "expected \"YYYY-MM-DD hh:mm:ss\", got %q", tw.Calendar.StartTime)
		return
	}
	w.Start = st
}

func (l *loader) objective(file string, node *yaml.Node, o osObjective, def *slo.Definition) {
	switch {
	case o.Target != nil && o.TargetPercent != nil:
		l.errAt(file, node, "targetPercent", "spec.objectives.targetPercent", "set target or targetPercent, not both")
	case o.Target != nil:
		def.Objective = *o.Target
	case o.TargetPercent != nil:
		def.Objective = *o.TargetPercent / 100
	default:
		l.errAt(file, node, "", "spec.objectives.target", "required: target (a ratio such as 0.999) or targetPercent")
	}
	if (o.Target != nil || o.TargetPercent != nil) && (def.Objective <= 0 || def.Objective >= 1) {
		field := "target"
		if o.Target == nil {
			field = "targetPercent"
		}
		l.errAt(file, node, field, "spec.objectives."+field, "must be above 0 and below 1 (100 %%), got %v", def.Objective)
	}
	if o.Indicator != nil || o.IndicatorRef != "" || o.CompositeWeight != nil {
		l.errAt(file, node, "", "spec.objectives", "composite SLOs (an indicator, indicatorRef or compositeWeight per objective) are not supported")
	}
	if def.Method == slo.Timeslices {
		if o.TimeSliceWindow.Kind == 0 {
			l.errAt(file, node, "", "spec.objectives.timeSliceWindow", "required with budgetingMethod Timeslices: the slice length, such as 1m or 5m")
		} else {
			// A bare number is minutes, as the specification says: 60 is
			// one hour.
			v := o.TimeSliceWindow.Value
			if n, err := strconv.Atoi(v); err == nil && o.TimeSliceWindow.Tag == "!!int" {
				if n <= 0 {
					l.errAt(file, node, "timeSliceWindow", "spec.objectives.timeSliceWindow", "a time slice must be a positive number of minutes, got %s", v)
				}
				def.TimeSliceWindow = time.Duration(n) * time.Minute
			} else if o.TimeSliceWindow.Tag == "!!float" {
				l.errAt(file, node, "timeSliceWindow", "spec.objectives.timeSliceWindow", "a time slice is whole minutes (a number is minutes: 5), got %s", v)
			} else if d, err := parseOSDuration(v, "mh"); err != nil {
				l.errAt(file, node, "timeSliceWindow", "spec.objectives.timeSliceWindow", "%v", err)
			} else {
				def.TimeSliceWindow = d
			}
			if def.TimeSliceWindow > 0 && (time.Hour%def.TimeSliceWindow != 0) {
				l.errAt(file, node, "timeSliceWindow", "spec.objectives.timeSliceWindow", "a time slice must divide an hour (1m, 2m, 5m, 10m, 15m, 30m, 1h)")
			}
		}
	} else if o.TimeSliceWindow.Kind != 0 || o.TimeSliceTarget != nil {
		l.errAt(file, node, "", "spec.objectives", "timeSliceTarget and timeSliceWindow need budgetingMethod Timeslices")
	}
	if o.TimeSliceTarget != nil {
		if *o.TimeSliceTarget <= 0 || *o.TimeSliceTarget > 1 {
			l.errAt(file, node, "timeSliceTarget", "spec.objectives.timeSliceTarget", "must be above 0 and at most 1, got %v", *o.TimeSliceTarget)
		}
		def.TimeSliceTarget = *o.TimeSliceTarget
	}
}

// metricSource is a resolved metric source: where it reads and what.
type metricSource struct {
	kind      string // slo.Source*
	url       string
	query     string     // as written
	queryNode *yaml.Node // its scalar, for error positions
	native    nativeSpec
	otlp      *slo.OTLPSelector // source otlp: metric, matchers, good criteria
}

type promSpec struct {
	Query string `yaml:"query"`
}

type nativeSpec struct {
	Source       string   `yaml:"source"`
	MaxStatus    *int     `yaml:"maxStatus"`
	LatencyMaxMs *float64 `yaml:"latencyMaxMs"`
	Kind         string   `yaml:"kind"`
	Environment  string   `yaml:"environment"`
	Status       string   `yaml:"status"`
	// OTLP (source otlp): the metric's name and attribute matchers, each a
	// value or a list of values.
	Metric     string             `yaml:"metric"`
	Attributes map[string]rawNode `yaml:"attributes"`
}

var selectorRe = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{.*\})?$|^\{.*\}$`)

// promQuery checks a Prometheus query of an SLI with check (sli.CountQuery
// for a ratio, sli.ThresholdQuery for a threshold) and returns it as tandem
// evaluates it. A query the check refuses is an error at the query's own
// line and column (qnode is its scalar; without it, at node).
func (l *loader) promQuery(file string, qnode, node *yaml.Node, path, q string, check func(string) (string, error)) (string, bool) {
	out, err := check(q)
	if err == nil {
		return out, true
	}
	e := Error{File: file, Field: path, Message: err.Error()}
	var qe *sli.QueryError
	switch {
	case qnode != nil && errors.As(err, &qe):
		e.Line, e.Column = scalarPos(l.src[file], qnode, qe.Offset)
	case qnode != nil:
		e.Line, e.Column = qnode.Line, qnode.Column
	case node != nil:
		e.Line, e.Column = node.Line, node.Column
	}
	l.errs = append(l.errs, e)
	return "", false
}

func (l *loader) metricSource(set *openSLOSet, file string, node *yaml.Node, path string, m *osMetric) (metricSource, bool) {
	var out metricSource
	if m == nil || m.MetricSource == nil {
		l.errAt(file, node, "", path+".metricSource", "required")
		return out, false
	}
	msNode := at(node, "metricSource")
	ms := m.MetricSource
	typ := ms.Type
	if ms.MetricSourceRef != "" {
		ds, ok := set.datasources[ms.MetricSourceRef]
		if !ok {
			l.danglingOS(file, msNode, "metricSourceRef", path+".metricSource.metricSourceRef", "DataSource", ms.MetricSourceRef, keys(set.datasources))
			return out, false
		}
		if typ != "" && !strings.EqualFold(typ, ds.doc.Spec.Type) {
			l.errAt(file, msNode, "type", path+".metricSource.type", "type %q contradicts DataSource %s of type %s", typ, ms.MetricSourceRef, ds.doc.Spec.Type)
		}
		typ = ds.doc.Spec.Type
		out.url = ds.doc.Spec.ConnectionDetails["url"]
	}
	specNode := at(msNode, "spec")
	switch t := strings.ToLower(typ); {
	case promTypes[t]:
		out.kind = slo.SourcePrometheus
		var ps promSpec
		before := len(l.errs)
		checkKnown(file, specNode, reflect.TypeOf(ps), path+".metricSource.spec", &l.errs)
		if specNode != nil {
			if err := specNode.Decode(&ps); err != nil {
				l.typeErrors(file, specNode, err)
			}
		}
		if len(l.errs) > before {
			return out, false
		}
		if strings.TrimSpace(ps.Query) == "" {
			l.errAt(file, msNode, "spec", path+".metricSource.spec.query", "required: the PromQL query")
			return out, false
		}
		out.query, out.queryNode = ps.Query, at(specNode, "query")
		if out.url == "" {
			out.url = l.cfg.SLO.PrometheusURL
		}
		if out.url == "" {
			l.errAt(file, msNode, "", path+".metricSource.metricSourceRef", "no Prometheus URL: name a DataSource with metricSourceRef or set slo_settings.prometheus_url")
			return out, false
		}
	case t == "tandem":
		before := len(l.errs)
		checkKnown(file, specNode, reflect.TypeOf(out.native), path+".metricSource.spec", &l.errs)
		if specNode != nil {
			if err := specNode.Decode(&out.native); err != nil {
				l.typeErrors(file, specNode, err)
			}
		}
		if len(l.errs) > before {
			return out, false
		}
		if out.native.Source != "otlp" && (out.native.Metric != "" || out.native.Attributes != nil) {
			key := "metric"
			if out.native.Metric == "" {
				key = "attributes"
			}
			l.errAt(file, specNode, key, path+".metricSource.spec."+key, "%s belongs to source otlp (OpenTelemetry metrics posted to /v1/metrics)", key)
			return out, false
		}
		switch out.native.Source {
		case "ingest":
			out.kind = slo.SourceNative
		case "otlp":
			out.kind = slo.SourceNative
			sel, ok := l.otlpSelector(file, specNode, path+".metricSource.spec", out.native)
			if !ok {
				return out, false
			}
			out.otlp = sel
		case "changes":
			out.kind = slo.SourceChanges
			if out.native.Kind != "migration" {
				l.errAt(file, specNode, "kind", path+".metricSource.spec.kind", "tandem computes change-based SLIs for kind migration, got %q", out.native.Kind)
				return out, false
			}
		default:
			l.errAt(file, specNode, "source", path+".metricSource.spec.source", "expected ingest (counts and observations posted to tandem), otlp (OpenTelemetry metrics posted to /v1/metrics) or changes (migration events), got %q", out.native.Source)
			return out, false
		}
	case typ == "":
		l.errAt(file, msNode, "", path+".metricSource.type", "required: a metricSourceRef to a DataSource, or type Prometheus or tandem")
		return out, false
	default:
		l.errAt(file, msNode, "type", path+".metricSource.type", "unsupported metric source type %q; tandem reads Prometheus (Thanos, Mimir, VictoriaMetrics, Cortex) and tandem", typ)
		return out, false
	}
	return out, true
}

func (l *loader) indicator(set *openSLOSet, file string, node *yaml.Node, s osSLISpec, obj osObjective, objNode *yaml.Node, sloFile string, def *slo.Definition) {
	in := &def.Indicator
	switch {
	case s.RatioMetric != nil && s.ThresholdMetric != nil:
		l.errAt(file, node, "thresholdMetric", "spec.thresholdMetric", "set ratioMetric or thresholdMetric, not both")
	case s.RatioMetric != nil:
		rm := s.RatioMetric
		rn := at(node, "ratioMetric")
		if rm.Raw != nil || rm.RawType != "" {
			l.errAt(file, rn, "raw", "spec.ratioMetric.raw", "raw ratio metrics (raw, rawType) are not supported; give good or bad and total")
			return
		}
		if rm.Counter != nil && !*rm.Counter {
			l.errAt(file, rn, "counter", "spec.ratioMetric.counter", "counter: false is not supported: tandem computes every window from counters (counter: true)")
			return
		}
		if obj.Op != "" || obj.Value != nil {
			l.errAt(sloFile, objNode, "op", "spec.objectives.op", "op and value belong to thresholdMetric SLIs; a ratioMetric objective takes only target")
		}
		if (rm.Good == nil) == (rm.Bad == nil) {
			l.errAt(file, rn, "", "spec.ratioMetric.good", "set exactly one of good and bad")
			return
		}
		if rm.Total == nil {
			l.errAt(file, rn, "", "spec.ratioMetric.total", "required")
			return
		}
		which, m := "good", rm.Good
		if rm.Bad != nil {
			which, m = "bad", rm.Bad
		}
		num, ok1 := l.metricSource(set, file, at(rn, which), "spec.ratioMetric."+which, m)
		den, ok2 := l.metricSource(set, file, at(rn, "total"), "spec.ratioMetric.total", rm.Total)
		if !ok1 || !ok2 {
			return
		}
		if num.kind != den.kind || num.url != den.url {
			l.errAt(file, rn, "total", "spec.ratioMetric.total", "%s and total must come from the same source", which)
			return
		}
		in.Source = num.kind
		switch num.kind {
		case slo.SourcePrometheus:
			in.PrometheusURL = num.url
			nq, ok1 := l.promQuery(file, num.queryNode, at(rn, which), "spec.ratioMetric."+which+".metricSource.spec.query", num.query, sli.CountQuery)
			dq, ok2 := l.promQuery(file, den.queryNode, at(rn, "total"), "spec.ratioMetric.total.metricSource.spec.query", den.query, sli.CountQuery)
			if !ok1 || !ok2 {
				return
			}
			if which == "good" {
				in.Good = nq
			} else {
				in.Bad = nq
			}
			in.Total = dq
		case slo.SourceNative:
			if num.otlp != nil || den.otlp != nil {
				l.otlpIndicator(file, rn, which, num, den, in)
				break
			}
			in.MaxStatus = 500
			if num.native.MaxStatus != nil {
				in.MaxStatus = *num.native.MaxStatus
			}
			if num.native.LatencyMaxMs != nil {
				in.LatencyMaxMs = *num.native.LatencyMaxMs
			}
			if which == "bad" {
				l.errAt(file, rn, "bad", "spec.ratioMetric.bad", "a tandem ingest SLI names its good events (good with maxStatus, latencyMaxMs)")
			}
			if den.native.MaxStatus != nil || den.native.LatencyMaxMs != nil {
				l.errAt(file, at(rn, "total"), "metricSource", "spec.ratioMetric.total.metricSource.spec", "total counts every event; maxStatus and latencyMaxMs belong to good")
			}
		case slo.SourceChanges:
			in.ChangeKind = num.native.Kind
			in.Environment = num.native.Environment
			if which != "good" || num.native.Status != "success" || den.native.Status != "" {
				l.errAt(file, rn, which, "spec.ratioMetric", "a migration SLI counts good {status: success} over total {} migration events")
			}
		}
		if def.Method == slo.Timeslices && def.TimeSliceTarget == 0 {
			l.errAt(sloFile, objNode, "", "spec.objectives.timeSliceTarget", "required with budgetingMethod Timeslices and a ratioMetric: the ratio a slice must reach to be good")
		}
	case s.ThresholdMetric != nil:
		tn := at(node, "thresholdMetric")
		src, ok := l.metricSource(set, file, tn, "spec.thresholdMetric", s.ThresholdMetric)
		if !ok {
			return
		}
		if src.kind != slo.SourcePrometheus {
			l.errAt(file, tn, "metricSource", "spec.thresholdMetric.metricSource", "thresholdMetric needs a Prometheus source; for tandem ingest use a ratioMetric whose good events have latencyMaxMs")
			return
		}
		q, ok := l.promQuery(file, src.queryNode, tn, "spec.thresholdMetric.metricSource.spec.query", src.query, sli.ThresholdQuery)
		if !ok {
			return
		}
		in.Source, in.PrometheusURL, in.Query = src.kind, src.url, q
		switch obj.Op {
		case "lt", "lte", "gt", "gte":
			in.Op = obj.Op
		case "":
			l.errAt(sloFile, objNode, "", "spec.objectives.op", "required for a thresholdMetric: lt, lte, gt or gte")
		default:
			l.errAt(sloFile, objNode, "op", "spec.objectives.op", "unknown op %q; expected lt, lte, gt or gte", obj.Op)
		}
		if obj.Value == nil {
			l.errAt(sloFile, objNode, "", "spec.objectives.value", "required for a thresholdMetric: the threshold")
		} else {
			in.Threshold = *obj.Value
		}
		if def.Method != slo.Timeslices {
			l.errAt(sloFile, objNode, "", "spec.budgetingMethod", "a thresholdMetric SLI needs budgetingMethod Timeslices: each slice is good when the value meets the threshold")
		}
		if def.Method == slo.Timeslices && def.TimeSliceTarget == 0 {
			l.errAt(sloFile, objNode, "", "spec.objectives.timeSliceTarget", "required with budgetingMethod Timeslices: the share of a slice's points that must meet the threshold for the slice to be good (1: every point)")
		}
	default:
		l.errAt(file, node, "", "spec.ratioMetric", "required: ratioMetric or thresholdMetric")
	}
}

func (l *loader) alertPolicy(set *openSLOSet, file string, node *yaml.Node, ap osAlertPolicyRef, def *slo.Definition) {
	var spec osAlertPolicySpec
	pfile, pnode := file, node
	switch {
	case ap.AlertPolicyRef != "":
		p, ok := set.policies[ap.AlertPolicyRef]
		if !ok {
			l.danglingOS(file, node, "alertPolicyRef", "spec.alertPolicies.alertPolicyRef", "AlertPolicy", ap.AlertPolicyRef, keys(set.policies))
			return
		}
		spec, pfile, pnode = p.doc.Spec, p.file, at(p.node, "spec")
	case ap.Kind == "AlertPolicy" && ap.Spec != nil:
		spec, pnode = *ap.Spec, at(node, "spec")
	default:
		l.errAt(file, node, "", "spec.alertPolicies", "expected alertPolicyRef or an inline {kind: AlertPolicy, metadata, spec}")
		return
	}
	if spec.AlertWhenNoData != nil && *spec.AlertWhenNoData {
		l.errAt(pfile, pnode, "alertWhenNoData", "spec.alertWhenNoData", "alertWhenNoData: true is not supported: no traffic spends no budget and does not alert")
	}
	if spec.AlertWhenResolved != nil && !*spec.AlertWhenResolved {
		l.errAt(pfile, pnode, "alertWhenResolved", "spec.alertWhenResolved", "alertWhenResolved: false is not supported: tandem always resolves what it raised")
	}
	if spec.AlertWhenBreaching != nil && !*spec.AlertWhenBreaching {
		l.errAt(pfile, pnode, "alertWhenBreaching", "spec.alertWhenBreaching", "alertWhenBreaching: false is not supported: the policy alerts on burn")
	}
	if len(spec.NotificationTargets) > 0 {
		l.errAt(pfile, pnode, "notificationTargets", "spec.notificationTargets", "notificationTargets are not supported: pages go through tandem's incidents, escalation policies and on-call schedules")
	}
	if len(spec.Conditions) != 1 {
		l.errAt(pfile, pnode, "conditions", "spec.conditions", "an alert policy has exactly one condition (OpenSLO v1), got %d", len(spec.Conditions))
		return
	}
	c := spec.Conditions[0]
	cnode := item(at(pnode, "conditions"), 0)
	var cs osAlertConditionSpec
	cfile := pfile
	switch {
	case c.ConditionRef != "":
		ce, ok := set.conditions[c.ConditionRef]
		if !ok {
			l.danglingOS(pfile, cnode, "conditionRef", "spec.conditions.conditionRef", "AlertCondition", c.ConditionRef, keys(set.conditions))
			return
		}
		cs, cfile, cnode = ce.doc.Spec, ce.file, ce.node
		// The condition's own errors were reported where it is defined.
		n := len(l.errs)
		bc, sev, ok := l.checkCondition(cfile, cnode, "spec", ce.doc.Metadata, cs)
		l.errs = l.errs[:n]
		if ok {
			l.addCondition(def, bc, sev)
		}
		return
	case c.Kind == "AlertCondition" && c.Spec != nil:
		cs = *c.Spec
	default:
		l.errAt(pfile, cnode, "", "spec.conditions", "expected conditionRef or an inline {kind: AlertCondition, metadata, spec}")
		return
	}
	if bc, sev, ok := l.checkCondition(cfile, cnode, "spec", c.Metadata, cs); ok {
		l.addCondition(def, bc, sev)
	}
}

func (l *loader) addCondition(def *slo.Definition, bc slo.BurnCondition, sev string) {
	if sev == "page" {
		def.Alerting.Page = append(def.Alerting.Page, bc)
	} else {
		def.Alerting.Ticket = append(def.Alerting.Ticket, bc)
	}
}
