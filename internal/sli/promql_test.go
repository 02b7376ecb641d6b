package sli

import (
	"errors"
	"strings"
	"testing"
)

// CountQuery keeps counter selectors as written and turns every other
// ratio query into a count over {{.window}}, as the real PromQL parser
// reads it.
func TestCountQuery(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`http_requests_total{code!~"5.."}`, `http_requests_total{code!~"5.."}`},
		{`  http_requests_total  `, `http_requests_total`},
		// Sloth's style: rate over the window is a count once it is increase.
		{`sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`, `sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))`},
		{`sum(rate(x[{{ .window }}]))`, `sum(increase(x[{{.window}}]))`},
		{"sum by (code) (\n  increase(x[{{.window}}])\n)", `sum by (code) (increase(x[{{.window}}]))`},
		{`sum_over_time(batch_jobs_ok[{{.window}}])`, `sum_over_time(batch_jobs_ok[{{.window}}])`},
		// Selectors outside a range are counters.
		{`sum by (code) (http_requests_total{job="a"})`, `sum by (code) (increase(http_requests_total{job="a"}[{{.window}}]))`},
		{`a_total + b_total`, `increase(a_total[{{.window}}]) + increase(b_total[{{.window}}])`},
		{`x_total offset 5m`, `increase(x_total[{{.window}}] offset 5m)`},
		{`sum(rate(a[{{.window}}])) - sum(b_total)`, `sum(increase(a[{{.window}}])) - sum(increase(b_total[{{.window}}]))`},
		// A subquery over the window keeps its inner ranges.
		{`sum_over_time((sum(rate(x[1m])) > bool 0)[{{.window}}:1m])`, `sum_over_time((sum(rate(x[1m])) > bool 0)[{{.window}}:1m])`},
	} {
		got, err := CountQuery(c.in)
		if err != nil || got != c.want {
			t.Errorf("CountQuery(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCountQueryErrors(t *testing.T) {
	for _, c := range []struct {
		in     string
		offset int
		msg    string
	}{
		{`sum(rate(x[5m])`, 15, "unclosed left parenthesis"},
		{"sum(\n  rate(x[5m]) by (a)", 19, "unexpected <by>"},
		{`sum(rate(x[5m]))`, 9, "the range of x[5m] is fixed"},
		{`sum(irate(x[{{.window}}]))`, 4, "irate() over the window gives no count"},
		{`sum(avg_over_time(x[{{.window}}]))`, 4, "avg_over_time() over the window"},
		{`vector(1)`, 0, "reads no counter"},
		{`1`, 0, "gives a scalar"},
		{`x[{{.window}}]`, 0, "gives a range vector"},
		{` `, 0, "empty"},
	} {
		_, err := CountQuery(c.in)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Offset != c.offset || !strings.Contains(qe.Msg, c.msg) {
			t.Errorf("CountQuery(%q): %#v, want offset %d and %q", c.in, err, c.offset, c.msg)
		}
	}
}

func TestCountExpr(t *testing.T) {
	if got := CountExpr(`x{a="b"}`, "5m"); got != `increase(x{a="b"}[5m])` {
		t.Errorf("selector: %s", got)
	}
	if got := CountExpr(`sum(increase(x[{{.window}}])) + sum(increase(y[{{.window}}]))`, "1h"); got != `sum(increase(x[1h])) + sum(increase(y[1h]))` {
		t.Errorf("template: %s", got)
	}
}

func TestThresholdQuery(t *testing.T) {
	got, err := ThresholdQuery(` histogram_quantile(0.95, sum by (le) (rate(x_bucket[{{ .window }}]))) `)
	if err != nil || got != `histogram_quantile(0.95, sum by (le) (rate(x_bucket[{{.window}}])))` {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := ThresholdQuery(`histogram_quantile(0.95, x_bucket`); err == nil {
		t.Error("a broken query accepted")
	}
	if _, err := ThresholdQuery(`x[5m]`); err == nil || !strings.Contains(err.Error(), "range vector") {
		t.Errorf("a range vector: %v", err)
	}
}

// FuzzCountQuery: any text gives a query or an error, never a panic, and
// an accepted query parses again once a window is put in.
func FuzzCountQuery(f *testing.F) {
	for _, s := range []string{`x`, `sum(rate(x[{{.window}}]))`, `sum by (a) (x) / 2`, `x offset 1m`, `sum_over_time(x[{{.window}}:1m])`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out, err := CountQuery(q)
		if err != nil {
			return
		}
		if _, err := promqlParser.ParseExpr(CountExpr(out, "5m")); err != nil {
			t.Fatalf("CountQuery(%q) = %q, which does not parse: %v", q, CountExpr(out, "5m"), err)
		}
	})
}
