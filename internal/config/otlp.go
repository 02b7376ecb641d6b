package config

import (
	"math"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/slo"
)

// otlpSelector checks the spec of a metric source {type: tandem, spec:
// {source: otlp, …}} at node and returns what it selects: metric (required),
// attributes (each a value or a list of values), and for good, maxStatus
// and latencyMaxMs.
func (l *loader) otlpSelector(file string, node *yaml.Node, path string, ns nativeSpec) (*slo.OTLPSelector, bool) {
	before := len(l.errs)
	sel := &slo.OTLPSelector{Metric: ns.Metric}
	if ns.Metric == "" {
		l.errAt(file, node, "", path+".metric", "required: the name of the OTLP metric (a monotonic Sum or a histogram), e.g. http.server.request.duration")
	}
	if ns.Kind != "" || ns.Environment != "" || ns.Status != "" {
		l.errAt(file, node, "kind", path, "kind, environment and status belong to source changes")
	}
	attrs := at(node, "attributes")
	keys := make([]string, 0, len(ns.Attributes))
	for k := range ns.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		v := ns.Attributes[key].Node
		var vals []string
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
			vals = []string{v.Value}
		case v.Kind == yaml.SequenceNode && len(v.Content) > 0:
			for _, c := range v.Content {
				if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
					l.errAt(file, attrs, key, path+".attributes."+key, "expected a list of values, got an item that is not a value")
					vals = nil
					break
				}
				vals = append(vals, c.Value)
			}
		default:
			l.errAt(file, attrs, key, path+".attributes."+key, "expected a value or a non-empty list of values the attribute may have")
		}
		if key == "" {
			l.errAt(file, attrs, key, path+".attributes", "an attribute name is empty")
		}
		if vals != nil {
			slices.Sort(vals)
			sel.Match = append(sel.Match, slo.AttrMatcher{Key: key, Values: slices.Compact(vals)})
		}
	}
	if ns.MaxStatus != nil {
		if *ns.MaxStatus < 100 || *ns.MaxStatus > 600 {
			l.errAt(file, node, "maxStatus", path+".maxStatus", "expected an HTTP status from 100 to 600, got %d", *ns.MaxStatus)
		}
		sel.MaxStatus = *ns.MaxStatus
	}
	if ns.LatencyMaxMs != nil {
		if v := *ns.LatencyMaxMs; !(v > 0) || math.IsInf(v, 0) {
			l.errAt(file, node, "latencyMaxMs", path+".latencyMaxMs", "expected milliseconds above 0, got %v", v)
		}
		sel.LatencyMaxMs = *ns.LatencyMaxMs
	}
	return sel, len(l.errs) == before
}

// otlpIndicator sets the OTLP selector of a ratio SLI from its good (which
// is "good") and total metric sources: both source otlp and one metric;
// total's attributes select the points, good's narrow them to the good
// ones, with maxStatus and latencyMaxMs.
func (l *loader) otlpIndicator(file string, rn *yaml.Node, which string, num, den metricSource, in *slo.Indicator) {
	switch {
	case which != "good":
		l.errAt(file, rn, "bad", "spec.ratioMetric.bad", "an OTLP SLI names its good events (good with attributes, maxStatus, latencyMaxMs) and its total")
		return
	case num.otlp == nil || den.otlp == nil:
		l.errAt(file, rn, "total", "spec.ratioMetric", "good and total must both be source otlp: an SLO reads OTLP metrics or posted events, not both")
		return
	case num.otlp.Metric != den.otlp.Metric:
		l.errAt(file, at(at(at(rn, "good"), "metricSource"), "spec"), "metric", "spec.ratioMetric.good.metricSource.spec.metric", "good reads metric %q and total %q: both read one metric, good's attributes, maxStatus and latencyMaxMs picking its good events", num.otlp.Metric, den.otlp.Metric)
		return
	case den.otlp.MaxStatus != 0 || den.otlp.LatencyMaxMs != 0:
		l.errAt(file, at(rn, "total"), "metricSource", "spec.ratioMetric.total.metricSource.spec", "total counts every event of the points it selects; maxStatus and latencyMaxMs belong to good")
		return
	}
	total := map[string][]string{}
	for _, m := range den.otlp.Match {
		total[m.Key] = m.Values
	}
	for _, m := range num.otlp.Match {
		tv, ok := total[m.Key]
		if !ok {
			continue
		}
		for _, v := range m.Values {
			if !slices.Contains(tv, v) {
				l.errAt(file, at(at(at(at(rn, "good"), "metricSource"), "spec"), "attributes"), m.Key, "spec.ratioMetric.good.metricSource.spec.attributes."+m.Key, "good's value %q of %s is not one total selects (%v): good events are a part of total", v, m.Key, tv)
				return
			}
		}
	}
	in.OTLP = &slo.OTLPSelector{
		Metric:       den.otlp.Metric,
		Match:        den.otlp.Match,
		Good:         num.otlp.Match,
		MaxStatus:    num.otlp.MaxStatus,
		LatencyMaxMs: num.otlp.LatencyMaxMs,
	}
	in.LatencyMaxMs = num.otlp.LatencyMaxMs
}
