package web

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/oncall"
)

// Oncall is what the dashboard needs of the on-call capability.
// *oncall.Service implements it.
type Oncall interface {
	// Directory returns schedules, policies and the stored overrides that
	// overlap [from, to).
	Directory(ctx context.Context, from, to time.Time) (*oncall.Directory, error)
}

// fillOncall sets who is on call now for each row: the people the first
// rule of the service's escalation policy pages now. False when on-call is
// not wired.
func (h *Handler) fillOncall(ctx context.Context, now time.Time, rows []overviewRow) (bool, error) {
	if h.deps.Oncall == nil {
		return false, nil
	}
	dir, err := h.deps.Oncall.Directory(ctx, now, now.Add(time.Millisecond))
	if err != nil {
		return true, err
	}
	memo := map[string][]string{}
	for i := range rows {
		p, ok := dir.PolicyForService(rows[i].Service.Name)
		if !ok || len(p.Rules) == 0 {
			continue
		}
		people, seen := memo[p.Name]
		if !seen {
			people = dir.ResolveAll(p.Rules[0].Targets, now)
			memo[p.Name] = people
		}
		rows[i].OnCall = people
	}
	return true, nil
}

// calendarDay is one column of the shift calendar.
type calendarDay struct {
	Start time.Time
	Today bool
}

// calendarCell is who is on call in one schedule on one day.
type calendarCell struct {
	Shifts []oncall.Shift
}

// calendarRow is one schedule across the calendar's days.
type calendarRow struct {
	Schedule string
	Cells    []calendarCell
}

// oncallData is the data of oncall.html.
type oncallData struct {
	base
	Current   []oncall.Current
	Days      []calendarDay
	Calendar  []calendarRow
	Overrides []oncall.Override
	Policies  []policyView
	// Maintenance and Heartbeats are nil when incidents are not wired.
	Maintenance []incident.Window
	Heartbeats  []incident.HeartbeatStatus
	Weeks       int
	Start       time.Time
	PrevStart   string
	NextStart   string
}

// policyView is an escalation policy with who each rule pages now.
type policyView struct {
	Policy   oncall.Policy
	Rules    []oncall.RuleOnCall
	Services []string
}

// oncallPage shows who is on call now and next per schedule, a calendar of
// shifts (two weeks from today by default; start= and weeks= move it),
// the overrides, the escalation policies, the maintenance windows not over
// yet and the heartbeat monitors.
func (h *Handler) oncallPage(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.Oncall == nil {
		return unavailable("on-call schedules")
	}
	q := r.URL.Query()
	weeks := 2
	if s := q.Get("weeks"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 8 {
			return tandem.FieldErrorf("weeks", "weeks must be 1 to 8, got %q", s)
		}
		weeks = n
	}
	start := b.Now.UTC().Truncate(24 * time.Hour)
	if s := q.Get("start"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return tandem.FieldErrorf("start", "start must be a date such as 2026-11-23, got %q", s)
		}
		start = t
	}
	end := start.AddDate(0, 0, 7*weeks)
	from, to := start, end
	if b.Now.Before(from) {
		from = b.Now
	}
	if lookAhead := b.Now.Add(oncall.LookAhead); lookAhead.After(to) {
		to = lookAhead
	}
	dir, err := h.deps.Oncall.Directory(r.Context(), from, to)
	if err != nil {
		return err
	}
	d := oncallData{base: b, Current: dir.Current(b.Now), Weeks: weeks, Start: start,
		PrevStart: start.AddDate(0, 0, -7*weeks).Format("2006-01-02"), NextStart: end.Format("2006-01-02")}
	d.Title = "On-call"
	today := b.Now.UTC().Truncate(24 * time.Hour)
	for day := start; day.Before(end); day = day.AddDate(0, 0, 1) {
		d.Days = append(d.Days, calendarDay{Start: day, Today: day.Equal(today)})
	}
	for _, s := range dir.Schedules() {
		row := calendarRow{Schedule: s.Name, Cells: make([]calendarCell, len(d.Days))}
		for _, sh := range s.Shifts(start, end) {
			for i, day := range d.Days {
				dayEnd := day.Start.AddDate(0, 0, 1)
				if sh.Start.Before(dayEnd) && sh.End.After(day.Start) {
					row.Cells[i].Shifts = append(row.Cells[i].Shifts, sh)
				}
			}
		}
		d.Calendar = append(d.Calendar, row)
		for _, o := range s.Overrides {
			if o.End.After(b.Now) {
				d.Overrides = append(d.Overrides, o)
			}
		}
	}
	sort.SliceStable(d.Overrides, func(i, j int) bool { return d.Overrides[i].Start.Before(d.Overrides[j].Start) })
	byPolicy := map[string][]string{}
	for _, s := range h.deps.Config.Get().Catalog.Services {
		if p, ok := dir.PolicyForService(s.Name); ok {
			byPolicy[p.Name] = append(byPolicy[p.Name], s.Name)
		}
	}
	for _, p := range dir.Policies() {
		d.Policies = append(d.Policies, policyView{Policy: p, Rules: dir.PolicyOnCall(p, b.Now), Services: byPolicy[p.Name]})
	}
	if h.deps.Incidents != nil {
		if d.Maintenance, err = h.deps.Incidents.Windows(r.Context(), b.Now); err != nil {
			return err
		}
		if d.Heartbeats, err = h.deps.Incidents.Heartbeats(r.Context(), h.deps.Config.Get().Incident.Heartbeats, b.Now); err != nil {
			return err
		}
	}
	h.render(w, http.StatusOK, "oncall.html", d)
	return nil
}

// endMaintenance ends a maintenance window now (cancels one not started)
// from the on-call page.
func (h *Handler) endMaintenance(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.deps.Incidents == nil {
		return unavailable("incidents")
	}
	id, err := pathID(r, "maintenance window")
	if err != nil {
		return err
	}
	if _, err := h.deps.Incidents.EndWindow(r.Context(), id, "web:"+v.Name); err != nil {
		return err
	}
	http.Redirect(w, r, "/oncall?done=maintenance-ended#maintenance", http.StatusSeeOther)
	return nil
}
