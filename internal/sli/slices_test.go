package sli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/testenv"
)

// TestThresholdSlicesPromtool evaluates the slice expressions of threshold
// SLIs with Prometheus's own engine (promtool test rules), on a gauge
// written minute by minute:
//
//	minute: 0    | 1    2    3    4    5   | 6 … 25
//	value:  idle | 0.2  0.2  0.2  0.2  0.5 | idle
//
// (idle: the query gives NaN, as histogram_quantile of an idle histogram
// does). The slice (0, 5m] has 5 points, 4 of them at most 0.3: a share
// of 0.8. timeSliceTarget 0.75 makes it good, 0.9 bad (it is honoured),
// and the idle slices after it are neither good nor bad (an idle point is
// dropped, not failed).
func TestThresholdSlicesPromtool(t *testing.T) {
	bin := testenv.Binary(t, "TANDEM_TEST_PROMTOOL", "promtool")
	def := func(target float64) *slo.Definition {
		return &slo.Definition{Method: slo.Timeslices, TimeSliceWindow: 5 * time.Minute, TimeSliceTarget: target,
			Indicator: slo.Indicator{Query: `sqrt(p95_seconds_squared)`, Op: "lte", Threshold: 0.3}}
	}
	exprTest := func(expr string, at time.Duration, value string) string {
		samples := "[]"
		if value != "" {
			samples = fmt.Sprintf("\n          - labels: '{}'\n            value: %s", value)
		}
		return fmt.Sprintf("      - expr: %q\n        eval_time: %s\n        exp_samples: %s\n", expr, slo.FormatDuration(at), samples)
	}
	var cases string
	for _, c := range []struct {
		target      float64
		good, total string
	}{{0.75, "1", "1"}, {0.9, "0", "1"}} {
		d := def(c.target)
		cases += exprTest(GoodExpr(d, "5m"), 5*time.Minute, c.good)
		cases += exprTest(TotalExpr(d, "5m"), 5*time.Minute, c.total)
		// Idle slices: no good, no total.
		cases += exprTest(GoodExpr(d, "10m"), 25*time.Minute, "")
		cases += exprTest(TotalExpr(d, "10m"), 25*time.Minute, "")
	}
	// The idle minutes carry -1, whose square root is NaN.
	test := `evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'p95_seconds_squared'
        values: '-1 0.04 0.04 0.04 0.04 0.25 -1x20'
    promql_expr_test:
` + cases
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slices_test.yaml"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "test", "rules", "slices_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s\n%s", err, out, test)
	}
}
