package importer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PyrraBurns returns the four multi-window conditions Pyrra generates for
// an SLO window (slo/rules.go, Windows): factors 14 and 7 page
// (critical), 2 and 1 ticket (warning); the windows and the rules' for:
// are those of a 28-day SLO (1h/5m for 2m, 6h/30m for 15m, 1d/2h for 1h,
// 4d/6h for 3h) scaled to the window and rounded to the minute.
func PyrraBurns(window time.Duration) []Burn {
	r := func(d time.Duration) time.Duration { return d.Round(time.Minute) }
	return []Burn{
		{"page", 14, r(window / (28 * 24)), r(window / (28 * 24 * 12)), r(window / (28 * 24 * 30))},
		{"page", 7, r(window / (28 * 4)), r(window / (28 * 24 * 2)), r(window / (28 * 24 * 4))},
		{"ticket", 2, r(window / 28), r(window / (28 * 12)), r(window / (28 * 24))},
		{"ticket", 1, r(window / 7), r(window / (28 * 4)), r(window / (28 * 8))},
	}
}

// Pyrra reads pyrra.dev/v1alpha1 ServiceLevelObjective documents (one or
// several in a YAML stream) and writes one OpenSLO SLO each with the same
// target, window and burn-rate conditions. Ratio and latency indicators
// carry over; bool_gauge and latencyNative do not (tandem computes SLIs
// from counters), nor does grouping (one SLI over every series).
func Pyrra(file string, b []byte, nm *Namer, opts SLOOptions) (*Result, error) {
	docs, err := decodeYAMLDocs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no document", file)
	}
	sb := newSLOBuilder("pyrra", nm, opts)
	for di, d := range docs {
		path := ""
		if len(docs) > 1 {
			path = fmt.Sprintf("documents[%d]", di)
		}
		o := newObj(sb.res, file, path, d)
		av, kind := o.str("apiVersion"), o.str("kind")
		if !strings.HasPrefix(av, "pyrra.dev/") || kind != "ServiceLevelObjective" {
			return nil, fmt.Errorf("%s: %s %s is not a pyrra.dev/v1alpha1 ServiceLevelObjective", loc(file, path), av, kind)
		}
		sb.pyrraSLO(o)
	}
	return sb.finish(), nil
}

func (sb *sloBuilder) pyrraSLO(o *obj) {
	md := o.sub("metadata")
	name := md.str("name")
	ns := md.str("namespace")
	labelList := labelsOf(md.sub("labels"))
	labels := labelMap(labelList)
	md.ignore("annotations", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")
	md.done()
	o.ignore("status")
	spec := o.sub("spec")
	desc := spec.str("description")
	targetS := spec.str("target")
	windowS := spec.str("window")
	skip := false
	target, err := strconv.ParseFloat(targetS, 64)
	if err != nil || target <= 0 || target >= 100 {
		sb.res.warn(spec.at("target"), "target %q is not a percentage above 0 and below 100; SLO skipped", targetS)
		skip = true
	}
	window, err := parsePromDuration(windowS)
	if err != nil || window < time.Hour {
		sb.res.warn(spec.at("window"), "window %q is not a duration of at least 1h; SLO skipped", windowS)
		skip = true
	}
	for _, k := range []string{"partial_response_strategy", "performanceOverAccuracy", "ruleOutput"} {
		if spec.has(k) {
			spec.warn(k, "not imported: it shapes Pyrra's own rules")
		}
	}
	spec.ignore("partial_response_strategy", "performanceOverAccuracy", "ruleOutput")
	ind := spec.sub("indicator")
	var num, total string
	good := false
	var grouping []string
	switch {
	case ind.has("ratio"):
		r := ind.sub("ratio")
		num = sb.pyrraMetric(r, "errors")
		total = sb.pyrraMetric(r, "total")
		grouping = r.strs("grouping")
		r.done()
	case ind.has("latency"):
		l := ind.sub("latency")
		num = sb.pyrraMetric(l, "success")
		total = sb.pyrraMetric(l, "total")
		grouping = l.strs("grouping")
		good = true
		l.done()
	case ind.has("bool_gauge"):
		ind.warn("bool_gauge", "a bool_gauge indicator is not imported: tandem computes SLIs from counters; SLO skipped")
		skip = true
	case ind.has("latencyNative"):
		ind.warn("latencyNative", "a latencyNative (native histogram) indicator is not imported; SLO skipped")
		skip = true
	default:
		sb.res.warn(ind.where(), "required: ratio, latency, latencyNative or bool_gauge; SLO skipped")
		skip = true
	}
	ind.ignore("bool_gauge", "latencyNative")
	ind.done()
	if num == "" || total == "" {
		skip = true
	}
	if len(grouping) > 0 {
		sb.res.warn(ind.where()+".grouping", "grouping by %s not imported: tandem computes one SLI over every series", strings.Join(grouping, ", "))
	}
	al := spec.sub("alerting")
	disabled, _ := al.boolean("disabled")
	burnrates, hasBR := al.boolean("burnrates")
	if absent, ok := al.boolean("absent"); !ok || absent {
		al.warn("absent", "Pyrra alerts when the SLO's metrics are absent (absent defaults to true); tandem does not: it reports missing data as no_data")
	}
	for _, k := range []string{"name", "absentName"} {
		if al.has(k) {
			al.warn(k, "alert name not imported: tandem's alerts are SLOBurnRatePage and SLOBurnRateTicket")
		}
	}
	if al.has("severities") {
		al.warn("severities", "severity names are not imported: tandem's severities are page and ticket")
	}
	al.ignore("absentName", "severities", "name")
	al.done()
	spec.done()
	o.done()
	if skip {
		return
	}
	burns := PyrraBurns(window)
	if disabled || (hasBR && !burnrates) {
		sb.res.warn(al.where(), "burn-rate alerts are disabled; tandem alerts on every SLO, so it gets tandem's default burn-rate alerts")
		burns = nil
	}
	svcName := labels["service"]
	if svcName == "" {
		svcName = ns
	}
	if svcName == "" {
		svcName = name
	}
	team := labels["team"]
	if team == "" {
		team = labels["owner"]
	}
	svc := sb.service(svcName, team, md.where())
	sloName := sb.nm.SLO("slo", name)
	sb.add(sloName, "", desc, svc, target/100, window, num, good, total, burns, labelList)
}

// pyrraMetric reads {metric: SELECTOR} at key and returns the selector.
func (sb *sloBuilder) pyrraMetric(o *obj, key string) string {
	m := o.sub(key)
	q := m.str("metric")
	m.done()
	if q == "" {
		sb.res.warn(o.at(key), "required: metric; SLO skipped")
		return ""
	}
	sel, grouping, err := counterSelector(q)
	if err != nil {
		sb.res.warn(o.at(key)+".metric", "%v; SLO skipped", err)
		return ""
	}
	if len(grouping) > 0 {
		sb.res.warn(o.at(key)+".metric", "grouping by %s not imported", strings.Join(grouping, ", "))
	}
	return sel
}
