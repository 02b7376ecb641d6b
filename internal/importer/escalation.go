package importer

import (
	"slices"
	"sort"

	"github.com/tandemhq/tandem/internal/oncall"
)

// page is one notification of an escalation that nobody acknowledges: at
// minute At after the trigger, Targets are paged.
type page struct {
	At      int
	Targets []oncall.Target
}

// policyFromPages returns the rules and num_loops of a tandem policy that
// pages exactly pages, the timeline a source's escalation follows when
// nobody acknowledges (tools whose delays count from the trigger, whose
// repeats wait, or whose steps follow a repeat do not map rule by rule).
// Pages at one minute become one rule. The timeline is shifted so that
// its first page is at minute 0 (tandem pages the first rule at the
// trigger); lead is by how much, for the caller to warn about. end is the
// minute the source stops escalating; it sets the last rule's delay (at
// least 1 minute). Where the timeline is passes of one pattern (at most
// ten, PagerDuty's and tandem's limit), the rules are one pass and
// num_loops the repeats; otherwise every page is a rule of one pass.
// pages must not be empty.
func policyFromPages(pages []page, end int) (rules []oncall.Rule, numLoops, lead int) {
	steps := mergePages(pages)
	lead = steps[0].At
	for i := range steps {
		steps[i].At -= lead
	}
	end -= lead
	k := 1 // pages per pass: the shortest pattern, at most ten passes
	for len(steps)%k != 0 || len(steps)/k > 10 || !repeats(steps, k) {
		k++
	}
	passes := len(steps) / k
	rules = make([]oncall.Rule, k)
	for i := range k {
		next := end
		switch {
		case i+1 < k:
			next = steps[i+1].At
		case passes > 1:
			next = steps[k].At // the next pass starts one period on
		}
		rules[i] = oncall.Rule{EscalationDelayInMinutes: max(next-steps[i].At, 1), Targets: steps[i].Targets}
	}
	return rules, passes - 1, lead
}

// mergePages sorts pages by minute and merges those of one minute, each
// target once.
func mergePages(pages []page) []page {
	sorted := slices.Clone(pages)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At < sorted[j].At })
	var out []page
	for _, p := range sorted {
		if n := len(out); n == 0 || out[n-1].At != p.At {
			out = append(out, page{At: p.At})
		}
		last := &out[len(out)-1]
		for _, t := range p.Targets {
			if !slices.Contains(last.Targets, t) {
				last.Targets = append(last.Targets, t)
			}
		}
	}
	return out
}

// repeats reports whether steps are passes of their first k steps, each
// pass the same time after the one before.
func repeats(steps []page, k int) bool {
	if k == len(steps) {
		return true
	}
	period := steps[k].At - steps[0].At
	for i := k; i < len(steps); i++ {
		if steps[i].At-steps[i-k].At != period || !slices.Equal(steps[i].Targets, steps[i-k].Targets) {
			return false
		}
	}
	return true
}
