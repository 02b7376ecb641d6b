package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
)

// Every testdata/slo/*.good.yaml loads; every *.bad.yaml fails with exactly
// the errors in this table, in this order, each at the offending value
// (a PromQL error at the query's own line and column).
func TestSLOFiles(t *testing.T) {
	want := map[string][]string{
		"timeslices.bad.yaml": {
			// 300 is minutes, as the specification says: five hours.
			`timeslices.bad.yaml:19:70: spec.objectives.timeSliceWindow: a time slice must divide an hour (1m, 2m, 5m, 10m, 15m, 30m, 1h)`,
			`timeslices.bad.yaml:33:16: spec.objectives.timeSliceTarget: required with budgetingMethod Timeslices: the share of a slice's points that must meet the threshold`,
			`timeslices.bad.yaml:33:69: spec.objectives.timeSliceWindow: a time slice is whole minutes (a number is minutes: 5), got 1.5`,
		},
		"alert-conditions.bad.yaml": {
			`alert-conditions.bad.yaml:9:35: spec.condition.op: unknown op "eq"; expected lt, lte, gt or gte`,
			`alert-conditions.bad.yaml:16:14: spec.condition.op: required: the comparison of the burn rate with the threshold, lt, lte, gt or gte`,
			`alert-conditions.bad.yaml:23:85: spec.condition.alertAfter: expected a duration shorthand such as 5m, 1h, 28d, got "30s"`,
			`alert-conditions.bad.yaml:29:42: metadata.annotations.tandem.dev/short-window: expected a duration shorthand such as 5m, 1h, 28d, got "30s"`,
			`alert-conditions.bad.yaml:38:42: metadata.annotations.tandem.dev/short-window: the short window 2h is not shorter than lookbackWindow 1h`,
			`alert-conditions.bad.yaml:47:40: metadata.annotations.tandem.dev/min-events: unknown tandem annotation of an AlertCondition; expected tandem.dev/short-window`,
		},
		"otlp.bad.yaml": {
			`otlp.bad.yaml:14:51: spec.ratioMetric.good.metricSource.spec.metric: required: the name of the OTLP metric`,
			`otlp.bad.yaml:14:80: spec.ratioMetric.good.metricSource.spec.latencyMaxMs: expected milliseconds above 0, got 0`,
			`otlp.bad.yaml:14:94: spec.ratioMetric.good.metricSource.spec.maxStatus: expected an HTTP status from 100 to 600, got 700`,
			`otlp.bad.yaml:15:94: spec.ratioMetric.total.metricSource.spec.attributes.a: expected a value or a non-empty list of values`,
			`otlp.bad.yaml:15:105: spec.ratioMetric.total.metricSource.spec.attributes.d: expected a value or a non-empty list of values`,
			`otlp.bad.yaml:30:74: spec.ratioMetric.good.metricSource.spec.metric: good reads metric "a" and total "b": both read one metric`,
			`otlp.bad.yaml:47:77: spec.ratioMetric.total.metricSource.spec.metric: metric belongs to source otlp`,
			`otlp.bad.yaml:63:31: spec.ratioMetric.total.metricSource.spec: total counts every event of the points it selects; maxStatus and latencyMaxMs belong to good`,
			`otlp.bad.yaml:78:104: spec.ratioMetric.good.metricSource.spec.attributes.service.name: good's value "cart" of service.name is not one total selects ([checkout search])`,
		},
		"labels.bad.yaml": {
			`labels.bad.yaml:9:14: metadata.labels.service: label "service" is tandem's own on the rules, alerts and /metrics of an SLO`,
			`labels.bad.yaml:11:16: metadata.labels.team.name: labels "team-name" and "team.name" are both the Prometheus label "team_name"`,
			`labels.bad.yaml:12:13: metadata.labels.__meta: label names starting with __ are reserved by Prometheus`,
			`labels.bad.yaml:13:12: metadata.labels.owner: expected a string or a list of strings`,
		},
		"promql.bad.yaml": {
			`promql.bad.yaml:3:69: slo_settings.evaluator: expected tandem (tandem raises the burn-rate alerts) or prometheus`,
			// Inside the literal block: the line and column of "by".
			`promql.bad.yaml:21:71: spec.ratioMetric.good.metricSource.spec.query: PromQL: unexpected <by> in aggregation`,
			`promql.bad.yaml:26:31: spec.ratioMetric.total.metricSource.spec.query: the range of http_requests_total[5m] is fixed; write [{{.window}}] so that tandem sets each window`,
			`promql.bad.yaml:41:67: spec.ratioMetric.bad.metricSource.spec.query: irate() over the window gives no count of events`,
			`promql.bad.yaml:56:90: spec.thresholdMetric.metricSource.spec.query: PromQL: unclosed left parenthesis`,
		},
	}
	files, err := filepath.Glob("testdata/slo/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(map[string][]byte{name: b}, now)
			if strings.HasSuffix(name, ".good.yaml") {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			es, ok := err.(Errors)
			if !ok {
				t.Fatalf("want Errors, got %v", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.String())
			}
			w := want[name]
			if len(got) != len(w) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(w), strings.Join(got, "\n"))
			}
			for i := range w {
				if !strings.HasPrefix(got[i], w[i]) {
					t.Errorf("error %d:\n got %s\nwant %s", i, got[i], w[i])
				}
			}
		})
	}
}

// The SLOs of openslo-spec.good.yaml as tandem evaluates them: each field
// read as the OpenSLO specification writes it.
func TestOpenSLOAsWritten(t *testing.T) {
	b, err := os.ReadFile("testdata/slo/openslo-spec.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(map[string][]byte{"openslo-spec.good.yaml": b}, now)
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) *slo.Definition {
		d, ok := cfg.SLO.Get(name)
		if !ok {
			t.Fatalf("no SLO %s", name)
		}
		return d
	}

	s := get("sloth-style")
	// Sloth's queries, unchanged: rate over the window becomes a count.
	if s.Indicator.Bad != `sum(increase(http_requests_total{code=~"5..",job="checkout"}[{{.window}}]))` ||
		s.Indicator.Total != `sum(increase(http_requests_total{job="checkout"}[{{.window}}]))` {
		t.Errorf("queries %q / %q", s.Indicator.Bad, s.Indicator.Total)
	}
	// metadata.labels as Prometheus labels; a list joined with ",".
	if len(s.Labels) != 3 || s.Labels["team"] != "payments" || s.Labels["cost_center"] != "42" || s.Labels["regions"] != "eu,us" {
		t.Errorf("labels %v", s.Labels)
	}
	// op exact; alertAfter a hold; the short window a twelfth of the long,
	// or the condition's tandem.dev/short-window.
	if len(s.Alerting.Page) != 1 || s.Alerting.Page[0] != (slo.BurnCondition{Long: time.Hour, Short: 5 * time.Minute, Threshold: 14.4, Op: "gte", AlertAfter: 10 * time.Minute}) {
		t.Errorf("page %+v", s.Alerting.Page)
	}
	if len(s.Alerting.Ticket) != 1 || s.Alerting.Ticket[0] != (slo.BurnCondition{Long: 6 * time.Hour, Short: 20 * time.Minute, Threshold: 0.5, Op: "lt"}) {
		t.Errorf("ticket %+v", s.Alerting.Ticket)
	}
	if s.Evaluator != slo.EvaluatorPrometheus || s.RaisesAlerts() {
		t.Errorf("evaluator %q", s.Evaluator)
	}

	e := get("expressions")
	// timeSliceWindow 60 is an hour; selectors outside a range are counters.
	if e.TimeSliceWindow != time.Hour || e.TimeSliceTarget != 0.95 ||
		e.Indicator.Good != `sum by (code) (increase(http_requests_total{code=~"2..",job="checkout"}[{{.window}}])) + sum(increase(http_requests_total{code="404",job="checkout"}[{{.window}}]))` ||
		e.Indicator.Total != `http_requests_total{job="checkout"}` {
		t.Errorf("expressions: %v %v %q %q", e.TimeSliceWindow, e.TimeSliceTarget, e.Indicator.Good, e.Indicator.Total)
	}

	p := get("p95")
	if p.TimeSliceWindow != 5*time.Minute || p.TimeSliceTarget != 0.75 || p.Indicator.Op != "lt" || p.Indicator.Threshold != 0.4 ||
		p.Indicator.Query != `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout"}[{{.window}}])))` {
		t.Errorf("p95: %+v", p)
	}
	// A threshold SLI has no event count: its guard counts slices with
	// data, all 12 of a 1-hour window of 5-minute slices.
	if got := p.MinEventsFor(time.Hour); got != 12 {
		t.Errorf("MinEventsFor(1h) = %v, want 12", got)
	}
	if got := p.MinEventsFor(6 * time.Hour); got != 20 {
		t.Errorf("MinEventsFor(6h) = %v, want 20", got)
	}
}
