package importer

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/alerting"
	"github.com/tandemhq/tandem/internal/slo"
)

// wantRule is one multi-window condition as the source tool's rules
// would alert on it.
type wantRule struct {
	severity    string
	factor      float64
	long, short time.Duration
	after       time.Duration // the rule's for:
}

// def returns the SLO definition of that name.
func def(defs []*slo.Definition, name string) (*slo.Definition, bool) {
	for _, d := range defs {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

// checkRules checks that tandem's generated rules for the SLO alert on
// exactly these conditions, with the objective and window given.
func checkRules(t *testing.T, defs []*slo.Definition, name string, objective float64, window time.Duration, want []wantRule) {
	t.Helper()
	var def *slo.Definition
	for _, d := range defs {
		if d.Name == name {
			def = d
		}
	}
	if def == nil {
		t.Fatalf("SLO %s not imported", name)
	}
	if math.Abs(def.Objective-objective) > 1e-12 || def.Window.Rolling != window {
		t.Errorf("%s: objective %v over %v, want %v over %v", name, def.Objective, def.Window.Rolling, objective, window)
	}
	b, err := alerting.Rules([]*slo.Definition{def})
	if err != nil {
		t.Fatal(err)
	}
	rules := string(b)
	allowed := strconv.FormatFloat(1-def.Objective, 'g', 10, 64)
	n := map[string]int{}
	for _, w := range want {
		n[w.severity]++
		limit := strconv.FormatFloat(w.factor, 'g', -1, 64) + " * " + allowed
		cond := fmt.Sprintf("%s{slo=%q} > (%s) and %s{slo=%q} > (%s)", alerting.RecordName(w.long), name, limit, alerting.RecordName(w.short), name, limit)
		if !strings.Contains(strings.ReplaceAll(rules, `\"`, `"`), cond) {
			t.Errorf("%s: the rules lack the %s condition %s\n%s", name, w.severity, cond, rules)
		}
	}
	if len(def.Alerting.Page) != n["page"] || len(def.Alerting.Ticket) != n["ticket"] {
		t.Errorf("%s: %d page and %d ticket conditions, want %d and %d", name, len(def.Alerting.Page), len(def.Alerting.Ticket), n["page"], n["ticket"])
		return
	}
	// Each condition holds for as long as the source's rule's for:, and
	// the generated rule says so.
	got := append(append([]slo.BurnCondition(nil), def.Alerting.Page...), def.Alerting.Ticket...)
	for i, w := range want {
		if c := got[i]; c.Long != w.long || c.Short != w.short || c.AlertAfter != w.after {
			t.Errorf("%s: condition %d is %v/%v held %v, want %v/%v held %v", name, i, c.Long, c.Short, c.AlertAfter, w.long, w.short, w.after)
		}
		if w.after > 0 && !strings.Contains(rules, fmt.Sprintf("for: %q", slo.FormatDuration(w.after))) {
			t.Errorf("%s: the rules lack for: %v\n%s", name, w.after, rules)
		}
	}
	if !hasFor(want) && strings.Contains(rules, "for:") {
		t.Errorf("%s: the source's rules have no for:, tandem's do\n%s", name, rules)
	}
}

func hasFor(ws []wantRule) bool {
	for _, w := range ws {
		if w.after > 0 {
			return true
		}
	}
	return false
}

// slothGoogleShares are Sloth's google-30d.yaml and google-28d.yaml: the
// budget share each condition stands for over its windows.
var slothGoogleShares = []slothShare{
	{"page", 0.02, time.Hour, 5 * time.Minute},
	{"page", 0.05, 6 * time.Hour, 30 * time.Minute},
	{"ticket", 0.10, 24 * time.Hour, 2 * time.Hour},
	{"ticket", 0.10, 72 * time.Hour, 6 * time.Hour},
}

type slothShare struct {
	sev         string
	share       float64
	long, short time.Duration
}

// slothWant is what Sloth alerts on over period with the google windows.
func slothWant(period time.Duration, page, ticket bool) []wantRule {
	return slothWantShares(slothGoogleShares, period, page, ticket)
}

// slothWantShares computes Sloth's factors: share × period / long window.
func slothWantShares(table []slothShare, period time.Duration, page, ticket bool) []wantRule {
	var out []wantRule
	for _, r := range table {
		if (r.sev == "page" && !page) || (r.sev == "ticket" && !ticket) {
			continue
		}
		f := math.Round(r.share*period.Hours()/r.long.Hours()*1e9) / 1e9
		out = append(out, wantRule{r.sev, f, r.long, r.short, 0})
	}
	return out
}

func TestSlothRulesEquivalence(t *testing.T) {
	b, err := os.ReadFile("testdata/sloth/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w30, err := SlothWindowsFor(30*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Sloth("slos.yaml", b, w30, NewNamer(nil), SLOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	// 30 days: 14.4 (1h/5m) and 6 (6h/30m) page, 3 (1d/2h) and 1 (3d/6h) ticket.
	want := slothWant(30*24*time.Hour, true, true)
	if want[0].factor != 14.4 || want[1].factor != 6 || want[2].factor != 3 || want[3].factor != 1 {
		t.Fatalf("Sloth's 30-day factors by hand: %v", want)
	}
	checkRules(t, cfg.SLO.Definitions, "myservice-requests-availability", 0.999, 30*24*time.Hour, want)
	checkRules(t, cfg.SLO.Definitions, "myservice-requests-latency", 0.99, 30*24*time.Hour, slothWant(30*24*time.Hour, true, false))
	d := cfg.SLO.Definitions[0]
	if d.Indicator.Bad != `http_request_duration_seconds_count{code=~"(5..|429)",job="myservice"}` || d.Indicator.Total != `http_request_duration_seconds_count{job="myservice"}` {
		t.Errorf("indicator %+v", d.Indicator)
	}
	if s, ok := cfg.Catalog.Service("myservice"); !ok || s.Team != "myteam" {
		t.Errorf("service %+v (owner label myteam)", s)
	}
	warned := map[string]bool{}
	for _, w := range r.Warnings {
		warned[w.Path] = true
	}
	for _, p := range []string{"slos.yaml: slos[1].sli.events", "slos.yaml: slos[2].sli.raw", "slos.yaml: slo_plugins", "slos.yaml: slos[3].sli.plugin",
		"slos.yaml: slos[4].plugins", "slos.yaml: slos[0].alerting.name", "slos.yaml: slos[0].alerting.labels", "slos.yaml: slos[0].alerting.annotations",
		"slos.yaml: slos[0].alerting.page_alert.labels", "slos.yaml: slos[0].alerting.ticket_alert.labels", "slos.yaml: slos[4].alerting"} {
		if !warned[p] {
			t.Errorf("no warning at %s: %v", p, r.Warnings)
		}
	}
	// Both alerts disabled: tandem still alerts, with its defaults.
	if d, ok := def(cfg.SLO.Definitions, "myservice-with-plugins"); !ok || len(d.Alerting.Page) == 0 {
		t.Errorf("myservice-with-plugins: %+v", d)
	}

	// A period other than Sloth's built-in 28 and 30 days needs the
	// AlertWindows Sloth runs with; without them the import refuses, as
	// Sloth does.
	if _, err := SlothWindowsFor(7*24*time.Hour, nil); err == nil || !strings.Contains(err.Error(), "--slo-period-windows") {
		t.Errorf("7d without windows: %v", err)
	}
	custom, err := SlothWindowsPath("testdata/sloth/windows")
	if err != nil {
		t.Fatal(err)
	}
	w7, err := SlothWindowsFor(7*24*time.Hour, custom)
	if err != nil {
		t.Fatal(err)
	}
	r, err = Sloth("slos.yaml", b, w7, NewNamer(nil), SLOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 7d.yaml's shares (8 %, 12.5 %, 20 %, 42 %): 13.44, 3.5, 1.4, 0.98.
	want7 := slothWantShares([]slothShare{{"page", 0.08, time.Hour, 5 * time.Minute}, {"page", 0.125, 6 * time.Hour, 30 * time.Minute},
		{"ticket", 0.20, 24 * time.Hour, 2 * time.Hour}, {"ticket", 0.42, 72 * time.Hour, 6 * time.Hour}}, 7*24*time.Hour, true, true)
	if want7[0].factor != 13.44 || want7[1].factor != 3.5 || want7[2].factor != 1.4 || want7[3].factor != 0.98 {
		t.Fatalf("7d factors by hand: %v", want7)
	}
	checkRules(t, load(t, r).SLO.Definitions, "myservice-requests-availability", 0.999, 7*24*time.Hour, want7)

	// The Kubernetes form, with a 28-day period: 13.44, 5.6, 2.8, 0.933….
	b, _ = os.ReadFile("testdata/sloth/k8s.yaml")
	w28, _ := SlothWindowsFor(28*24*time.Hour, nil)
	r, err = Sloth("k8s.yaml", b, w28, NewNamer(nil), SLOOptions{PrometheusURL: "http://prom:9090"})
	if err != nil {
		t.Fatal(err)
	}
	cfg = load(t, r)
	checkRules(t, cfg.SLO.Definitions, "home-wifi-dns-errors", 0.999, 28*24*time.Hour, slothWant(28*24*time.Hour, true, true))
	if len(cfg.SLO.Definitions) != 1 {
		t.Errorf("the subquery SLI should be skipped with a warning: %d SLOs, %v", len(cfg.SLO.Definitions), r.Warnings)
	}
}

func TestPyrraRulesEquivalence(t *testing.T) {
	b, err := os.ReadFile("testdata/pyrra/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Pyrra("slos.yaml", b, NewNamer(nil), SLOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	// Pyrra's windows and for: (slo/rules.go, Windows): a 28-day SLO's
	// 1h/5m for 2m (14), 6h/30m for 15m (7), 1d/2h for 1h (2), 4d/6h for 3h
	// (1), scaled by window/28d and rounded to the minute.
	pyrraWant := func(w time.Duration) []wantRule {
		s := func(d time.Duration) time.Duration {
			return (time.Duration(float64(d) * float64(w) / float64(28*24*time.Hour))).Round(time.Minute)
		}
		return []wantRule{
			{"page", 14, s(time.Hour), s(5 * time.Minute), s(2 * time.Minute)},
			{"page", 7, s(6 * time.Hour), s(30 * time.Minute), s(15 * time.Minute)},
			{"ticket", 2, s(24 * time.Hour), s(2 * time.Hour), s(time.Hour)},
			{"ticket", 1, s(96 * time.Hour), s(6 * time.Hour), s(3 * time.Hour)},
		}
	}
	checkRules(t, cfg.SLO.Definitions, "prometheus-http-errors", 0.99, 28*24*time.Hour, pyrraWant(28*24*time.Hour))
	// Two weeks: 30m/3m for 1m, 3h/15m for 8m, 12h/1h for 30m, 2d/3h for
	// 1h30m. 3m and 3h are not a twelfth of their long windows: the short
	// windows reach tandem as written.
	w := pyrraWant(14 * 24 * time.Hour)
	if w[0].long != 30*time.Minute || w[0].short != 3*time.Minute || w[0].after != time.Minute || w[1].after != 8*time.Minute ||
		w[3].long != 48*time.Hour || w[3].short != 3*time.Hour || w[3].after != 90*time.Minute {
		t.Fatalf("two-week windows by hand: %v", w)
	}
	checkRules(t, cfg.SLO.Definitions, "apiserver-read-latency", 0.995, 14*24*time.Hour, w)
	// Burn-rate alerts off (burnrates: false, or the deprecated disabled):
	// the same objective and window, with tandem's default alerts.
	for _, c := range []struct {
		name      string
		objective float64
		window    time.Duration
	}{{"thanos-query-errors", 0.9995, 7 * 24 * time.Hour}, {"grpc-errors", 0.999, 28 * 24 * time.Hour}} {
		d, ok := def(cfg.SLO.Definitions, c.name)
		if !ok || math.Abs(d.Objective-c.objective) > 1e-12 || d.Window.Rolling != c.window || len(d.Alerting.Page) == 0 {
			t.Errorf("%s: %+v", c.name, d)
		}
	}
	if len(cfg.SLO.Definitions) != 4 {
		t.Errorf("bool_gauge and latencyNative should be skipped: %d SLOs", len(cfg.SLO.Definitions))
	}
	if s, ok := cfg.Catalog.Service("thanos-query"); !ok || s.Team != "observability" {
		t.Errorf("thanos-query service %+v (labels service and owner)", s)
	}
	warned := strings.Builder{}
	for _, w := range r.Warnings {
		warned.WriteString(w.String() + "\n")
	}
	for _, p := range []string{"documents[2].spec.indicator.bool_gauge", "documents[3].spec.indicator.latencyNative",
		"documents[1].spec.indicator.grouping", "documents[4].spec.indicator.grouping", "documents[0].spec.alerting.absent",
		"documents[4].spec.partial_response_strategy", "documents[4].spec.performanceOverAccuracy", "documents[4].spec.ruleOutput",
		"documents[4].spec.alerting.name", "documents[4].spec.alerting.absentName", "documents[4].spec.alerting.severities",
		"documents[4].spec.alerting.absent", "documents[4].spec.alerting: burn-rate alerts are disabled", "documents[5].spec.alerting: burn-rate alerts are disabled"} {
		if !strings.Contains(warned.String(), p) {
			t.Errorf("no warning at %s:\n%s", p, warned.String())
		}
	}
	if strings.Contains(warned.String(), "documents[1].spec.alerting.absent") {
		t.Errorf("absent: false is warned about:\n%s", warned.String())
	}
}

// TestImportedSLOLabelsLoad: the labels Pyrra and Sloth give an SLO reach
// its metadata.labels, but never one tandem's loader refuses (tandem's own
// slo, service, window, severity and alertname, Prometheus's __ names, two
// keys of one Prometheus label): each of those is left out with a warning
// at its path, and the output loads.
func TestImportedSLOLabelsLoad(t *testing.T) {
	pyrra := `apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: checkout-errors
  namespace: shop
  labels:
    service: checkout
    severity: critical
    window: 4w
    slo: checkout
    alertname: CheckoutDown
    __meta_source: k8s
    app.kubernetes.io/name: checkout
    app_kubernetes_io/name: other
    team: payments
spec:
  target: "99.9"
  window: 28d
  indicator:
    ratio:
      errors:
        metric: http_requests_total{job="checkout",code=~"5.."}
      total:
        metric: http_requests_total{job="checkout"}
  alerting:
    absent: false
`
	r, err := Pyrra("pyrra.yaml", []byte(pyrra), NewNamer(nil), SLOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := def(load(t, r).SLO.Definitions, "checkout-errors")
	if !ok {
		t.Fatal("checkout-errors not imported")
	}
	if d.Service != "checkout" {
		t.Errorf("service %q: the service label still names the service", d.Service)
	}
	if want := "map[app_kubernetes_io_name:checkout team:payments]"; fmt.Sprint(d.Labels) != want {
		t.Errorf("labels %v, want %s", d.Labels, want)
	}
	checkWarned(t, r, "pyrra.yaml: metadata.labels.", []string{"service", "severity", "window", "slo", "alertname", "__meta_source", "app_kubernetes_io/name"})

	sloth := `version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  service: "myservice"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    labels:
      severity: page
      tier: "1"
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="myservice",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="myservice"}[{{.window}}]))
    alerting:
      page_alert:
        disable: true
      ticket_alert:
        disable: true
`
	w30, err := SlothWindowsFor(30*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err = Sloth("sloth.yaml", []byte(sloth), w30, NewNamer(nil), SLOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, ok = def(load(t, r).SLO.Definitions, "myservice-requests-availability")
	if !ok {
		t.Fatalf("myservice-requests-availability not imported: %v", r.Warnings)
	}
	// The SLO's own tier replaces the service's.
	if want := "map[owner:myteam tier:1]"; fmt.Sprint(d.Labels) != want {
		t.Errorf("labels %v, want %s", d.Labels, want)
	}
	checkWarned(t, r, "sloth.yaml: ", []string{"labels.service", "slos[0].labels.severity"})
}

// checkWarned checks that r warns that each label at prefix+path is not
// imported.
func checkWarned(t *testing.T, r *Result, prefix string, paths []string) {
	t.Helper()
	for _, p := range paths {
		found := false
		for _, w := range r.Warnings {
			found = found || w.Path == prefix+p && strings.HasPrefix(w.Message, "not imported: ")
		}
		if !found {
			t.Errorf("no warning at %s%s: %v", prefix, p, r.Warnings)
		}
	}
}
