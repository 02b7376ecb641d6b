package web

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRenderMarkdown(t *testing.T) {
	md := "# Checkout outage\n\n**Incident #4** · sev1  \nLead: `alice`\n\n" +
		"<!-- hidden\ncomment -->\n" +
		"## Impact\n\n| Duration | Users |\n|---|---:|\n| 1h | 1,200 |\n\n~~gone~~\n\n" +
		"- [ ] Add an alert (owner: @bob)\n- [x] Roll back\n\n1. first\n2. second\n\n" +
		"See [the runbook](https://runbooks.example/checkout) and [bad](javascript:alert(1)).\n\n" +
		"```\n<script>alert(1)</script>\n```\n<img src=x onerror=alert(1)>\n"
	got := string(renderMarkdown(md))
	for _, want := range []string{
		"<h2>Checkout outage</h2>", "<h3>Impact</h3>",
		"<strong>Incident #4</strong> · sev1<br>", "Lead: <code>alice</code>",
		"<th>Duration</th>", `<td align="right">1,200</td>`,
		`<li class="task"><input disabled="" type="checkbox"> Add an alert`, `<li class="task done"><input checked="" disabled="" type="checkbox"> Roll back`, "<ol>",
		`<a href="https://runbooks.example/checkout" rel="nofollow noreferrer">the runbook</a>`,
		"and bad.", // not a link
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"<del>gone</del>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered Markdown lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "comment") || strings.Contains(got, "<script") || strings.Contains(got, "<img") || strings.Contains(got, "javascript:") {
		t.Errorf("rendered Markdown leaks a comment, markup or a script link:\n%s", got)
	}
}

// FuzzRenderMarkdown checks that no Markdown, however odd, yields a tag
// outside the sanitizer's list, a link that is not http(s), mailto or
// relative, or a panic.
func FuzzRenderMarkdown(f *testing.F) {
	f.Add("# t\n\n- [ ] a `b` **c** [d](https://e)\n| a |\n|---|\n| b |\n```\nx\n```")
	f.Add("<script>x</script> [a](javascript:x) \x00 \x01")
	f.Fuzz(func(t *testing.T, md string) {
		out := string(renderMarkdown(md))
		allowed := map[string]bool{"p": true, "br": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
			"ul": true, "ol": true, "li": true, "table": true, "thead": true, "tbody": true, "tr": true,
			"th": true, "td": true, "pre": true, "code": true, "blockquote": true, "strong": true, "em": true, "a": true,
			"del": true, "hr": true, "input": true}
		if strings.Contains(strings.ToLower(out), "javascript:") && strings.Contains(out, "href=\"javascript") {
			t.Fatalf("script link in output: %s", out)
		}
		for i := strings.IndexByte(out, '<'); i >= 0; i = strings.IndexByte(out, '<') {
			out = out[i+1:]
			closing := strings.HasPrefix(out, "/")
			name := strings.TrimPrefix(out, "/")
			end := strings.IndexAny(name, " >")
			if end < 0 {
				t.Fatalf("unterminated tag in output")
			}
			if !allowed[name[:end]] {
				t.Fatalf("tag %q in output", name[:end])
			}
			if !closing && name[:end] == "a" && !strings.HasPrefix(name[end:], ` href="`) {
				t.Fatalf("link without href")
			}
		}
	})
}

// FuzzQueryParsing feeds the URL parsers of the pages (filters, time range,
// the sign-in redirect): bad input is an error, never a panic.
func FuzzQueryParsing(f *testing.F) {
	f.Add("team=payments&tier=1&status=critical&q=x", "/incidents?x=1")
	f.Add("range=90d&from=2026-11-01&to=now", "//evil")
	f.Add("tier=-1&range=1e400h", "/\\x")
	f.Add("env=staging&range=7d", "/")
	f.Add("env=a%20b", "/")
	f.Fuzz(func(t *testing.T, rawQuery, next string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		_, _ = parseOverviewFilter(q)
		if e, err := parseEnv(q); err == nil && (e == "" || strings.ContainsAny(e, " \t\r\n")) {
			t.Fatalf("environment %q accepted", e)
		}
		if c, err := url.ParseQuery(carriedQuery(q, testNow)); err != nil {
			t.Fatalf("carried query does not parse: %v", err)
		} else if _, err := parseEnv(c); err != nil {
			t.Fatalf("a bad environment is carried: %q", c.Get("env"))
		}
		if tr, err := parseRange(q, testNow, "7d"); err == nil && !tr.To.After(tr.From) {
			t.Fatalf("range %v – %v accepted", tr.From, tr.To)
		} else if err == nil && tr.Span() > maxRange+time.Second {
			t.Fatalf("range longer than the maximum accepted")
		}
		n := safeNext(next)
		if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
			t.Fatalf("safeNext(%q) = %q", next, n)
		}
	})
}
