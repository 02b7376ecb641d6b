package web

import (
	"net/url"
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
