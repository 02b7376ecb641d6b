package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
)

func exampleFiles(t testing.TB) map[string][]byte {
	t.Helper()
	dir := filepath.Join("..", "..", "examples", "tandem.d")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
	}
	return out
}

func TestOpenSLOExamples(t *testing.T) {
	cfg, err := Parse(exampleFiles(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.SLO
	for _, name := range []string{"checkout-availability", "checkout-latency", "payments-p95-latency", "search-query-failures", "identity-login-latency", "postgres-migrations"} {
		if _, ok := c.Get(name); !ok {
			t.Errorf("SLO %s missing; have %v", name, c.Names())
		}
	}
	av, _ := c.Get("checkout-availability")
	if av.Objective != 0.999 || av.Window.Rolling != 28*24*time.Hour || av.Indicator.Source != slo.SourcePrometheus ||
		av.Indicator.Good != `http_requests_total{job="checkout",code!~"5.."}` || av.Indicator.PrometheusURL != "http://127.0.0.1:9090" ||
		av.FreezeBelow != 0.1 || av.Alerting.MinEvents != 20 || av.Alerting.Page[0].Threshold != 13.44 ||
		av.Indicator.LatencyHistogram != `http_request_duration_seconds_bucket{job="checkout"}` || av.Indicator.LatencyUnitMs != 1000 {
		t.Errorf("checkout-availability: %+v", av)
	}
	p95, _ := c.Get("payments-p95-latency")
	if p95.Method != slo.Timeslices || p95.TimeSliceWindow != time.Minute || p95.Indicator.Op != "lte" || p95.Indicator.Threshold != 0.3 || p95.Window.Unit != "Month" {
		t.Errorf("payments-p95-latency: %+v", p95)
	}
	q, _ := c.Get("search-query-failures")
	if q.Objective != 0.995 || q.Window.Rolling != 7*24*time.Hour || q.Indicator.MaxStatus != 499 || q.FreezeBelow != 0.05 {
		t.Errorf("search-query-failures: %+v", q)
	}
	id, _ := c.Get("identity-login-latency")
	// alertAfter is a hold, and the short window a twelfth of lookbackWindow.
	if len(id.Alerting.Page) != 1 || id.Alerting.Page[0] != (slo.BurnCondition{Long: time.Hour, Short: 5 * time.Minute, Threshold: 13.44, Op: "gt", AlertAfter: 2 * time.Minute}) ||
		len(id.Alerting.Ticket) != 1 || id.Alerting.Ticket[0].Short != 2*time.Hour || id.Alerting.Ticket[0].AlertAfter != time.Hour || id.Indicator.LatencyMaxMs != 250 {
		t.Errorf("identity-login-latency alerting: %+v", id.Alerting)
	}
	m, _ := c.Get("postgres-migrations")
	if m.Indicator.Source != slo.SourceChanges || m.Indicator.ChangeKind != "migration" || m.Window.Unit != "Quarter" || m.Objective != 0.9995 {
		t.Errorf("postgres-migrations: %+v", m)
	}
}

const catalogYAML = `
teams: [{name: t}]
services: [{name: checkout, team: t}]
`

const goodSLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: a
spec:
  service: checkout
  indicator:
    metadata: {name: a}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: tandem, spec: {source: ingest}}}
        total: {metricSource: {type: tandem, spec: {source: ingest}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`

func TestOpenSLOErrors(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      string // substring of the error text, with file:line
	}{
		{"ok", goodSLO, ""},
		{"unknown field", strings.Replace(goodSLO, "  budgetingMethod", "  budgetMethod: x\n  budgetingMethod", 1), "slo.yaml:15:3: spec.budgetMethod: unknown field"},
		{"old api", strings.Replace(goodSLO, "openslo/v1", "openslo/v1alpha", 1), `slo.yaml:1:13: apiVersion: unsupported apiVersion "openslo/v1alpha"`},
		{"unknown kind", strings.Replace(goodSLO, "kind: SLO", "kind: Banana", 1), `slo.yaml:2:7: kind: unsupported OpenSLO kind "Banana"`},
		{"unknown service", strings.Replace(goodSLO, "service: checkout", "service: checkuot", 1), `slo.yaml:6:12: spec.service: service "checkuot" is not in the catalog; did you mean "checkout"?`},
		{"ratio timeslices", strings.Replace(goodSLO, "budgetingMethod: Occurrences", "budgetingMethod: RatioTimeslices", 1), "budgetingMethod RatioTimeslices is not supported"},
		{"raw", strings.Replace(goodSLO, "counter: true", "counter: true\n        rawType: success", 1), "raw ratio metrics (raw, rawType) are not supported"},
		{"counter false", strings.Replace(goodSLO, "counter: true", "counter: false", 1), "counter: false is not supported"},
		{"two objectives", strings.Replace(goodSLO, "[{target: 0.999}]", "[{target: 0.999}, {target: 0.99}]", 1), "several objectives in one SLO are not supported"},
		{"composite", strings.Replace(goodSLO, "[{target: 0.999}]", "[{target: 0.999, compositeWeight: 1}]", 1), "composite SLOs"},
		{"target 1", strings.Replace(goodSLO, "target: 0.999", "target: 1", 1), "must be above 0 and below 1"},
		{"bad window", strings.Replace(goodSLO, "duration: 28d", "duration: 28x", 1), `expected a duration shorthand such as 5m, 1h, 28d, got "28x"`},
		{"rolling month", strings.Replace(goodSLO, "duration: 28d", "duration: 1M", 1), `unit "M" is not allowed here`},
		{"calendar needs calendar", strings.Replace(goodSLO, "isRolling: true", "isRolling: false", 1), "required for a calendar window"},
		{"bad source", strings.Replace(goodSLO, "type: tandem, spec: {source: ingest}}}\n        total", "type: Datadog, spec: {source: ingest}}}\n        total", 1), `unsupported metric source type "Datadog"`},
		{"native spec typo", strings.Replace(goodSLO, "{source: ingest}}}\n        total", "{source: ingest, maxStatu: 4}}}\n        total", 1), "spec.ratioMetric.good.metricSource.spec.maxStatu: unknown field"},
		{"timeslices need window", strings.Replace(goodSLO, "budgetingMethod: Occurrences", "budgetingMethod: Timeslices", 1), "required with budgetingMethod Timeslices"},
		{"notification targets", goodSLO + `  alertPolicies: [{alertPolicyRef: p}]
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: p}
spec:
  notificationTargets: [{targetRef: slack}]
  conditions: [{conditionRef: c}]
---
apiVersion: openslo/v1
kind: AlertCondition
metadata: {name: c}
spec:
  severity: page
  condition: {kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 5m}
`, "notificationTargets are not supported"},
		{"dangling policy", goodSLO + "  alertPolicies: [{alertPolicyRef: nope}]\n", `AlertPolicy "nope" is not defined`},
		{"prometheus without url", `apiVersion: openslo/v1
kind: SLI
metadata: {name: s}
spec:
  ratioMetric:
    counter: true
    good: {metricSource: {type: Prometheus, spec: {query: 'up'}}}
    total: {metricSource: {type: Prometheus, spec: {query: 'up'}}}
---
` + strings.Replace(strings.Replace(goodSLO, "  indicator:\n    metadata: {name: a}\n    spec:\n      ratioMetric:\n        counter: true\n        good: {metricSource: {type: tandem, spec: {source: ingest}}}\n        total: {metricSource: {type: tandem, spec: {source: ingest}}}\n", "  indicatorRef: s\n", 1), "", "", 1), "no Prometheus URL"},
		{"expression needs selector", `slo_settings: {prometheus_url: "http://p:9090"}
---
` + strings.Replace(strings.Replace(goodSLO, "{type: tandem, spec: {source: ingest}}}\n        total", "{type: Prometheus, spec: {query: 'sum(rate(x[5m]))'}}}\n        total", 1), "total: {metricSource: {type: tandem, spec: {source: ingest}}}", "total: {metricSource: {type: Prometheus, spec: {query: 'x'}}}", 1), "slo.yaml:14:73: spec.ratioMetric.good.metricSource.spec.query: the range of x[5m] is fixed; write [{{.window}}]"},
		{"latency histogram on tandem ingest", strings.Replace(goodSLO, "  name: a\n", "  name: a\n  annotations: {tandem.dev/latency-histogram: x_bucket}\n", 1), "a latency histogram is read from Prometheus"},
		{"latency histogram not a bucket", strings.Replace(promSLO, "  name: p\n", "  name: p\n  annotations: {tandem.dev/latency-histogram: 'histogram_quantile(0.9, x)'}\n", 1), "expected the selector of a histogram's _bucket series"},
		{"latency unit", strings.Replace(promSLO, "  name: p\n", "  name: p\n  annotations: {tandem.dev/latency-histogram: x_bucket, tandem.dev/latency-unit: min}\n", 1), `expected s or ms, got "min"`},
		{"latency unit alone", strings.Replace(promSLO, "  name: p\n", "  name: p\n  annotations: {tandem.dev/latency-unit: ms}\n", 1), "only with tandem.dev/latency-histogram"},
		{"latency histogram in ms", strings.Replace(promSLO, "  name: p\n", "  name: p\n  annotations: {tandem.dev/latency-histogram: 'x_bucket{job=\"a\"}', tandem.dev/latency-unit: ms}\n", 1), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(c.doc)}, time.Now())
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, c.want)
			}
		})
	}
}

// promSLO is a valid Prometheus-backed SLO.
const promSLO = `slo_settings: {prometheus_url: "http://p:9090"}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: p
spec:
  service: checkout
  indicator:
    metadata: {name: p}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code!~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total'}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`

func FuzzOpenSLO(f *testing.F) {
	for _, b := range exampleFiles(f) {
		f.Add(b)
	}
	f.Add([]byte(goodSLO))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": b}, time.Now())
		if err == nil {
			for _, d := range cfg.SLO.Definitions {
				if d.Objective <= 0 || d.Objective >= 1 || d.Window.Nominal() <= 0 {
					t.Fatalf("accepted invalid SLO %+v", d)
				}
			}
		}
	})
}

// A bare number of timeSliceWindow is minutes, as the OpenSLO
// specification says: 5 is five minutes and 60 an hour, not seconds.
func TestTimeSliceWindowMinutes(t *testing.T) {
	doc := strings.Replace(strings.Replace(goodSLO, "budgetingMethod: Occurrences", "budgetingMethod: Timeslices", 1), "[{target: 0.999}]", "[{target: 0.999, timeSliceTarget: 0.9, timeSliceWindow: 5}]", 1)
	for in, want := range map[string]time.Duration{"5": 5 * time.Minute, "60": time.Hour, "1": time.Minute, "15m": 15 * time.Minute, "1h": time.Hour} {
		doc := strings.Replace(doc, "timeSliceWindow: 5", "timeSliceWindow: "+in, 1)
		cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(doc)}, time.Now())
		if err != nil {
			t.Fatalf("timeSliceWindow %s: %v", in, err)
		}
		if d, _ := cfg.SLO.Get("a"); d.TimeSliceWindow != want {
			t.Errorf("timeSliceWindow %s = %v, want %v", in, d.TimeSliceWindow, want)
		}
	}
	for bad, msg := range map[string]string{
		"-1":  "positive number of minutes",
		"0":   "positive number of minutes",
		"7":   "must divide an hour",
		"300": "must divide an hour", // 5 hours
		"1.5": "whole minutes",
		"90s": `expected a duration shorthand`,
	} {
		doc := strings.Replace(doc, "timeSliceWindow: 5", "timeSliceWindow: "+bad, 1)
		if _, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(doc)}, time.Now()); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("timeSliceWindow %s: %v, want %q", bad, err, msg)
		}
	}
}

func TestShortForm(t *testing.T) {
	doc := `slo_settings: {prometheus_url: "http://prom:9090", min_events: 5}
slos:
  - name: api
    service: checkout
    objective: 0.999
    window: 28d
    prometheus: {good: 'http_requests_total{code!~"5.."}', total: http_requests_total}
  - name: queries
    service: checkout
    objective: 0.995
    window: 7d
    freeze_below: 0.2
    ingest: {max_status: 499}
  - name: migrations
    service: checkout
    objective: 0.9995
    window: 90d
    migrations: {environment: production}
`
	cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(doc)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	api, _ := cfg.SLO.Get("api")
	if api.Indicator.PrometheusURL != "http://prom:9090" || api.Alerting.MinEvents != 5 || api.Alerting.Page[0].Threshold != 13.44 || api.Window.Rolling != 28*24*time.Hour {
		t.Errorf("api: %+v", api)
	}
	q, _ := cfg.SLO.Get("queries")
	if q.Indicator.Source != slo.SourceNative || q.Indicator.MaxStatus != 499 || q.FreezeBelow != 0.2 {
		t.Errorf("queries: %+v", q)
	}
	m, _ := cfg.SLO.Get("migrations")
	if m.Indicator.Source != slo.SourceChanges || m.Indicator.Environment != "production" {
		t.Errorf("migrations: %+v", m)
	}
	for _, c := range []struct{ from, to, want string }{
		{"objective: 0.999\n", "objective: 99.9\n", "slos.api.objective"},
		{"window: 28d", "window: 5m", "slos.api.window"},
		{"service: checkout\n    objective: 0.995", "service: chekout\n    objective: 0.995", `did you mean "checkout"`},
		{"ingest: {max_status: 499}", "ingest: {max_status: 499}\n    migrations: {}", "set exactly one source"},
		{"name: queries", "name: api", `duplicate SLO name "api"`},
		{"total: http_requests_total}", "total: 'sum(rate(x[5m]))'}", "slos.api.prometheus.total"},
		{"window: 7d", "windw: 7d", "slos[1].windw: unknown field"},
	} {
		bad := strings.Replace(doc, c.from, c.to, 1)
		_, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(bad)}, time.Now())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
