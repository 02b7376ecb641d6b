package importer

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
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

// SlothWindows are Sloth's alert windows for one SLO period (a
// sloth.slok.dev/v1 AlertWindows document): for each of its four alerts,
// the share of the error budget it stands for and its long and short
// windows.
type SlothWindows struct {
	Period                                       time.Duration
	PageQuick, PageSlow, TicketQuick, TicketSlow SlothWindow
}

// SlothWindow is one alert's windows.
type SlothWindow struct {
	BudgetPercent float64
	Short, Long   time.Duration
}

// slothGoogle are Sloth's built-in windows (internal/alert/windows/
// google-28d.yaml and google-30d.yaml, from the SRE workbook): 2 % of the
// budget in 1 h and 5 % in 6 h page, 10 % in 1 d and 10 % in 3 d ticket.
func slothGoogle(period time.Duration) SlothWindows {
	return SlothWindows{Period: period,
		PageQuick: SlothWindow{2, 5 * time.Minute, time.Hour}, PageSlow: SlothWindow{5, 30 * time.Minute, 6 * time.Hour},
		TicketQuick: SlothWindow{10, 2 * time.Hour, 24 * time.Hour}, TicketSlow: SlothWindow{10, 6 * time.Hour, 72 * time.Hour}}
}

// SlothWindowsFor returns the windows Sloth uses for an SLO period: those
// of custom (its --slo-period-windows-path) when given, else its built-in
// ones, which exist for 28 and 30 days only; Sloth refuses any other
// period, and so does the import.
func SlothWindowsFor(period time.Duration, custom []SlothWindows) (SlothWindows, error) {
	if custom == nil {
		custom = []SlothWindows{slothGoogle(28 * 24 * time.Hour), slothGoogle(30 * 24 * time.Hour)}
	}
	var have []string
	for _, w := range custom {
		if w.Period == period {
			return w, nil
		}
		have = append(have, model.Duration(w.Period).String())
	}
	return SlothWindows{}, fmt.Errorf("no Sloth alert windows for an SLO period of %s (have %s); give the AlertWindows files Sloth runs with (--slo-period-windows-path) with --slo-period-windows",
		model.Duration(period), strings.Join(have, ", "))
}

// ParseSlothWindows reads sloth.slok.dev/v1 AlertWindows documents.
func ParseSlothWindows(file string, b []byte) ([]SlothWindows, error) {
	docs, err := decodeYAMLDocs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []SlothWindows
	res := &Result{}
	for i, d := range docs {
		o := newObj(res, file, fmt.Sprintf("documents[%d]", i), d)
		if av, kind := o.str("apiVersion"), o.str("kind"); !strings.HasPrefix(av, "sloth.slok.dev/") || kind != "AlertWindows" {
			return nil, fmt.Errorf("%s: %s %s is not a Sloth AlertWindows document", o.where(), av, kind)
		}
		spec := o.sub("spec")
		var w SlothWindows
		period, err := parsePromDuration(spec.str("sloPeriod"))
		if err != nil || period <= 0 {
			return nil, fmt.Errorf("%s: sloPeriod %q is not a duration", spec.at("sloPeriod"), spec.str("sloPeriod"))
		}
		w.Period = period
		for _, a := range []struct {
			sev, speed string
			dst        *SlothWindow
		}{{"page", "quick", &w.PageQuick}, {"page", "slow", &w.PageSlow}, {"ticket", "quick", &w.TicketQuick}, {"ticket", "slow", &w.TicketSlow}} {
			ao := spec.sub(a.sev).sub(a.speed)
			pct, ok := ao.num("errorBudgetPercent")
			short, err1 := parsePromDuration(ao.str("shortWindow"))
			long, err2 := parsePromDuration(ao.str("longWindow"))
			if !ok || pct <= 0 || pct > 100 || err1 != nil || err2 != nil || short <= 0 || long <= short {
				return nil, fmt.Errorf("%s: expected errorBudgetPercent (above 0, at most 100) and shortWindow shorter than longWindow", ao.where())
			}
			*a.dst = SlothWindow{pct, short, long}
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no AlertWindows document", file)
	}
	return out, nil
}

// SlothWindowsPath reads the AlertWindows of a file, or of every YAML file
// in a directory (Sloth's --slo-period-windows-path).
func SlothWindowsPath(path string) ([]SlothWindows, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	if st.IsDir() {
		if files, err = readDir(path, "*.y*ml"); err != nil {
			return nil, err
		}
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		files[filepath.Base(path)] = b
	}
	var out []SlothWindows
	for _, name := range slices.Sorted(maps.Keys(files)) {
		ws, err := ParseSlothWindows(name, files[name])
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}

// Burns returns the four conditions Sloth alerts on: each factor is the
// share of the budget times the period over the long window (Sloth's
// getBurnRateFactor), 14.4, 6, 3 and 1 for 30 days. Sloth's alert rules
// have no for:, so neither do these.
func (w SlothWindows) Burns() []Burn {
	f := func(a SlothWindow) float64 {
		return math.Round(a.BudgetPercent/100*float64(w.Period)/float64(a.Long)*1e9) / 1e9
	}
	return []Burn{
		{"page", f(w.PageQuick), w.PageQuick.Long, w.PageQuick.Short, 0},
		{"page", f(w.PageSlow), w.PageSlow.Long, w.PageSlow.Short, 0},
		{"ticket", f(w.TicketQuick), w.TicketQuick.Long, w.TicketQuick.Short, 0},
		{"ticket", f(w.TicketSlow), w.TicketSlow.Long, w.TicketSlow.Short, 0},
	}
}

// Sloth reads a Sloth spec: the prometheus/v1 file format or Kubernetes
// sloth.slok.dev/v1 PrometheusServiceLevel documents (one or several in a
// YAML stream), and writes one OpenSLO SLO per Sloth SLO with the same
// objective, the period of windows (Sloth's is set when it runs, 30 days
// unless told otherwise) and the four burn-rate conditions Sloth's rules
// alert on with those windows.
func Sloth(file string, b []byte, windows SlothWindows, nm *Namer, opts SLOOptions) (*Result, error) {
	docs, err := decodeYAMLDocs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no document", file)
	}
	if windows.Period <= 0 {
		return nil, fmt.Errorf("no Sloth alert windows given")
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
			sb.slothSpec(o, windows, false)
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
			sb.slothSpec(spec, windows, true)
			o.done()
		default:
			return nil, fmt.Errorf("%s: neither a Sloth prometheus/v1 spec (version: prometheus/v1) nor a sloth.slok.dev/v1 PrometheusServiceLevel", loc(file, path))
		}
	}
	return sb.finish(), nil
}

// slothSpec reads a spec; k8s selects the CRD's camelCase field names.
func (sb *sloBuilder) slothSpec(o *obj, windows SlothWindows, k8s bool) {
	key := func(snake, camel string) string {
		if k8s {
			return camel
		}
		return snake
	}
	svcName := o.str("service")
	labelList := labelsOf(o.sub("labels"))
	labels := labelMap(labelList)
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
		sb.slothSLO(s, svcName, team, pos, windows, labelList, key)
	}
	o.done()
}

func (sb *sloBuilder) slothSLO(s *obj, svcName, team, svcPos string, windows SlothWindows, specLabels []sloLabel, key func(string, string) string) {
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
	labels := append(slices.Clone(specLabels), labelsOf(s.sub("labels"))...)
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
	page, ticket := al.sub(key("page_alert", "pageAlert")), al.sub(key("ticket_alert", "ticketAlert"))
	pageOff, _ := page.boolean("disable")
	ticketOff, _ := ticket.boolean("disable")
	for _, a := range []*obj{al, page, ticket} {
		for _, k := range []string{"name", "labels", "annotations"} {
			if a.has(k) && !empty(a.m[k]) {
				a.warn(k, "not imported: tandem's alerts are SLOBurnRatePage and SLOBurnRateTicket with labels slo, service and severity; route on those in Alertmanager")
			}
			a.ignore(k)
		}
		if a != al {
			a.done()
		}
	}
	al.done()
	s.done()
	if skip {
		return
	}
	var burns []Burn
	for _, b := range windows.Burns() {
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
	sb.add(sloName, name, desc, svc, objPct/100, windows.Period, bad, false, total, burns, labels)
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
