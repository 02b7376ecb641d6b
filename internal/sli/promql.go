package sli

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// WindowVar stands, in a query, for the window tandem evaluates it over,
// as in Sloth's SLI queries: sum(rate(http_requests_total[{{.window}}])).
// Spaces inside the braces ({{ .window }}) are accepted and normalised.
const WindowVar = "{{.window}}"

var windowVarRe = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// QueryError is a query PromQL refuses. Offset is the byte offset in the
// query as written where the problem starts, so that a config error can
// point at the query's own line.
type QueryError struct {
	Offset int
	Msg    string
}

func (e *QueryError) Error() string { return e.Msg }

// promqlParser is the real Prometheus parser with its default functions.
var promqlParser = parser.NewParser(parser.Options{})

// CountQuery checks one query of a ratio SLI (good, bad or total) and
// returns it in the form CountExpr evaluates:
//
//   - a counter selector (http_requests_total{code!~"5.."}) as written:
//     CountExpr applies increase() to it over each window;
//   - any other PromQL expression as a template in which WindowVar stands
//     for the window. Ranges written [{{.window}}] keep it; rate() over
//     them becomes increase() (the same number times the window's seconds:
//     a count of events, which budgets and the minimum-event guard need);
//     increase(), sum_over_time() and count_over_time() over them count
//     already; every selector outside a range is read as a counter and
//     becomes increase(selector[{{.window}}]). So Sloth's
//     sum(rate(x[{{.window}}])) and sum by (code) (x) are both accepted.
//
// It refuses, with a *QueryError, what the parser refuses, an expression
// that is not an instant vector, a range fixed in the query (x[5m]: the
// count over the SLO's windows needs tandem's window), other functions over
// the window (irate, avg_over_time… give no count), and an expression that
// reads no counter at all.
func CountQuery(q string) (string, error) {
	expr, sentinels, err := parseWindowed(q)
	if err != nil {
		return "", err
	}
	if vs, ok := expr.(*parser.VectorSelector); ok && plainSelector(vs) {
		// The selector's own text: without comments, as the user wrote it.
		r := vs.PositionRange()
		return q[r.Start:r.End], nil
	}
	if t := expr.Type(); t != parser.ValueTypeVector {
		return "", &QueryError{Offset: leadingSpace(q), Msg: "the query gives " + typeName(t) + "; a ratio query must give an instant vector of event counts"}
	}
	c := &counter{sentinels: sentinels}
	out, err := c.rewrite(expr, false)
	if err != nil {
		return "", err
	}
	if !c.windowed {
		return "", &QueryError{Offset: leadingSpace(q), Msg: "the query reads no counter: give a counter selector, or ranges written [" + WindowVar + "]"}
	}
	return printWindowed(out, c.sentinels), nil
}

// ThresholdQuery checks the query of a threshold SLI and returns it with
// the window placeholder normalised to WindowVar, which stands for the time
// slice (histogram_quantile(0.95, sum by (le) (rate(x_bucket[{{.window}}])))
// is the p95 of each slice). It refuses what the parser refuses and a
// query that is not an instant vector or a scalar, with a *QueryError.
func ThresholdQuery(q string) (string, error) {
	expr, sentinels, err := parseWindowed(q)
	if err != nil {
		return "", err
	}
	if t := expr.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
		return "", &QueryError{Offset: leadingSpace(q), Msg: "the query gives " + typeName(t) + "; a threshold query must give an instant vector or a scalar"}
	}
	return printWindowed(expr, sentinels), nil
}

// CountExpr is the PromQL for the events a ratio query (as CountQuery
// returns it) counts over the window w ("5m"): increase(q[w]) for a
// counter selector, the template with w in place of WindowVar otherwise.
func CountExpr(q, w string) string {
	if strings.Contains(q, WindowVar) {
		return strings.ReplaceAll(q, WindowVar, w)
	}
	return "increase(" + q + "[" + w + "])"
}

// parseWindowed parses q with each window placeholder replaced by a range
// literal of the same length, so that the parser's offsets are offsets in
// q. It returns the durations that stand for the placeholder.
func parseWindowed(q string) (parser.Expr, map[time.Duration]bool, error) {
	sentinels := map[time.Duration]bool{}
	sub := windowVarRe.ReplaceAllStringFunc(q, func(m string) string {
		// n-2 digits and "ms": "100000000ms" for the 11 bytes of {{.window}}.
		lit := "1" + strings.Repeat("0", len(m)-3) + "ms"
		n, _ := strconv.ParseInt(lit[:len(lit)-2], 10, 64)
		sentinels[time.Duration(n)*time.Millisecond] = true
		return lit
	})
	if strings.TrimSpace(q) == "" {
		return nil, nil, &QueryError{Msg: "the query is empty"}
	}
	expr, err := promqlParser.ParseExpr(sub)
	if err != nil {
		var pe parser.ParseErrors
		if errors.As(err, &pe) && len(pe) > 0 {
			first := pe[0]
			return nil, nil, &QueryError{Offset: int(first.PositionRange.Start), Msg: "PromQL: " + first.Err.Error()}
		}
		return nil, nil, &QueryError{Msg: "PromQL: " + err.Error()}
	}
	return expr, sentinels, nil
}

// plainSelector reports whether vs is a selector without modifiers, to
// which increase(vs[w]) can be applied as text.
func plainSelector(vs *parser.VectorSelector) bool {
	return vs.OriginalOffset == 0 && vs.OriginalOffsetExpr == nil && vs.Timestamp == nil && vs.StartOrEnd == 0
}

func typeName(t parser.ValueType) string {
	switch t {
	case parser.ValueTypeMatrix:
		return "a range vector"
	case parser.ValueTypeScalar:
		return "a scalar"
	case parser.ValueTypeString:
		return "a string"
	}
	return "an instant vector"
}

func leadingSpace(q string) int { return len(q) - len(strings.TrimLeft(q, " \t\r\n")) }

// Range functions whose value over the window is a count of events.
var countFuncs = map[string]bool{"increase": true, "sum_over_time": true, "count_over_time": true}

// counter rewrites a ratio expression into a count over WindowVar.
type counter struct {
	sentinels map[time.Duration]bool
	windowed  bool // a range over the window was found or made
}

func (c *counter) isWindow(d time.Duration) bool { return c.sentinels[d] }

func (c *counter) rewrite(e parser.Expr, inRange bool) (parser.Expr, error) {
	switch n := e.(type) {
	case *parser.VectorSelector:
		if inRange {
			return n, nil
		}
		// A selector outside any range is a counter: count its increase.
		c.windowed = true
		return &parser.Call{Func: parser.Functions["increase"], Args: parser.Expressions{
			&parser.MatrixSelector{VectorSelector: n, Range: c.window()},
		}}, nil
	case *parser.MatrixSelector:
		if inRange {
			return n, nil // a range inside a subquery's expression: evaluated per step
		}
		if n.RangeExpr != nil || !c.isWindow(n.Range) {
			return nil, &QueryError{Offset: int(n.PositionRange().Start), Msg: fmt.Sprintf("the range of %s is fixed; write [%s] so that tandem sets each window, or give the counter selector alone", n, WindowVar)}
		}
		c.windowed = true
		return n, nil
	case *parser.SubqueryExpr:
		if n.RangeExpr != nil || !c.isWindow(n.Range) {
			return nil, &QueryError{Offset: int(n.PositionRange().Start), Msg: fmt.Sprintf("the range of subquery %s is fixed; write [%s:…]", n, WindowVar)}
		}
		c.windowed = true
		inner, err := c.rewrite(n.Expr, true)
		if err != nil {
			return nil, err
		}
		n.Expr = inner
		return n, nil
	case *parser.Call:
		for i, a := range n.Args {
			if a.Type() != parser.ValueTypeMatrix {
				r, err := c.rewrite(a, inRange)
				if err != nil {
					return nil, err
				}
				n.Args[i] = r
				continue
			}
			if _, err := c.rewrite(a, inRange); err != nil {
				return nil, err
			}
			switch name := n.Func.Name; {
			case inRange || countFuncs[name]:
			case name == "rate":
				// increase(x[w]) is rate(x[w]) times w's seconds: a count.
				n.Func = parser.Functions["increase"]
			default:
				return nil, &QueryError{Offset: int(n.PosRange.Start), Msg: fmt.Sprintf("%s() over the window gives no count of events; use rate(), increase(), sum_over_time() or count_over_time()", name)}
			}
		}
		return n, nil
	case *parser.AggregateExpr:
		r, err := c.rewrite(n.Expr, inRange)
		if err != nil {
			return nil, err
		}
		n.Expr = r
		if n.Param != nil {
			if n.Param, err = c.rewrite(n.Param, true); err != nil {
				return nil, err
			}
		}
		return n, nil
	case *parser.BinaryExpr:
		l, err := c.rewrite(n.LHS, inRange)
		if err != nil {
			return nil, err
		}
		r, err := c.rewrite(n.RHS, inRange)
		if err != nil {
			return nil, err
		}
		n.LHS, n.RHS = l, r
		return n, nil
	case *parser.ParenExpr:
		r, err := c.rewrite(n.Expr, inRange)
		if err != nil {
			return nil, err
		}
		n.Expr = r
		return n, nil
	case *parser.UnaryExpr:
		r, err := c.rewrite(n.Expr, inRange)
		if err != nil {
			return nil, err
		}
		n.Expr = r
		return n, nil
	}
	return e, nil // literals
}

// window returns the duration that stands for WindowVar in the tree.
func (c *counter) window() time.Duration {
	ds := make([]time.Duration, 0, len(c.sentinels))
	for d := range c.sentinels {
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		c.sentinels[windowSentinel] = true
		return windowSentinel
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[0]
}

// windowSentinel stands for WindowVar where the query wrote none.
const windowSentinel = 100000000 * time.Millisecond

// printWindowed prints a rewritten tree with WindowVar in place of every
// duration that stands for it, longest printed form first.
func printWindowed(e parser.Expr, sentinels map[time.Duration]bool) string {
	s := e.String()
	forms := make([]string, 0, len(sentinels))
	for d := range sentinels {
		forms = append(forms, model.Duration(d).String())
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	for _, f := range forms {
		s = strings.ReplaceAll(s, "["+f+"]", "["+WindowVar+"]")
		s = strings.ReplaceAll(s, "["+f+":", "["+WindowVar+":")
	}
	return s
}
