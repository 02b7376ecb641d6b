package web

import (
	"net/url"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// timeRange is the period a page shows, from the URL: range=7d (the last
// seven days up to now), or from= and to= (RFC 3339, a date, Unix seconds,
// or a duration ago such as 2d). Links keep it, so a view can be shared.
type timeRange struct {
	From, To time.Time
	// Range is the preset ("7d") when one is used; Custom is set for
	// from/to.
	Range  string
	Custom bool
}

// rangePresets are the ranges offered in the range picker.
var rangePresets = []string{"1h", "6h", "24h", "7d", "28d", "90d"}

// maxRange bounds what a page will read.
const maxRange = 400 * 24 * time.Hour

// parseRange reads the range from q, with def (a preset) when none is
// given. Bad values are invalid errors naming the field.
func parseRange(q url.Values, now time.Time, def string) (timeRange, error) {
	if q.Get("from") != "" || q.Get("to") != "" {
		tr := timeRange{Custom: true, To: now}
		var err error
		if s := q.Get("from"); s != "" {
			if tr.From, err = tandem.ParseTime(s, now); err != nil {
				return tr, tandem.FieldErrorf("from", "from: %v", err)
			}
		}
		if s := q.Get("to"); s != "" {
			if tr.To, err = tandem.ParseTime(s, now); err != nil {
				return tr, tandem.FieldErrorf("to", "to: %v", err)
			}
		}
		if tr.From.IsZero() {
			tr.From = tr.To.Add(-7 * 24 * time.Hour)
		}
		if !tr.To.After(tr.From) {
			return tr, tandem.FieldErrorf("from", "from must be before to")
		}
		if tr.To.Sub(tr.From) > maxRange {
			return tr, tandem.FieldErrorf("from", "the range is longer than 400 days")
		}
		return tr, nil
	}
	r := q.Get("range")
	if r == "" {
		r = def
	}
	d, err := tandem.ParseDuration(r)
	if err != nil || d <= 0 {
		return timeRange{}, tandem.FieldErrorf("range", "range must be a duration such as 24h, 7d or 28d; got %q", r)
	}
	if d < 5*time.Minute || d > maxRange {
		return timeRange{}, tandem.FieldErrorf("range", "range must be between 5m and 400d; got %q", r)
	}
	return timeRange{From: now.Add(-d), To: now, Range: r}, nil
}

// Span is the range's length.
func (tr timeRange) Span() time.Duration { return tr.To.Sub(tr.From) }

// Label describes the range for headings: "last 7d" or the two dates.
func (tr timeRange) Label() string {
	if !tr.Custom {
		return "last " + tr.Range
	}
	return when(tr.From) + " – " + when(tr.To)
}

// carriedRange is the range in the request's query as a query string
// ("range=7d" or "from=…&to=…"), for the navigation links: the range a
// person picked stays as they move between pages. It is "" when the query
// names no valid range.
func carriedRange(q url.Values, now time.Time) string {
	if q.Get("range") == "" && q.Get("from") == "" && q.Get("to") == "" {
		return ""
	}
	tr, err := parseRange(q, now, "7d")
	if err != nil {
		return ""
	}
	return tr.Query().Encode()
}

// Query is the range as URL parameters: range=7d, or from and to when
// they are custom (to left out when it is now).
func (tr timeRange) Query() url.Values {
	q := url.Values{}
	if !tr.Custom {
		q.Set("range", tr.Range)
		return q
	}
	q.Set("from", tr.From.UTC().Format(time.RFC3339))
	q.Set("to", tr.To.UTC().Format(time.RFC3339))
	return q
}

// InputFrom and InputTo are the range's ends as a datetime-local input's
// value (UTC).
func (tr timeRange) InputFrom() string { return tr.From.UTC().Format("2006-01-02T15:04") }

// InputTo is the range's end for a datetime-local input (UTC).
func (tr timeRange) InputTo() string { return tr.To.UTC().Format("2006-01-02T15:04") }

// otherParams returns the query of u without the range's own keys, for
// hidden fields of a form that sets the range and keeps the filters.
func otherParams(u *url.URL) [][2]string {
	var out [][2]string
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		switch strings.ToLower(k) {
		case "range", "from", "to", "done":
			continue
		}
		for _, v := range q[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}
