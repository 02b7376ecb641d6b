package web

import (
	"html/template"
	"regexp"
	"strconv"
	"strings"
)

// renderMarkdown turns the Markdown of a postmortem into HTML for reading
// and printing. It handles what postmortem templates produce: ATX headings,
// paragraphs, bullet and numbered lists, task-list checkboxes, pipe tables,
// fenced code, block quotes, and inline code, bold, italics and links.
// Everything is HTML-escaped first; only http(s), mailto and relative link
// targets become links, so a postmortem cannot inject markup or script.
func renderMarkdown(md string) template.HTML {
	var b strings.Builder
	md = commentRe.ReplaceAllString(strings.ReplaceAll(md, "\r\n", "\n"), "")
	lines := strings.Split(md, "\n")
	var para []string
	list := "" // "ul" or "ol" while in a list
	flushPara := func() {
		if len(para) > 0 {
			html := strings.ReplaceAll(inline(strings.Join(para, " ")), "\x01 ", "<br>")
			b.WriteString("<p>" + strings.ReplaceAll(html, "\x01", "") + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "```"):
			flushPara()
			closeList()
			b.WriteString("<pre><code>")
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				b.WriteString(template.HTMLEscapeString(lines[i]) + "\n")
			}
			b.WriteString("</code></pre>\n")
		case trim == "":
			flushPara()
			closeList()
		case strings.HasPrefix(trim, "#"):
			flushPara()
			closeList()
			n := len(trim) - len(strings.TrimLeft(trim, "#"))
			if n > 6 || len(trim) > n && trim[n] != ' ' {
				para = append(para, trim)
				continue
			}
			// A postmortem's own title is the page's h1; its headings
			// start at h2.
			lvl := min(n+1, 6)
			tag := "h" + string(rune('0'+lvl))
			b.WriteString("<" + tag + ">" + inline(strings.TrimSpace(trim[n:])) + "</" + tag + ">\n")
		case strings.HasPrefix(trim, "|") && i+1 < len(lines) && isTableRule(lines[i+1]):
			flushPara()
			closeList()
			b.WriteString("<table class=\"grid\"><thead><tr>")
			for _, c := range tableCells(trim) {
				b.WriteString("<th scope=\"col\">" + inline(c) + "</th>")
			}
			b.WriteString("</tr></thead><tbody>\n")
			for i += 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				b.WriteString("<tr>")
				for _, c := range tableCells(strings.TrimSpace(lines[i])) {
					b.WriteString("<td>" + inline(c) + "</td>")
				}
				b.WriteString("</tr>\n")
			}
			i--
			b.WriteString("</tbody></table>\n")
		case strings.HasPrefix(trim, "> "):
			flushPara()
			closeList()
			b.WriteString("<blockquote>" + inline(trim[2:]) + "</blockquote>\n")
		case bulletRe.MatchString(trim) || numberRe.MatchString(trim):
			flushPara()
			kind, text := "ul", ""
			if m := bulletRe.FindStringSubmatch(trim); m != nil {
				text = m[1]
			} else {
				kind, text = "ol", numberRe.FindStringSubmatch(trim)[1]
			}
			if list != kind {
				closeList()
				b.WriteString("<" + kind + ">\n")
				list = kind
			}
			switch {
			case strings.HasPrefix(text, "[ ] "):
				b.WriteString("<li class=\"task\"><span aria-hidden=\"true\">☐</span><span class=\"visually-hidden\">to do:</span> " + inline(text[4:]) + "</li>\n")
			case strings.HasPrefix(text, "[x] ") || strings.HasPrefix(text, "[X] "):
				b.WriteString("<li class=\"task done\"><span aria-hidden=\"true\">☑</span><span class=\"visually-hidden\">done:</span> " + inline(text[4:]) + "</li>\n")
			default:
				b.WriteString("<li>" + inline(text) + "</li>\n")
			}
		default:
			closeList()
			// Two trailing spaces or a backslash end a line with a break.
			if strings.HasSuffix(line, "  ") || strings.HasSuffix(trim, "\\") {
				trim = strings.TrimSuffix(trim, "\\") + "\x01"
			}
			para = append(para, trim)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String())
}

var (
	commentRe = regexp.MustCompile(`(?s)<!--.*?-->`)
	bulletRe  = regexp.MustCompile(`^[-*+] (.*)$`)
	numberRe  = regexp.MustCompile(`^\d{1,3}[.)] (.*)$`)
	ruleRe    = regexp.MustCompile(`^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$`)
	codeRe    = regexp.MustCompile("`([^`]+)`")
	boldRe    = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	italRe    = regexp.MustCompile(`(^|[^*\w])_([^_]+)_([^\w]|$)`)
	linkRe    = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
)

func isTableRule(s string) bool { return ruleRe.MatchString(strings.TrimSpace(s)) }

func tableCells(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	cells := strings.Split(row, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// inline escapes s and then applies code, bold, italics and safe links.
// Code spans are cut out first (replaced by private-use placeholders that
// escaping leaves alone) so their content stays literal.
func inline(s string) string {
	var codes []string
	s = codeRe.ReplaceAllStringFunc(s, func(m string) string {
		codes = append(codes, m[1:len(m)-1])
		return "\ue000" + strconv.Itoa(len(codes)-1) + "\ue001"
	})
	s = template.HTMLEscapeString(s)
	s = linkRe.ReplaceAllStringFunc(s, func(m string) string {
		p := linkRe.FindStringSubmatch(m)
		href := strings.ReplaceAll(p[2], "&amp;", "&")
		if !safeHref(href) {
			return m
		}
		return `<a href="` + template.HTMLEscapeString(href) + `" rel="noopener noreferrer">` + p[1] + `</a>`
	})
	s = boldRe.ReplaceAllString(s, "<strong>$1</strong>")
	s = italRe.ReplaceAllString(s, "$1<em>$2</em>$3")
	for i, c := range codes {
		s = strings.Replace(s, "\ue000"+strconv.Itoa(i)+"\ue001", "<code>"+template.HTMLEscapeString(c)+"</code>", 1)
	}
	return s
}

// safeHref accepts http(s), mailto, in-page and site-relative targets.
func safeHref(h string) bool {
	l := strings.ToLower(h)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:") ||
		strings.HasPrefix(h, "#") || strings.HasPrefix(h, "/") && !strings.HasPrefix(h, "//")
}
