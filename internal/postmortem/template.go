package postmortem

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

//go:embed default.md.tmpl
var defaultTemplateText string

// DefaultTemplateText is the built-in postmortem template (Markdown, Go
// text/template over Data).
func DefaultTemplateText() string { return defaultTemplateText }

// Funcs are the functions templates may call besides text/template's own.
var Funcs = template.FuncMap{
	// time formats a moment as "2026-11-25 14:03 UTC" ("-" when zero).
	"time": func(v any) string {
		t := asTime(v)
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// clock formats a moment as "2026-11-25 14:03:05" (UTC).
	"clock": func(v any) string { return asTime(v).UTC().Format("2006-01-02 15:04:05") },
	// date formats a day "2026-11-25".
	"date": func(v any) string {
		t := asTime(v)
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02")
	},
	"duration": HumanDuration,
	"percent":  func(f float64) string { return strconv.FormatFloat(round2(f*100), 'f', -1, 64) + "%" },
	"money":    func(f float64) string { return "$" + commas(f) },
	"join":     strings.Join,
	"upper":    strings.ToUpper,
	"lower":    strings.ToLower,
	"default": func(def string, v any) string {
		if s := fmt.Sprint(v); v != nil && s != "" {
			return s
		}
		return def
	},
}

// asTime accepts time.Time and *time.Time (nil is the zero time).
func asTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

// HumanDuration writes a duration as "1h 05m", "12m 30s" or "0s".
func HumanDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	case m > 0 && s > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", s)
}

func commas(f float64) string {
	cents := int64(f*100 + 0.5)
	whole, frac := cents/100, cents%100
	s := strconv.FormatInt(whole, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != 0 {
		fmt.Fprintf(&b, ".%02d", frac)
	}
	return b.String()
}

// ParseTemplate parses a template; name is used in error messages (the
// file name). A parse error is a *TemplateError with the line.
func ParseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(Funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, templateError(name, err)
	}
	return t, nil
}

// TemplateError is a template problem located to a line (0 when unknown).
type TemplateError struct {
	Name    string
	Line    int
	Message string
}

func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Message)
	}
	return e.Name + ": " + e.Message
}

// text/template reports "template: NAME:LINE: msg" for parse errors and
// "template: NAME:LINE:COL: executing ..." for execution errors.
var tmplErrRe = regexp.MustCompile(`^template: (?:[^:]*):(\d+)(?::\d+)?: (.*)$`)

func templateError(name string, err error) *TemplateError {
	msg := err.Error()
	te := &TemplateError{Name: name, Message: strings.TrimPrefix(msg, "template: ")}
	if m := tmplErrRe.FindStringSubmatch(msg); m != nil {
		te.Line, _ = strconv.Atoi(m[1])
		te.Message = m[2]
	}
	return te
}

var defaultTemplate = template.Must(ParseTemplate("default.md.tmpl", defaultTemplateText))

// DefaultTemplate returns the built-in template.
func DefaultTemplate() *template.Template { return defaultTemplate }

// Templates are the built-in (or overridden) default and the per-team
// templates from tandem.d/templates/.
type Templates struct {
	Default *template.Template            // nil: the built-in one
	Team    map[string]*template.Template // by team name
}

// For returns the template for team and its name.
func (t Templates) For(team string) *template.Template {
	if tt, ok := t.Team[team]; ok && tt != nil {
		return tt
	}
	if t.Default != nil {
		return t.Default
	}
	return defaultTemplate
}

// Render executes tmpl over d. When it fails, the postmortem is still
// produced: the built-in template's output (or, if the failing template is
// the built-in one, a minimal page) under a marked error notice; the error
// is returned beside the Markdown so the caller can log and store it.
func Render(tmpl *template.Template, d Data) (markdown string, renderErr error) {
	var b strings.Builder
	err := tmpl.Execute(&b, d)
	if err == nil {
		return b.String(), nil
	}
	te := templateError(tmpl.Name(), err)
	notice := fmt.Sprintf("> **Template error:** the postmortem template %q failed at line %d: %s.\n> This page was generated with the built-in template instead; fix the template and regenerate, or edit this page.\n\n",
		te.Name, te.Line, te.Message)
	if tmpl != defaultTemplate {
		var fb strings.Builder
		if ferr := defaultTemplate.Execute(&fb, d); ferr == nil {
			return notice + fb.String(), te
		}
	}
	return notice + fmt.Sprintf("# Postmortem: %s\n\nIncident #%d, %s, %s.\n", d.Incident.Title, d.Incident.ID, d.Incident.Severity, strings.Join(d.Incident.Services, ", ")), te
}
