package sli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/alerting"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/testenv"
)

// counterValues is a promtool input series for a counter sampled every
// minute from 0 that grows by perMinute(m) in minute m (the minute ending
// at sample m+1), for the given number of minutes.
func counterValues(minutes int, perMinute func(m int) int) string {
	var b strings.Builder
	v := 0
	b.WriteString("0")
	for m := range minutes {
		v += perMinute(m)
		b.WriteString(" " + strconv.Itoa(v))
	}
	return b.String()
}

// sliceDef is a Prometheus SLO over http_requests_total, in time slices of
// slice that are good at 95 % good requests, over a one-day window.
func sliceDef(slice time.Duration, objective float64) *slo.Definition {
	return &slo.Definition{
		Name: "slices-ref", Service: "checkout", Objective: objective, Method: slo.Timeslices,
		TimeSliceWindow: slice, TimeSliceTarget: 0.95,
		Window:   slo.Window{Rolling: 24 * time.Hour},
		Alerting: slo.DefaultPolicy(24 * time.Hour),
		Indicator: slo.Indicator{Source: slo.SourcePrometheus, PrometheusURL: "http://prometheus:9090",
			Good: `http_requests_total{code!~"5.."}`, Total: `http_requests_total`},
	}
}

// promtoolCase is one promql_expr_test: expr at eval_time at is value (no
// sample for "").
type promtoolCase struct {
	expr  string
	at    time.Duration
	value string
}

// runPromtool writes rules (when not empty) and a test of the input series
// and cases, and runs promtool test rules on it.
func runPromtool(t *testing.T, rules []byte, series map[string]string, cases []promtoolCase) {
	t.Helper()
	bin := testenv.Binary(t, "TANDEM_TEST_PROMTOOL", "promtool")
	dir := t.TempDir()
	var test strings.Builder
	if len(rules) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
			t.Fatal(err)
		}
		test.WriteString("rule_files: [rules.yaml]\n")
	}
	// The rules are evaluated every hour: the cases read their values at
	// hour boundaries, the slice boundaries where a window's start matters.
	test.WriteString("evaluation_interval: 1h\ntests:\n  - interval: 1m\n    input_series:\n")
	for name, values := range series {
		fmt.Fprintf(&test, "      - series: %q\n        values: %q\n", name, values)
	}
	test.WriteString("    promql_expr_test:\n")
	for _, c := range cases {
		samples := "[]"
		if c.value != "" {
			samples = "\n          - labels: '{}'\n            value: " + c.value
		}
		fmt.Fprintf(&test, "      - expr: %q\n        eval_time: %s\n        exp_samples: %s\n", c.expr, slo.FormatDuration(c.at), samples)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(test.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// errRatio is 1 - good/total in float64 arithmetic, as the rules compute
// it (a Go constant expression would be exact, and differ in the last
// digit).
func errRatio(good, total float64) float64 { return 1 - good/total }

// TestTimeslicesRulesHandComputed is the timeslices reference day of
// internal/slo (TestTimeslicesHandComputed) in the generated rules,
// evaluated by promtool: 100 requests a minute for 24 hours from 0, in
// 60-minute slices good at 95 % (timeSliceTarget 0.95); hours 3, 15 and 23
// lose 10 a minute (bad), hour 10 exactly 5 a minute (good: the target is
// inclusive). Objective 0.85.
//
// At 24h, slice (h, h+1h] is the subquery's point at h+1h:
//
//	window  slices        bad  error ratio  burn (÷ 0.15)
//	1h      (23h, 24h]    1    1            6.666667
//	2h      22h–24h       1    1/2          3.333333
//	6h      18h–24h       1    1/6          1.111111
//	1d      0–24h         3    3/24=0.125   0.833333
//	3d      0–24h         3    0.125        0.833333
//	5m, 30m (23h, 24h]    1    1            6.666667
//
// The 5m and 30m windows read the slice that ends inside them, the last
// complete hour, as tandem's native evaluator does (see the native
// reference). The good and total slices of the day are 21 and 24.
func TestTimeslicesRulesHandComputed(t *testing.T) {
	def := sliceDef(time.Hour, 0.85)
	rules, err := alerting.Rules([]*slo.Definition{def})
	if err != nil {
		t.Fatal(err)
	}
	bad := map[int]int{3: 10, 10: 5, 15: 10, 23: 10}
	series := map[string]string{
		`http_requests_total{code="200"}`: counterValues(24*60, func(m int) int { return 100 - bad[m/60] }),
		`http_requests_total{code="500"}`: counterValues(24*60, func(m int) int { return bad[m/60] }),
	}
	sel := `{slo="slices-ref"}`
	day := 24 * time.Hour
	cases := []promtoolCase{
		{sli.GoodExpr(def, "1d"), day, "21"},
		{sli.TotalExpr(def, "1d"), day, "24"},
		{"slo:sli_error:ratio_rate1h" + sel, day, "1"},
		{"slo:sli_error:ratio_rate2h" + sel, day, num(errRatio(1, 2))},
		{"slo:sli_error:ratio_rate6h" + sel, day, num(errRatio(5, 6))},
		{"slo:sli_error:ratio_rate1d" + sel, day, num(errRatio(21, 24))},
		{"slo:sli_error:ratio_rate3d" + sel, day, num(errRatio(21, 24))},
		{"slo:sli_error:ratio_rate5m" + sel, day, "1"},
		{"slo:sli_error:ratio_rate30m" + sel, day, "1"},
		// The burn rates: the error ratios over the allowed 0.15.
		{"slo:sli_error:ratio_rate1d" + sel + " / 0.15", day, num(errRatio(21, 24) / 0.15)},
		{"slo:sli_error:ratio_rate6h" + sel + " / 0.15", day, num(errRatio(5, 6) / 0.15)},
		// Hour 10 alone (5 % lost) is good, hour 3 alone bad.
		{"slo:sli_error:ratio_rate1h" + sel, 11 * time.Hour, "0"},
		{"slo:sli_error:ratio_rate1h" + sel, 4 * time.Hour, "1"},
		// Before the first slice ends there is no slice: no ratio (not 0).
		{"slo:sli_error:ratio_rate1d" + sel, 0, ""},
	}
	// The series are relabelled with the rule's labels only; drop them.
	for i := range cases {
		if strings.HasPrefix(cases[i].expr, "slo:") {
			cases[i].expr = "sum(" + cases[i].expr + ")"
		}
	}
	runPromtool(t, rules, series, cases)
}

// TestSliceWindowStart: at a query time on a slice boundary a window holds
// exactly its own slices, not also the one that ends at its start (which
// Prometheus 2.x, whose ranges include their start, read as well). An hour
// of good requests, then an hour of failed ones: at 2h the 1h window holds
// one slice, bad (error ratio 1, not 1/2), and the 2h window two; with
// 5-minute slices the 5m window at 2h holds the bad slice alone.
func TestSliceWindowStart(t *testing.T) {
	series := map[string]string{
		`http_requests_total{code="200"}`: counterValues(120, func(m int) int { return 100 * (1 - m/60) }),
		`http_requests_total{code="500"}`: counterValues(120, func(m int) int { return 100 * (m / 60) }),
	}
	var cases []promtoolCase
	for _, slice := range []time.Duration{time.Hour, 5 * time.Minute} {
		def := sliceDef(slice, 0.9)
		w := sli.Range(slice)
		cases = append(cases,
			promtoolCase{sli.TotalExpr(def, w), 2 * time.Hour, "1"},
			promtoolCase{sli.GoodExpr(def, w), 2 * time.Hour, "0"},
			promtoolCase{alerting.ErrorRatioExpr(def, w), 2 * time.Hour, "1"},
			promtoolCase{sli.TotalExpr(def, "2h"), 2 * time.Hour, num(float64(2 * time.Hour / slice))},
			promtoolCase{sli.GoodExpr(def, "2h"), 2 * time.Hour, num(float64(time.Hour / slice))},
		)
	}
	runPromtool(t, nil, series, cases)
}
