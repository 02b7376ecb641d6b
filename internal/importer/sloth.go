package importer

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// windowTmpl is Sloth's query placeholder for the window.
var windowTmpl = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// SlothPeriod is the SLO period Sloth uses unless told otherwise (its
// --default-slo-period).
const SlothPeriod = 30 * 24 * time.Hour

// SlothBurns returns the conditions Sloth generates for an SLO period:
// its Google windows (internal/alert/windows/google-30d.yaml and
// google-28d.yaml), each factor being the share of the error budget the
// condition stands for times the period over the long window: 2 % in 1 h
// and 5 % in 6 h page, 10 % in 1 d and 10 % in 3 d ticket.
func SlothBurns(period time.Duration) []Burn {
	f := func(share float64, long time.Duration) float64 {
		return math.Round(share*float64(period)/float64(long)*1e9) / 1e9
	}
	return []Burn{
		{"page", f(0.02, time.Hour), time.Hour, 5 * time.Minute},
		{"page", f(0.05, 6*time.Hour), 6 * time.Hour, 30 * time.Minute},
		{"ticket", f(0.10, 24*time.Hour), 24 * time.Hour, 2 * time.Hour},
		{"ticket", f(0.10, 72*time.Hour), 72 * time.Hour, 6 * time.Hour},
	}
}

// Sloth reads a Sloth spec: the prometheus/v1 file format or Kubernetes
// sloth.slok.dev/v1 PrometheusServiceLevel documents (one or several in a
// YAML stream), and writes one OpenSLO SLO per Sloth SLO with the same
// objective, period (period; Sloth's default is 30 days) and the same
// four burn-rate conditions Sloth's rules would alert on.
func Sloth(file string, b []byte, period time.Duration, nm *Namer, opts SLOOptions) (*Result, error) {
	docs, err := decodeYAMLDocs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no document", file)
	}
	if period <= 0 {
		period = SlothPeriod
	}
	sb := newSLOBuilder("sloth", nm, opts)
	for di, d := range docs {
		path := ""
		if len(docs) > 1 {
			path = fmt.Sprintf("documents[%d]", di)
		}
		o := newObj(sb.res, file, path, d)
		switch {
		case o.str("version") == "prometheus/v1":
			sb.slothSpec(o, period, false)
		case o.has("apiVersion"):
			av, kind := o.str("apiVersion"), o.str("kind")
			if !strings.HasPrefix(av, "sloth.slok.dev/") || kind != "PrometheusServiceLevel" {
				sb.res.warn(o.where(), "%s %s is not a Sloth PrometheusServiceLevel; skipped", av, kind)
				continue
			}
			md := o.sub("metadata")
			md.ignore("name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")
			md.done()
			o.ignore("status")
			spec := o.sub("spec")
			sb.slothSpec(spec, period, true)
			o.done()
		default:
			return nil, fmt.Errorf("%s: neither a Sloth prometheus/v1 spec (version: prometheus/v1) nor a sloth.slok.dev/v1 PrometheusServiceLevel", loc(file, path))
		}
	}
	return sb.finish(), nil
}

// slothSpec reads a spec; k8s selects the CRD's camelCase field names.
func (sb *sloBuilder) slothSpec(o *obj, period time.Duration, k8s bool) {
	key := func(snake, camel string) string {
		if k8s {
			return camel
		}
		return snake
	}
	svcName := o.str("service")
	labels := stringMap(o.sub("labels"))
	plugins := key("slo_plugins", "sloPlugins")
	if o.has(plugins) {
		o.warn(plugins, "SLO plugins are not imported: tandem generates its rules itself")
	}
	o.ignore(plugins)
	pos := o.at("service")
	if svcName == "" {
		sb.res.warn(pos, "required: the service; SLOs skipped")
		o.ignore("slos")
		o.done()
		return
	}
	team := labels["owner"]
	if team == "" {
		team = labels["team"]
	}
	for _, s := range o.objs("slos") {
		sb.slothSLO(s, svcName, team, pos, period, labels, key)
	}
	o.done()
}

func (sb *sloBuilder) slothSLO(s *obj, svcName, team, svcPos string, period time.Duration, specLabels map[string]string, key func(string, string) string) {
	name := s.str("name")
	desc := s.str("description")
	objPct, ok := s.num("objective")
	if name == "" || !ok {
		sb.res.warn(s.where(), "required: name and objective; SLO skipped")
		s.ignore("sli", "alerting", "labels", "plugins")
		s.done()
		return
	}
	if objPct <= 0 || objPct >= 100 {
		sb.res.warn(s.at("objective"), "objective %v%% is not above 0 and below 100; SLO skipped", objPct)
		s.ignore("sli", "alerting", "labels", "plugins")
		s.done()
		return
	}
	labels := maps.Clone(specLabels)
	maps.Copy(labels, stringMap(s.sub("labels")))
	if s.has("plugins") {
		s.warn("plugins", "SLO plugins are not imported: tandem generates its rules itself")
	}
	s.ignore("plugins")
	sli := s.sub("sli")
	var bad, total string
	skip := false
	switch {
	case sli.has("events"):
		ev := sli.sub("events")
		eq, tq := ev.str(key("error_query", "errorQuery")), ev.str(key("total_query", "totalQuery"))
		var g1, g2 []string
		var err error
		if bad, g1, err = counterSelector(eq); err != nil {
			sb.res.warn(ev.at(key("error_query", "errorQuery")), "%v; SLO skipped", err)
			skip = true
		} else if total, g2, err = counterSelector(tq); err != nil {
			sb.res.warn(ev.at(key("total_query", "totalQuery")), "%v; SLO skipped", err)
			skip = true
		} else if len(g1)+len(g2) > 0 {
			sb.res.warn(ev.where(), "grouping by %s not imported: tandem computes one SLI over every series", strings.Join(append(g1, g2...), ", "))
		}
		ev.done()
	case sli.has("raw"):
		sli.sub("raw").ignore(key("error_ratio_query", "errorRatioQuery"))
		sli.warn("raw", "a raw error ratio query is not imported: tandem needs the error and total counters; SLO skipped")
		skip = true
	case sli.has("plugin"):
		sli.warn("plugin", "SLI plugins are not imported: tandem needs the error and total counters; SLO skipped")
		skip = true
	default:
		sb.res.warn(sli.where(), "required: events, raw or plugin; SLO skipped")
		skip = true
	}
	sli.ignore("raw", "plugin")
	sli.done()

	al := s.sub("alerting")
	al.ignore("name", "labels", "annotations")
	page, ticket := al.sub(key("page_alert", "pageAlert")), al.sub(key("ticket_alert", "ticketAlert"))
	pageOff, _ := page.boolean("disable")
	ticketOff, _ := ticket.boolean("disable")
	page.ignore("labels", "annotations")
	ticket.ignore("labels", "annotations")
	page.done()
	ticket.done()
	al.done()
	s.done()
	if skip {
		return
	}
	var burns []Burn
	for _, b := range SlothBurns(period) {
		if (b.Severity == "page" && pageOff) || (b.Severity == "ticket" && ticketOff) {
			continue
		}
		burns = append(burns, b)
	}
	if len(burns) == 0 {
		sb.res.warn(al.where(), "both page and ticket alerts are disabled; tandem alerts on every SLO, so it gets tandem's default burn-rate alerts")
	}
	svc := sb.service(svcName, team, svcPos)
	sloName := sb.nm.SLO("slo", svcName+"-"+name)
	sb.add(sloName, name, desc, svc, objPct/100, period, bad, false, total, burns, labels)
}

// stringMap reads an object of string values.
func stringMap(o *obj) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(o.m)) {
		out[k] = o.str(k)
	}
	return out
}

// parsePromDuration reads a Prometheus duration ("28d", "4w", "2h30m").
func parsePromDuration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return time.Duration(d), nil
}
