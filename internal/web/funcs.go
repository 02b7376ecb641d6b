package web

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/web/chart"
)

// funcs are the template helpers.
func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string {
			return "/static/" + name + "?v=" + h.assets[name]
		},
		"chartDefs": func() template.HTML { return chartDefs },
		"meter":     chart.Meter,
		"pct":       func(v float64) string { return chart.Percent.Text(v) },
		"pct1":      func(v float64) string { return chart.Format{Percent: true, Decimals: 1}.Text(v) },
		"num":       func(v float64) string { return chart.Number.Text(v) },
		"times":     func(v float64) string { return chart.Format{Suffix: "×", Decimals: -1}.Text(v) },
		"when":      when,
		"at":        timeHTML,
		"addHour":   func(t time.Time) time.Time { return t.Add(time.Hour) },
		"ago":       ago,
		"dur":       humanDuration,
		"plural":    plural,
		// mins prints a number of minutes (float or int) as a duration.
		"mins": func(v any) string {
			switch m := v.(type) {
			case float64:
				if m < 0 {
					return "−" + humanDuration(time.Duration(-m*float64(time.Minute)))
				}
				return humanDuration(time.Duration(m * float64(time.Minute)))
			case int:
				return humanDuration(time.Duration(m) * time.Minute)
			case int64:
				return humanDuration(time.Duration(m) * time.Minute)
			}
			return fmt.Sprint(v)
		},
		"event": eventWord,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"join":  strings.Join,
		"lower": strings.ToLower,
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"query": queryWith,
		"rangeLink": func(u *url.URL, preset string) string {
			q := u.Query()
			q.Del("from")
			q.Del("to")
			q.Del("done")
			q.Set("range", preset)
			return u.Path + "?" + q.Encode()
		},
		"otherParams": otherParams,
		"envLink":     envLink,
		// nav is a navigation link that keeps the range and environment
		// picked.
		"nav": func(path, rangeQ string) string {
			if rangeQ == "" {
				return path
			}
			return path + "?" + rangeQ
		},
		"hasKey":      func(m map[string]string, k string) bool { _, ok := m[k]; return ok },
		"add":         func(a, b int) int { return a + b },
		"isNaN":       math.IsNaN,
		"statusBadge": statusBadge,
		"list":        func(s ...string) []string { return s },
		// sub is the time between two moments (the first a *time.Time).
		"sub":   func(a *time.Time, b time.Time) time.Duration { return a.Sub(b) },
		"sub1":  func(a, b time.Time) time.Duration { return a.Sub(b) },
		"since": func(now, t time.Time) time.Duration { return now.Sub(t) },
		"kindLetter": func(kind string) string {
			if l, ok := kindLetters[kind]; ok {
				return l
			}
			return "?"
		},
		"shiftSpan": shiftSpan,
		"secs":      secondsText,
		"ratio":     ratioText,
		"tierName":  func(t dora.Tier) string { return tierOf(t) },
		"tableOf": func(rows []reportRow, label string, services bool) map[string]any {
			return map[string]any{"Rows": rows, "Label": label, "Services": services}
		},
		"meterOf": chart.Progress,
		"rowHTML": rowHTML,
		// krWord says why a key result has no score.
		"krWord": func(s string) string {
			switch s {
			case "no_data":
				return "no data yet"
			case "no_baseline":
				return "no baseline: last quarter has no data"
			case "unavailable":
				return "not measured on this server"
			}
			return strings.ReplaceAll(s, "_", " ")
		},
		"trendPct": func(v float64) string {
			s := chart.Format{Percent: true, Decimals: 0}.Text(v)
			if v > 0 {
				s = "+" + s
			}
			return s
		},
		"trendWord": func(t string) string {
			switch t {
			case "up":
				return "↑ up"
			case "down":
				return "↓ down"
			case "flat":
				return "→ flat"
			case "new":
				return "new"
			}
			return t
		},
		// goalState maps a toil goal's state to a badge status.
		"goalState": func(s string) string {
			switch s {
			case "on_track", "achieved":
				return "healthy"
			case "behind":
				return "warning"
			case "missed":
				return "critical"
			}
			return s
		},
		"envs":  environments,
		"deref": func(p *float64) float64 { return *p },
		"short": func(sha string) string {
			if len(sha) > 8 {
				return sha[:8]
			}
			return sha
		},
		"tierWord": tierWord,
		"statusWord": func(s string) string {
			if w, ok := statusWord[s]; ok {
				return w
			}
			return strings.ReplaceAll(s, "_", " ")
		},
	}
}

// shiftSpan prints the part of a shift inside the day starting at day:
// "all day", "from 09:00", "until 17:00" or "09:00–17:00" (UTC).
func shiftSpan(sh oncall.Shift, day time.Time) string {
	end := day.AddDate(0, 0, 1)
	starts, ends := sh.Start.After(day), sh.End.Before(end)
	switch {
	case starts && ends:
		return sh.Start.UTC().Format("15:04") + "–" + sh.End.UTC().Format("15:04")
	case starts:
		return "from " + sh.Start.UTC().Format("15:04")
	case ends:
		return "until " + sh.End.UTC().Format("15:04")
	}
	return "all day"
}

// kindLetters are the letters of change kinds, as on chart markers.
var kindLetters = map[string]string{"deploy": "D", "rollback": "R", "config": "C", "migration": "M", "flag": "F", "chaos": "X", "backup": "B"}

// badgeIcon is the symbol in front of a status word, so a status never
// depends on colour alone.
var badgeIcon = map[string]string{
	"triggered": "!", "acknowledged": "◐", "resolved": "✓", "closed": "✓",
	"success": "✓", "failed": "✖", "rolled_back": "↺", "in_progress": "…",
	"pass": "✓", "fail": "✖", "block": "✖", "warn": "▲", "inconclusive": "?",
	"held": "✓", "degraded": "▲", "broken": "✖", "running": "…",
}

// statusBadge renders a status as a badge: icon, word and a class that
// colours it.
func statusBadge(s string) template.HTML {
	icon, ok := statusIcon[s]
	if !ok {
		icon = badgeIcon[s]
	}
	word, ok := statusWord[s]
	if !ok {
		word = strings.ReplaceAll(s, "_", " ")
	}
	return template.HTML(`<span class="badge st-` + template.HTMLEscapeString(s) + `"><span aria-hidden="true">` +
		icon + `</span> ` + template.HTMLEscapeString(word) + `</span>`)
}

// timeHTML is a moment as a <time> element: UTC in the text, so the page
// reads without JavaScript; the dashboard's script shows it in the
// browser's zone (or UTC, as the reader picks) with the relative time on
// hover.
func timeHTML(t time.Time) template.HTML {
	if t.IsZero() {
		return "–"
	}
	return template.HTML(`<time datetime="` + t.UTC().Format(time.RFC3339) + `">` + when(t) + `</time>`)
}

// when prints a moment in UTC, compactly ("Nov 25 14:03 UTC"); the zero
// time prints as "–".
func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("Jan 2 15:04 UTC")
}

// ago prints how long before now t was ("3 h ago", "in 20 min").
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "–"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + humanDuration(-d)
	}
	if d < time.Minute {
		return "just now"
	}
	return humanDuration(d) + " ago"
}

// queryWith returns "?"+the query of u with key set to value (removed when
// value is empty), for links that change one filter and keep the others.
func queryWith(u *url.URL, key, value string) string {
	q := u.Query()
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	if len(q) == 0 {
		return u.Path
	}
	return u.Path + "?" + q.Encode()
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func sortStrings(s []string) { sort.Strings(s) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
