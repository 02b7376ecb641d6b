package importer

import (
	"reflect"
	"testing"

	"github.com/tandemhq/tandem/internal/oncall"
)

func TestPolicyFromPages(t *testing.T) {
	a := oncall.Target{Type: oncall.UserReference, ID: "a"}
	b := oncall.Target{Type: oncall.UserReference, ID: "b"}
	s := oncall.Target{Type: oncall.ScheduleReference, ID: "s"}
	ts := func(t ...oncall.Target) []oncall.Target { return t }
	rule := func(d int, t ...oncall.Target) oncall.Rule {
		return oncall.Rule{EscalationDelayInMinutes: d, Targets: t}
	}
	every := func(n, step int, t oncall.Target) []page {
		var out []page
		for i := range n {
			out = append(out, page{At: i * step, Targets: ts(t)})
		}
		return out
	}
	for _, c := range []struct {
		name  string
		pages []page
		end   int
		rules []oncall.Rule
		loops int
		lead  int
	}{
		{
			// Three passes of a@0, b@10 with a period of 25: one pass of
			// 10 + 15 minutes, two repeats.
			name:  "passes",
			pages: []page{{0, ts(a)}, {10, ts(b)}, {25, ts(a)}, {35, ts(b)}, {50, ts(a)}, {60, ts(b)}},
			end:   75, rules: []oncall.Rule{rule(10, a), rule(15, b)}, loops: 2,
		},
		{
			// A step after OnCall's repeat runs once, after the last pass:
			// a every 5 minutes six times, b with the last a.
			name:  "tail after the repeats",
			pages: append(every(6, 5, a), page{25, ts(b)}),
			end:   25,
			rules: []oncall.Rule{rule(5, a), rule(5, a), rule(5, a), rule(5, a), rule(5, a), rule(1, a, b)},
		},
		{
			// Opsgenie's 20 repeats: 21 pages 5 minutes apart are seven
			// passes of three (tandem repeats at most 9 times).
			name:  "more than ten passes",
			pages: every(21, 5, s), end: 105,
			rules: []oncall.Rule{rule(5, s), rule(5, s), rule(5, s)}, loops: 6,
		},
		{
			// The first page at minute 5 moves to 0; one minute holds two
			// pages, the same target once.
			name:  "lead and merge",
			pages: []page{{5, ts(a)}, {5, ts(b, a)}, {20, ts(s)}},
			end:   20, rules: []oncall.Rule{rule(15, a, b), rule(1, s)}, lead: 5,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			rules, loops, lead := policyFromPages(c.pages, c.end)
			if !reflect.DeepEqual(rules, c.rules) || loops != c.loops || lead != c.lead {
				t.Errorf("got %v loops %d lead %d, want %v loops %d lead %d", rules, loops, lead, c.rules, c.loops, c.lead)
			}
			// And tandem pages exactly the pages given, moved by the lead.
			var want []string
			for _, p := range mergePages(c.pages) {
				var ids []string
				for _, t := range p.Targets {
					ids = append(ids, t.ID)
				}
				want = append(want, pageKey(p.At-c.lead, ids))
			}
			if got := pages(oncall.Policy{Rules: rules, NumLoops: loops}); !reflect.DeepEqual(got, want) {
				t.Errorf("tandem pages %v, want %v", got, want)
			}
		})
	}
}
