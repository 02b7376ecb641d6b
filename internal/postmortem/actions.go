package postmortem

import (
	"regexp"
	"strings"
	"time"
)

var (
	checkboxRe = regexp.MustCompile(`^(\s*[-*+]\s+\[)([ xX])(\]\s+)(.*)$`)
	headingRe  = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	ownerRe    = regexp.MustCompile(`(?i)\bowner:\s*@?([A-Za-z0-9_.@-]+)`)
	atOwnerRe  = regexp.MustCompile(`(?:^|\s)@([A-Za-z0-9_.-]+)`)
	dueRe      = regexp.MustCompile(`(?i)\bdue:\s*(\d{4}-\d{2}-\d{2})`)
	linkRe     = regexp.MustCompile(`(?i)\blink:\s*(\S+)`)
	commentRe  = regexp.MustCompile(`(?s)<!--.*?-->`)
	emptyParen = regexp.MustCompile(`\(\s*[,;\s]*\)`)
)

// ParsedItem is an action item read from a postmortem's Markdown.
type ParsedItem struct {
	Title string
	Owner string
	Due   *time.Time
	Done  bool
	Link  string
	Line  int // 1-based line in the Markdown
}

// ParseActionItems reads the checklist lines ("- [ ] …" and "- [x] …") of
// the section whose heading contains "action items" (any level, any case),
// up to the next heading of the same or a higher level. In each line
// "owner: @name" (or a bare "@name"), "due: YYYY-MM-DD" and "link: URL" set
// those fields and are removed from the title. HTML comments are ignored.
// Lines with an empty title, or a due date that is not a date, are kept
// with the date left out; the parser never fails.
func ParseActionItems(markdown string) []ParsedItem {
	// Blank out comments but keep line numbers.
	markdown = commentRe.ReplaceAllStringFunc(markdown, func(c string) string {
		return strings.Repeat("\n", strings.Count(c, "\n"))
	})
	var out []ParsedItem
	level := 0 // heading level of the open action-items section; 0: outside
	for i, line := range strings.Split(markdown, "\n") {
		if m := headingRe.FindStringSubmatch(strings.TrimRight(line, " \r")); m != nil {
			l := len(m[1])
			if strings.Contains(strings.ToLower(m[2]), "action items") {
				level = l
			} else if level > 0 && l <= level {
				level = 0
			}
			continue
		}
		if level == 0 {
			continue
		}
		m := checkboxRe.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil {
			continue
		}
		it := ParsedItem{Done: m[2] != " ", Line: i + 1}
		text := m[4]
		if mm := ownerRe.FindStringSubmatch(text); mm != nil {
			it.Owner = mm[1]
			text = strings.Replace(text, mm[0], "", 1)
		} else if mm := atOwnerRe.FindStringSubmatch(text); mm != nil {
			it.Owner = mm[1]
			text = strings.Replace(text, mm[0], " ", 1)
		}
		if mm := dueRe.FindStringSubmatch(text); mm != nil {
			if t, err := time.Parse("2006-01-02", mm[1]); err == nil {
				it.Due = &t
			}
			text = strings.Replace(text, mm[0], "", 1)
		}
		if mm := linkRe.FindStringSubmatch(text); mm != nil {
			it.Link = strings.TrimRight(mm[1], ",;)")
			text = strings.Replace(text, mm[0], "", 1)
		}
		text = emptyParen.ReplaceAllString(text, "")
		it.Title = strings.Trim(strings.Join(strings.Fields(text), " "), " ,;-—–")
		if it.Title == "" {
			continue
		}
		if len(it.Title) > 500 {
			it.Title = it.Title[:500]
		}
		out = append(out, it)
	}
	return out
}

// itemKey is how a checklist line is matched to a stored item across
// saves: its title, lowercased, spaces collapsed.
func itemKey(title string) string {
	return strings.ToLower(strings.Join(strings.Fields(title), " "))
}

// SetChecked ticks (done) or clears the checkbox of the action item with
// title in markdown, and returns the new Markdown and whether a line
// changed.
func SetChecked(markdown, title string, done bool) (string, bool) {
	lines := strings.Split(markdown, "\n")
	key := itemKey(title)
	for _, it := range ParseActionItems(markdown) {
		if itemKey(it.Title) != key || it.Done == done {
			continue
		}
		m := checkboxRe.FindStringSubmatch(strings.TrimRight(lines[it.Line-1], "\r"))
		if m == nil {
			continue
		}
		mark := " "
		if done {
			mark = "x"
		}
		lines[it.Line-1] = m[1] + mark + m[3] + m[4]
		return strings.Join(lines, "\n"), true
	}
	return markdown, false
}
