package toil

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
)

// CSV formats ParseCSV reads.
const (
	FormatJira   = "jira"
	FormatLinear = "linear"
	FormatTandem = "tandem"
)

// ImportOptions tunes how tickets become entries.
type ImportOptions struct {
	// Format is jira, linear or tandem; empty detects it from the header.
	Format string
	// Label marks toil tickets (default "toil"); rows without it, or
	// without a label starting with "<Label>:", are skipped, not errors.
	Label string
	// MinutesPerPoint converts a Linear estimate (points) into minutes when
	// a ticket carries no time label (default 60).
	MinutesPerPoint int
	// Catalog resolves services and people; nil accepts names as they are.
	Catalog *catalog.Catalog
}

func (o ImportOptions) label() string {
	if o.Label == "" {
		return "toil"
	}
	return strings.ToLower(o.Label)
}

// ImportResult is what an import file holds: the good entries, every bad
// row, and how many rows were not toil tickets.
type ImportResult struct {
	Format  string     `json:"format"`
	Entries []Entry    `json:"entries"`
	Bad     []RowError `json:"bad"`
	Skipped int        `json:"skipped"`
}

// columns maps a format's header names (lowercased) to their indexes.
// Jira repeats a column once per value (Labels, Component/s), so every
// index of a name is kept.
type columns map[string][]int

func (c columns) has(name string) bool { return len(c[name]) > 0 }

// first returns the first non-empty value among the named columns.
func (c columns) first(rec []string, names ...string) string {
	for _, n := range names {
		for _, i := range c[n] {
			if i < len(rec) {
				if v := strings.TrimSpace(rec[i]); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// all returns every non-empty value of the named column, splitting Linear's
// comma-separated cells.
func (c columns) all(rec []string, name string, split bool) []string {
	var out []string
	for _, i := range c[name] {
		if i >= len(rec) {
			continue
		}
		vals := []string{rec[i]}
		if split {
			vals = strings.Split(rec[i], ",")
		}
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// ParseCSV reads a CSV export of toil tickets. Jira exports are recognised
// by an "Issue key" column, Linear exports by "ID" and "Title", tandem's own
// by "minutes" and "category". Every row that cannot become an entry is
// reported in Bad with its line; rows without the toil label are counted in
// Skipped. An error is returned only when the file as a whole is unusable
// (no header, unknown format).
//
// Columns read — Jira: Issue key, Summary, Assignee, Created, Resolved,
// Labels, Component/s, Time Spent (seconds). Linear: ID, Title, Assignee,
// Created, Completed, Labels, Project, Estimate. tandem: at, minutes,
// category, service, team, person, note, external_id.
// Labels "<label>:<category>" set the category (default "other"),
// "service:<name>" the service, "time:<duration>" (or "minutes:<n>") the
// time spent, which wins over Time Spent and Estimate.
func ParseCSV(r io.Reader, opts ImportOptions) (ImportResult, error) {
	cr := csv.NewReader(r)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return ImportResult{}, tandem.Errorf(tandem.EInvalid, "empty CSV file: want a header row")
		}
		return ImportResult{}, tandem.Errorf(tandem.EInvalid, "CSV header: %v", err)
	}
	cols := columns{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		cols[h] = append(cols[h], i)
	}
	format := opts.Format
	if format == "" {
		switch {
		case cols.has("issue key"):
			format = FormatJira
		case cols.has("id") && cols.has("title"):
			format = FormatLinear
		case cols.has("minutes") && cols.has("category"):
			format = FormatTandem
		default:
			return ImportResult{}, tandem.Errorf(tandem.EInvalid, "unknown CSV format: want a Jira export (Issue key, Summary, Labels, Time Spent…), a Linear export (ID, Title, Labels, Estimate…) or tandem columns (at, minutes, category…)")
		}
	}
	need := map[string][]string{
		FormatJira:   {"issue key", "created"},
		FormatLinear: {"id", "title", "created"},
		FormatTandem: {"at", "minutes", "category"},
	}[format]
	if need == nil {
		return ImportResult{}, tandem.FieldErrorf("format", "want jira, linear or tandem, got %q", format)
	}
	var missing []string
	for _, n := range need {
		if !cols.has(n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return ImportResult{}, tandem.Errorf(tandem.EInvalid, "%s CSV export lacks column(s): %s", format, strings.Join(missing, ", "))
	}
	res := ImportResult{Format: format, Entries: []Entry{}, Bad: []RowError{}}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Bad = append(res.Bad, RowError{Row: line, Message: "unreadable CSV: " + err.Error()})
			if len(res.Bad) > 10000 {
				break
			}
			continue
		}
		if blank(rec) {
			continue
		}
		e, skip, rerr := rowEntry(format, cols, rec, opts)
		switch {
		case skip:
			res.Skipped++
		case rerr != nil:
			rerr.Row = line
			res.Bad = append(res.Bad, *rerr)
		default:
			res.Entries = append(res.Entries, e)
		}
	}
	return res, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// rowEntry turns one record into an entry; skip means "not a toil ticket".
func rowEntry(format string, c columns, rec []string, opts ImportOptions) (Entry, bool, *RowError) {
	var e Entry
	var labels []string
	var timeSpent, estimate string
	var components []string
	switch format {
	case FormatJira:
		e.ExternalID = c.first(rec, "issue key")
		e.Note = c.first(rec, "summary")
		e.Person = c.first(rec, "assignee")
		labels = c.all(rec, "labels", false)
		components = c.all(rec, "component/s", false)
		timeSpent = c.first(rec, "time spent", "σ time spent")
		e.Source = "jira"
	case FormatLinear:
		e.ExternalID = c.first(rec, "id")
		e.Note = c.first(rec, "title")
		e.Person = c.first(rec, "assignee")
		labels = c.all(rec, "labels", true)
		components = c.all(rec, "project", false)
		estimate = c.first(rec, "estimate")
		e.Source = "linear"
	case FormatTandem:
		e.ExternalID = c.first(rec, "external_id")
		e.Note = c.first(rec, "note")
		e.Person = c.first(rec, "person")
		e.Team = c.first(rec, "team")
		e.Category = c.first(rec, "category")
		e.Service = c.first(rec, "service")
		e.Source = "csv"
		labels = []string{opts.label()}
	}
	ref := e.ExternalID
	bad := func(field, format string, args ...any) (Entry, bool, *RowError) {
		return Entry{}, false, &RowError{Ref: ref, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	lab, err := readLabels(labels, opts.label())
	if err != nil {
		return bad("labels", "%v", err)
	}
	if !lab.toil {
		return Entry{}, true, nil
	}
	if e.Category == "" {
		e.Category = lab.category
	}
	if e.Category == "" {
		e.Category = "other"
	}
	// When: resolution time, else creation.
	var whenStr, whenCol string
	switch format {
	case FormatJira:
		whenStr, whenCol = c.first(rec, "resolved", "created"), "Resolved/Created"
	case FormatLinear:
		whenStr, whenCol = c.first(rec, "completed", "created"), "Completed/Created"
	default:
		whenStr, whenCol = c.first(rec, "at"), "at"
	}
	if whenStr == "" {
		return bad(whenCol, "missing date")
	}
	at, err := parseTicketTime(whenStr)
	if err != nil {
		return bad(whenCol, "%v", err)
	}
	e.At = at
	// How long: time label, then the format's own field.
	switch {
	case lab.minutes > 0:
		e.Minutes = lab.minutes
	case format == FormatTandem:
		m, err := strconv.Atoi(c.first(rec, "minutes"))
		if err != nil {
			return bad("minutes", "want a whole number of minutes, got %q", c.first(rec, "minutes"))
		}
		e.Minutes = m
	case timeSpent != "":
		secs, err := strconv.ParseFloat(timeSpent, 64)
		if err != nil || secs < 0 {
			return bad("Time Spent", "want seconds, got %q", timeSpent)
		}
		e.Minutes = int((secs + 59) / 60)
	case estimate != "":
		pts, err := strconv.ParseFloat(estimate, 64)
		if err != nil || pts < 0 {
			return bad("Estimate", "want a number of points, got %q", estimate)
		}
		per := opts.MinutesPerPoint
		if per <= 0 {
			per = 60
		}
		e.Minutes = int(pts*float64(per) + 0.5)
	default:
		return bad("time", "no time spent: add a label time:<duration> (time:30m) or log work on the ticket")
	}
	// Which service: a service: label, else a component/project naming one.
	if lab.service != "" {
		e.Service = lab.service
	}
	if opts.Catalog != nil {
		if e.Service != "" {
			if _, ok := opts.Catalog.Service(e.Service); !ok {
				msg := fmt.Sprintf("unknown service %q", e.Service)
				if cl := catalog.Closest(e.Service, opts.Catalog.ServiceNames(), 3); len(cl) > 0 {
					msg += "; close names: " + strings.Join(cl, ", ")
				}
				return bad("service", "%s", msg)
			}
		} else {
			for _, comp := range components {
				if _, ok := opts.Catalog.Service(comp); ok {
					e.Service = comp
					break
				}
			}
		}
		e.Person = ResolvePerson(opts.Catalog, e.Person)
		FillTeam(opts.Catalog, &e)
	}
	if err := e.Validate(); err != nil {
		var te *tandem.Error
		if errors.As(err, &te) {
			return bad(te.Field, "%s", te.Message)
		}
		return bad("", "%v", err)
	}
	return e, false, nil
}

type labelInfo struct {
	toil     bool
	category string
	service  string
	minutes  int
}

func readLabels(labels []string, toilLabel string) (labelInfo, error) {
	var li labelInfo
	for _, l := range labels {
		low := strings.ToLower(strings.TrimSpace(l))
		name, val, hasVal := strings.Cut(low, ":")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		switch {
		case low == toilLabel:
			li.toil = true
		case hasVal && name == toilLabel:
			li.toil = true
			li.category = NormalizeCategory(val)
		case hasVal && name == "service":
			li.service = val
		case hasVal && (name == "time" || name == "minutes"):
			var d time.Duration
			var err error
			if name == "minutes" {
				var m int
				m, err = strconv.Atoi(val)
				d = time.Duration(m) * time.Minute
			} else {
				d, err = tandem.ParseDuration(val)
			}
			if err != nil || d < time.Minute {
				return li, fmt.Errorf("label %q: want time:<duration> such as time:30m or time:2h", l)
			}
			li.minutes = int(d / time.Minute)
		}
	}
	return li, nil
}

// ticketTimeLayouts are the date formats Jira and Linear export with their
// default settings, and ISO forms.
var ticketTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"02/Jan/06 3:04 PM",
	"02/Jan/06 15:04",
	"2/Jan/06 3:04 PM",
	"02/Jan/2006 3:04 PM",
	"Mon Jan 02 2006 15:04:05 GMT-0700 (MST)",
	"1/2/2006 15:04",
	"1/2/2006 3:04 PM",
}

// parseTicketTime reads a ticket date; times without a zone are UTC.
func parseTicketTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range ticketTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable date %q: want ISO 8601 (2026-11-25T14:00:00Z) or Jira's 25/Nov/26 2:00 PM", s)
}

// ResolvePerson maps a name as tickets show it (login, full name or email)
// to the catalog person's id; unknown names are kept as they are.
func ResolvePerson(c *catalog.Catalog, name string) string {
	if name == "" || c == nil {
		return name
	}
	if _, ok := c.Person(name); ok {
		return name
	}
	for _, p := range c.People {
		if strings.EqualFold(p.FullName, name) || (p.Email != "" && strings.EqualFold(p.Email, name)) ||
			(p.Slack != "" && strings.EqualFold(strings.TrimPrefix(p.Slack, "@"), strings.TrimPrefix(name, "@"))) {
			return p.Name
		}
	}
	return name
}

// FillTeam sets the entry's team from its service's owner, else from its
// person's team, when the entry names none.
func FillTeam(c *catalog.Catalog, e *Entry) {
	if e.Team != "" || c == nil {
		return
	}
	if s, ok := c.Service(e.Service); ok {
		e.Team = s.Team
		return
	}
	if p, ok := c.Person(e.Person); ok {
		e.Team = p.Team
	}
}
