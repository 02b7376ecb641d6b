// Package toil records toil — manual, repetitive operational work — and
// reports on it: hours by category, team, service or person, the trend
// against the previous period, the share of on-call time it ate, and
// progress against reduction goals.
//
// Entries come from `tandem toil log`, the API, CSV exports of Jira or
// Linear tickets labelled toil (ParseCSV) and GitHub issues labelled toil
// (GitHub.FetchIssues). Report and EvaluateGoal are pure: they take entries
// and times and read no clock.
package toil

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// Entry is one piece of toil: who spent how many minutes on what, when.
type Entry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Minutes  int       `json:"minutes"`
	Category string    `json:"category"`
	Service  string    `json:"service,omitempty"`
	Team     string    `json:"team,omitempty"`
	Person   string    `json:"person,omitempty"`
	Note     string    `json:"note,omitempty"`
	// Source says where the entry came from: manual, jira, linear, github.
	Source string `json:"source"`
	// ExternalID is the ticket key in Source (PROJ-12, ENG-4, owner/repo#7);
	// an import of the same ticket twice records it once.
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// MaxMinutes bounds one entry: a week of work is already a project, not a
// toil ticket.
const MaxMinutes = 7 * 24 * 60

var categoryRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// NormalizeCategory lowercases a category and turns spaces into dashes
// ("Data Restore" is data-restore).
func NormalizeCategory(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.Fields(s), "-")
}

// Validate checks an entry's fields and normalizes its category and source.
// Problems are *tandem.Error with the field named.
func (e *Entry) Validate() error {
	if e.Minutes <= 0 {
		return tandem.FieldErrorf("minutes", "must be a positive number of minutes, got %d", e.Minutes)
	}
	if e.Minutes > MaxMinutes {
		return tandem.FieldErrorf("minutes", "at most %d (a week) per entry, got %d", MaxMinutes, e.Minutes)
	}
	e.Category = NormalizeCategory(e.Category)
	if e.Category == "" {
		return tandem.FieldErrorf("category", "required (for example restart, data-restore, cert-renewal)")
	}
	if !categoryRe.MatchString(e.Category) {
		return tandem.FieldErrorf("category", "want letters, digits, dashes, dots or underscores (at most 63), got %q", e.Category)
	}
	if e.At.IsZero() {
		return tandem.FieldErrorf("at", "required")
	}
	if e.Source == "" {
		e.Source = "manual"
	}
	if len(e.Note) > 4000 {
		return tandem.FieldErrorf("note", "at most 4000 characters")
	}
	return nil
}

// Group keys for Report.
const (
	ByNone     = ""
	ByCategory = "category"
	ByTeam     = "team"
	ByService  = "service"
	ByPerson   = "person"
)

// CheckBy returns an error naming the choices unless by is a known grouping.
func CheckBy(by string) error {
	switch by {
	case ByNone, ByCategory, ByTeam, ByService, ByPerson:
		return nil
	}
	return tandem.FieldErrorf("by", "want category, team, service or person, got %q", by)
}

// key returns the entry's group key; entries without one group as "(none)".
func (e Entry) key(by string) string {
	var k string
	switch by {
	case ByCategory:
		k = e.Category
	case ByTeam:
		k = e.Team
	case ByService:
		k = e.Service
	case ByPerson:
		k = e.Person
	default:
		return "total"
	}
	if k == "" {
		return "(none)"
	}
	return k
}

// Period is a half-open time range [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Contains reports whether t is in [From, To).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// MonthPeriod returns the calendar month "2026-11" in UTC and the month
// before it.
func MonthPeriod(month string) (cur, prev Period, err error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return cur, prev, tandem.FieldErrorf("month", "want YYYY-MM, got %q", month)
	}
	cur = Period{From: t, To: t.AddDate(0, 1, 0)}
	prev = Period{From: t.AddDate(0, -1, 0), To: t}
	return cur, prev, nil
}

// SincePeriod returns [now-d, now) and the period of the same length
// before it.
func SincePeriod(d time.Duration, now time.Time) (cur, prev Period) {
	cur = Period{From: now.Add(-d), To: now}
	prev = Period{From: now.Add(-2 * d), To: now.Add(-d)}
	return cur, prev
}

// ResolvePeriod turns the report flags (--month or --since, default the
// last 30 days) into the current and previous periods.
func ResolvePeriod(month, since string, now time.Time) (cur, prev Period, err error) {
	switch {
	case month != "" && since != "":
		return cur, prev, tandem.FieldErrorf("since", "give either month or since, not both")
	case month != "":
		return MonthPeriod(month)
	case since != "":
		d, err := tandem.ParseDuration(since)
		if err != nil || d <= 0 {
			return cur, prev, tandem.FieldErrorf("since", "want a duration such as 30d or 12w, got %q", since)
		}
		cur, prev = SincePeriod(d, now)
		return cur, prev, nil
	}
	cur, prev = SincePeriod(30*24*time.Hour, now)
	return cur, prev, nil
}

// Row is one group of a report.
type Row struct {
	Key       string  `json:"key"`
	Entries   int     `json:"entries"`
	Hours     float64 `json:"hours"`
	PrevHours float64 `json:"previous_hours"`
	// Change is (Hours-PrevHours)/PrevHours; nil when the previous period
	// had none.
	Change *float64 `json:"change,omitempty"`
	// Trend is up, down, flat, or new (nothing in the previous period).
	Trend string `json:"trend"`
	// OncallHours and OncallShare are set where on-call time is known for
	// the group: hours on call in the period, and Hours/OncallHours.
	OncallHours *float64 `json:"oncall_hours,omitempty"`
	OncallShare *float64 `json:"oncall_share,omitempty"`
}

// Report is toil grouped over a period, compared with the one before.
type Report struct {
	Period   Period `json:"period"`
	Previous Period `json:"previous"`
	By       string `json:"by,omitempty"`
	Rows     []Row  `json:"rows"`
	Total    Row    `json:"total"`
}

// BuildReport groups entries falling in cur and prev by the key by (one
// "total" row when by is empty), sorted by hours descending then key.
// oncallHours maps a group key (and "total") to hours on call in cur, where
// known; for by=person it is per person, for by=team per team.
func BuildReport(entries []Entry, cur, prev Period, by string, oncallHours map[string]float64) Report {
	type acc struct {
		n          int
		cur, prevM int
	}
	groups := map[string]*acc{}
	var total acc
	get := func(k string) *acc {
		a := groups[k]
		if a == nil {
			a = &acc{}
			groups[k] = a
		}
		return a
	}
	for _, e := range entries {
		switch {
		case cur.Contains(e.At):
			a := get(e.key(by))
			a.n++
			a.cur += e.Minutes
			total.n++
			total.cur += e.Minutes
		case prev.Contains(e.At):
			get(e.key(by)).prevM += e.Minutes
			total.prevM += e.Minutes
		}
	}
	mk := func(k string, a acc) Row {
		r := Row{Key: k, Entries: a.n, Hours: round2(float64(a.cur) / 60), PrevHours: round2(float64(a.prevM) / 60)}
		switch {
		case a.prevM == 0 && a.cur == 0:
			r.Trend = "flat"
		case a.prevM == 0:
			r.Trend = "new"
		default:
			c := round4(float64(a.cur-a.prevM) / float64(a.prevM))
			r.Change = &c
			switch {
			case a.cur > a.prevM:
				r.Trend = "up"
			case a.cur < a.prevM:
				r.Trend = "down"
			default:
				r.Trend = "flat"
			}
		}
		if h, ok := oncallHours[k]; ok && h > 0 {
			hh := round2(h)
			share := round4(float64(a.cur) / 60 / h)
			r.OncallHours, r.OncallShare = &hh, &share
		}
		return r
	}
	rep := Report{Period: cur, Previous: prev, By: by, Rows: []Row{}}
	if by != ByNone {
		for k, a := range groups {
			rep.Rows = append(rep.Rows, mk(k, *a))
		}
		sortRows(rep.Rows)
	}
	rep.Total = mk("total", total)
	if by == ByNone {
		rep.Rows = append(rep.Rows, rep.Total)
	}
	return rep
}

func sortRows(rows []Row) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func less(a, b Row) bool {
	if a.Hours != b.Hours {
		return a.Hours > b.Hours
	}
	if a.PrevHours != b.PrevHours {
		return a.PrevHours > b.PrevHours
	}
	return a.Key < b.Key
}

func round2(f float64) float64 { return float64(int64(f*100+sign(f)*0.5)) / 100 }
func round4(f float64) float64 { return float64(int64(f*10000+sign(f)*0.5)) / 10000 }

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// Goal is a toil reduction goal from config: bring the hours of matching
// toil per Window from Baseline down to the target by Deadline.
type Goal struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Category, Service, Team and Person select the entries (empty: any).
	Category string `json:"category,omitempty"`
	Service  string `json:"service,omitempty"`
	Team     string `json:"team,omitempty"`
	Person   string `json:"person,omitempty"`
	// BaselineHours is the hours per Window at Start; 0 means measure them
	// from the entries in the Window before Start.
	BaselineHours float64 `json:"baseline_hours,omitempty"`
	// ReduceBy is the fraction to cut (0.8 for 80%); TargetHours, when set,
	// is the target itself and wins.
	ReduceBy    float64       `json:"reduce_by,omitempty"`
	TargetHours float64       `json:"target_hours,omitempty"`
	Window      time.Duration `json:"window"`
	Start       time.Time     `json:"start"`
	Deadline    time.Time     `json:"deadline"`
}

// Matches reports whether the entry counts towards the goal.
func (g Goal) Matches(e Entry) bool {
	return (g.Category == "" || g.Category == e.Category) &&
		(g.Service == "" || g.Service == e.Service) &&
		(g.Team == "" || g.Team == e.Team) &&
		(g.Person == "" || g.Person == e.Person)
}

// GoalStatus is a goal's progress at a moment.
type GoalStatus struct {
	Goal          Goal    `json:"goal"`
	BaselineHours float64 `json:"baseline_hours"`
	TargetHours   float64 `json:"target_hours"`
	CurrentHours  float64 `json:"current_hours"`
	// Progress is the share of the planned reduction achieved, 0..1.
	Progress float64 `json:"progress"`
	// Expected is the share of the time from Start to Deadline gone by.
	Expected float64 `json:"expected"`
	// State is on_track, behind, achieved or missed.
	State string `json:"state"`
}

// EvaluateGoal computes a goal's status at now from entries (which must
// cover [Start-Window, now)). Current hours are those of the Window ending
// at now.
func EvaluateGoal(g Goal, entries []Entry, now time.Time) GoalStatus {
	w := g.Window
	if w <= 0 {
		w = 30 * 24 * time.Hour
	}
	cur := Period{From: now.Add(-w), To: now}
	base := Period{From: g.Start.Add(-w), To: g.Start}
	var curM, baseM int
	for _, e := range entries {
		if !g.Matches(e) {
			continue
		}
		if cur.Contains(e.At) {
			curM += e.Minutes
		}
		if base.Contains(e.At) {
			baseM += e.Minutes
		}
	}
	st := GoalStatus{Goal: g, BaselineHours: g.BaselineHours, CurrentHours: round2(float64(curM) / 60)}
	if st.BaselineHours == 0 {
		st.BaselineHours = round2(float64(baseM) / 60)
	}
	st.TargetHours = g.TargetHours
	if st.TargetHours == 0 {
		st.TargetHours = round2(st.BaselineHours * (1 - g.ReduceBy))
	}
	planned := st.BaselineHours - st.TargetHours
	if planned > 0 {
		st.Progress = round4(clamp01((st.BaselineHours - st.CurrentHours) / planned))
	} else if st.CurrentHours <= st.TargetHours {
		st.Progress = 1
	}
	if span := g.Deadline.Sub(g.Start); span > 0 {
		st.Expected = round4(clamp01(float64(now.Sub(g.Start)) / float64(span)))
	}
	switch {
	case st.Progress >= 1:
		st.State = "achieved"
	case !now.Before(g.Deadline):
		st.State = "missed"
	case st.Progress >= st.Expected:
		st.State = "on_track"
	default:
		st.State = "behind"
	}
	return st
}

func clamp01(f float64) float64 {
	if f < 0 {
		return 0
	}
	if f > 1 {
		return 1
	}
	return f
}

// RowError is one bad row of an import, by its 1-based line in the file
// (the header is line 1) or its position in the source.
type RowError struct {
	Row     int    `json:"row"`
	Ref     string `json:"ref,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e RowError) String() string {
	s := fmt.Sprintf("row %d", e.Row)
	if e.Ref != "" {
		s += " (" + e.Ref + ")"
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Message
}

// ImportReport is the answer of an import through the API: what was
// recorded, or (Imported false) every bad row and nothing recorded.
type ImportReport struct {
	Format   string        `json:"format,omitempty"`
	Imported bool          `json:"imported"`
	Created  int           `json:"created"`
	Existing int           `json:"existing"`
	Skipped  int           `json:"skipped"`
	Bad      []RowError    `json:"bad"`
	Error    *tandem.Error `json:"error,omitempty"`
}
