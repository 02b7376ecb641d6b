package postmortem

import (
	"strings"
	"testing"
)

const withItems = `# Postmortem

- [ ] not an action item (outside the section)

## Action items

<!-- - [ ] commented out (owner: @x) -->
- [ ] Add replica lag alert (owner: @dave, due: 2026-12-15)
- [x] Roll back faster — @alice due: 2026-12-01 link: https://github.com/example/ops/issues/9
* [ ] Write runbook for orders lock
- [ ] (owner: @nobody)
- [ ] Bad date (due: 2026-13-45)

### Details under the section still count
- [ ] Nested item owner: erin

## Root cause
- [ ] not an item either
`

func TestParseActionItems(t *testing.T) {
	got := ParseActionItems(withItems)
	want := []struct {
		title, owner, due, link string
		done                    bool
	}{
		{"Add replica lag alert", "dave", "2026-12-15", "", false},
		{"Roll back faster", "alice", "2026-12-01", "https://github.com/example/ops/issues/9", true},
		{"Write runbook for orders lock", "", "", "", false},
		{"Bad date", "", "", "", false},
		{"Nested item", "erin", "", "", false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d items: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		due := ""
		if g.Due != nil {
			due = g.Due.Format("2006-01-02")
		}
		if g.Title != w.title || g.Owner != w.owner || due != w.due || g.Link != w.link || g.Done != w.done {
			t.Errorf("item %d = %+v (due %s), want %+v", i, g, due, w)
		}
	}
}

func TestSetChecked(t *testing.T) {
	md, ok := SetChecked(withItems, "add replica  lag alert", true)
	if !ok || !strings.Contains(md, "- [x] Add replica lag alert (owner: @dave, due: 2026-12-15)") {
		t.Errorf("not ticked:\n%s", md)
	}
	if _, ok := SetChecked(md, "Add replica lag alert", true); ok {
		t.Error("ticked twice")
	}
	if _, ok := SetChecked(withItems, "not an item either", true); ok {
		t.Error("ticked a line outside the section")
	}
}

func FuzzParseActionItems(f *testing.F) {
	f.Add(withItems)
	f.Add("## Action items\n- [ ] x (owner: @a, due: 2026-01-01, link: http://x)\n")
	f.Fuzz(func(t *testing.T, md string) {
		for _, it := range ParseActionItems(md) {
			if it.Title == "" || it.Line < 1 {
				t.Fatalf("bad item %+v", it)
			}
			if _, ok := SetChecked(md, it.Title, !it.Done); !ok {
				t.Fatalf("cannot toggle %+v", it)
			}
		}
	})
}
