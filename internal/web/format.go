package web

import (
	"strconv"
	"strings"
	"time"
)

// The dashboard's one formatter for durations, counts and event names, so
// the same thing reads the same on every page ("5h 25m", "1 recovery").
// Percentages and rates go through chart.Format; the script formats the
// same way in the browser.

// plural prints a count with its noun: "1 incident", "3 incidents".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// compactDuration prints a range's length the way ranges are written:
// "90d", "7d", "36h", "2d 4h", "45m".
func compactDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d " + strconv.Itoa(int(d%(24*time.Hour)/time.Hour)) + "h"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d >= time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h " + strconv.Itoa(int(d%time.Hour/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

// humanDuration prints d with its largest one or two units: "45s", "12m",
// "3h 20m", "2d 4h".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 24*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - 60*h
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return strconv.Itoa(h) + "h " + strconv.Itoa(m) + "m"
	}
	days := int(d.Hours()) / 24
	h := int(d.Hours()) - 24*days
	if h == 0 {
		return strconv.Itoa(days) + "d"
	}
	return strconv.Itoa(days) + "d " + strconv.Itoa(h) + "h"
}

// eventWords are timeline event kinds in words.
var eventWords = map[string]string{
	"alert_fired": "Alert fired", "alert_resolved": "Alert resolved", "page": "Paged", "page_failed": "Page failed",
	"escalation": "Escalated", "note": "Note", "change": "Change", "maintenance": "Maintenance window",
	"update": "Updated", "triggered": "Triggered", "acknowledged": "Acknowledged", "resolved": "Resolved",
	"closed": "Closed", "opened": "Opened", "reassign": "Reassigned", "responder": "Responder asked", "status_update": "Status update", "reopened": "Reopened",
}

// eventWord is an event kind in words: "page_failed" reads "Page failed".
func eventWord(kind string) string {
	if w, ok := eventWords[kind]; ok {
		return w
	}
	w := strings.ReplaceAll(kind, "_", " ")
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}
