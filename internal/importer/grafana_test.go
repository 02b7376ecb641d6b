package importer

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// An independent model of Grafana OnCall's on-call semantics, from its
// public API documentation (on_call_shifts, schedules,
// escalation_policies), applied to the export's JSON as the test reads
// it. It shares no code with the import.
//
//   - A shift's events start at start, in its time_zone (else the
//     schedule's, else UTC), and recur per RFC 5545 with frequency,
//     interval, by_day and week_start, up to until (inclusive); each lasts
//     duration seconds. Days and weeks recur on the local calendar, hours
//     as elapsed time.
//   - rolling_users hands the events of each next frequency period (an
//     hour, a day, a week; interval of them) to the next list of users,
//     from start_rotation_from_user_index.
//   - Events that end by rotation_start are not on call (the web UI's
//     rule: an event running at rotation_start is kept).
//   - At an instant an override's user is on call; else the users of every
//     event of the highest level then.
//   - An escalation chain runs its steps in order: wait waits, a notify
//     step pages at once, repeat_escalation starts over (5 times), resolve
//     ends it.

type gfRefShift struct {
	ID, Name, Type, Schedule string
	TimeZone                 *string `json:"time_zone"`
	Level                    int
	Start                    string
	RotationStart            string `json:"rotation_start"`
	Until                    string
	Duration                 int
	Frequency                string
	Interval                 *int
	WeekStart                string   `json:"week_start"`
	ByDay                    []string `json:"by_day"`
	Users                    []string
	RollingUsers             [][]string `json:"rolling_users"`
	From                     int        `json:"start_rotation_from_user_index"`
}

type gfRefEvent struct {
	start, end time.Time
	users      []string
	level      int
	override   bool
}

var gfRefDays = []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// gfRefEvents lists a shift's events that start before horizon.
func gfRefEvents(s gfRefShift, schedZone string, horizon time.Time) []gfRefEvent {
	zone := schedZone
	if s.TimeZone != nil {
		zone = *s.TimeZone
	}
	loc, _ := time.LoadLocation(zone)
	parse := func(v string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02T15:04:05", v, loc)
		return t
	}
	dtstart := parse(s.Start)
	d := time.Duration(s.Duration) * time.Second
	users := func(frame int) []string {
		if s.Type != "rolling_users" {
			return s.Users
		}
		n := len(s.RollingUsers)
		return s.RollingUsers[(s.From+frame)%n]
	}
	if s.Frequency == "" {
		return []gfRefEvent{{dtstart, dtstart.Add(d), users(0), s.Level, s.Type == "override"}}
	}
	interval := 1
	if s.Interval != nil {
		interval = *s.Interval
	}
	var until time.Time
	if s.Until != "" {
		until = parse(s.Until)
	}
	wkst := slices.Index(gfRefDays, s.WeekStart)
	if wkst < 0 {
		wkst = 0
	}
	// weekIndex counts weeks (starting on wkst) from dtstart's week.
	weekOf := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day()-(int(t.Weekday())-wkst+7)%7, 0, 0, 0, 0, loc)
	}
	daysBetween := func(a, b time.Time) int {
		return int(time.Date(b.Year(), b.Month(), b.Day(), 12, 0, 0, 0, time.UTC).Sub(time.Date(a.Year(), a.Month(), a.Day(), 12, 0, 0, 0, time.UTC)).Hours() / 24)
	}
	var out []gfRefEvent
	add := func(o time.Time, frame int) {
		if o.Before(dtstart) || (!until.IsZero() && o.After(until)) {
			return
		}
		out = append(out, gfRefEvent{o, o.Add(d), users(frame), s.Level, false})
	}
	h, m, sec := dtstart.Clock()
	for i := 0; ; i++ {
		switch s.Frequency {
		case "hourly":
			o := dtstart.Add(time.Duration(i*interval) * time.Hour)
			if o.After(horizon) {
				return out
			}
			add(o, i)
		case "daily":
			o := time.Date(dtstart.Year(), dtstart.Month(), dtstart.Day()+i*interval, h, m, sec, 0, loc)
			if o.After(horizon) {
				return out
			}
			if len(s.ByDay) == 0 || slices.Contains(s.ByDay, gfRefDays[o.Weekday()]) {
				add(o, i)
			}
		case "weekly":
			w := weekOf(dtstart).AddDate(0, 0, 7*i*interval)
			if w.After(horizon) {
				return out
			}
			days := s.ByDay
			if len(days) == 0 {
				days = []string{gfRefDays[dtstart.Weekday()]}
			}
			for k := range 7 {
				day := w.AddDate(0, 0, k)
				if slices.Contains(days, gfRefDays[day.Weekday()]) {
					add(time.Date(day.Year(), day.Month(), day.Day(), h, m, sec, 0, loc), daysBetween(weekOf(dtstart), w)/7/interval)
				}
			}
		default:
			return out
		}
	}
}

// gfRefOnCall returns who is on call in the schedule at t, sorted.
func gfRefOnCall(events []gfRefEvent, t time.Time) []string {
	set := map[string]bool{}
	top := -1 << 31
	for _, e := range events {
		if t.Before(e.start) || !t.Before(e.end) {
			continue
		}
		level := e.level
		if e.override {
			level = 1 << 30
		}
		if level > top {
			top, set = level, map[string]bool{}
		}
		if level == top {
			for _, u := range e.users {
				set[u] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func TestGrafanaOnCallEquivalence(t *testing.T) {
	files := fixtures(t, "testdata/grafana-oncall", "*.json")
	r, err := GrafanaOnCall(files, NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	var shifts struct{ Results []gfRefShift }
	var scheds struct {
		Results []struct {
			ID       string
			TimeZone string `json:"time_zone"`
		}
	}
	var users struct{ Results []struct{ ID, Email string } }
	for name, v := range map[string]any{"on_call_shifts.json": &shifts, "schedules.json": &scheds, "users.json": &users} {
		if err := json.Unmarshal(files[name], v); err != nil {
			t.Fatal(err)
		}
	}
	email := map[string]string{} // OnCall user id → email
	for _, u := range users.Results {
		email[u.ID] = u.Email
	}
	personEmail := map[string]string{} // tandem person → email
	for _, p := range r.People {
		personEmail[p.Name] = p.Email
	}
	w := warnings(r)
	// Shifts the import leaves out, each with a warning: a monthly event, a
	// recurrent event of two users, a turn of two users, a daily rotation
	// over some weekdays (OnCall rotates over the listed days only).
	skip := map[string]string{"MONTHLY": "results[7].by_month", "PAIR": "results[8].users", "PAIRROT": "results[9].rolling_users[0]", "WEEKDAYS": "results[10].by_day"}
	for _, p := range skip {
		if !strings.Contains(w, "on_call_shifts.json: "+p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	horizon := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		id, name string
		at       []time.Time
	}{
		{"S1", "demo-schedule-calendar", instants(time.Date(2026, 3, 2, 0, 0, 0, 0, berlin),
			time.Date(2026, 3, 2, 8, 59, 0, 0, berlin), time.Date(2026, 3, 2, 9, 0, 0, 0, berlin), // weekly handoff (Tokyo until 09:00 CET)
			time.Date(2026, 3, 4, 16, 0, 0, 0, berlin), time.Date(2026, 3, 4, 18, 59, 0, 0, berlin), time.Date(2026, 3, 5, 16, 0, 0, 0, berlin), // evenings
			time.Date(2026, 3, 21, 20, 0, 0, 0, berlin), time.Date(2026, 3, 22, 19, 59, 0, 0, berlin), time.Date(2026, 3, 22, 20, 0, 0, 0, berlin), // override
			time.Date(2026, 3, 29, 1, 59, 0, 0, berlin), time.Date(2026, 3, 29, 3, 0, 0, 0, berlin), // DST
			time.Date(2026, 3, 30, 7, 30, 0, 0, berlin), time.Date(2026, 3, 30, 9, 30, 0, 0, berlin), time.Date(2026, 3, 30, 10, 0, 0, 0, berlin), // Tokyo after DST
			time.Date(2026, 4, 8, 10, 0, 0, 0, berlin), time.Date(2026, 4, 8, 13, 59, 0, 0, berlin), time.Date(2026, 4, 8, 14, 0, 0, 0, berlin), // single event
			time.Date(2026, 4, 13, 5, 59, 0, 0, berlin), time.Date(2026, 4, 13, 6, 0, 0, 0, berlin), time.Date(2026, 4, 13, 23, 59, 0, 0, berlin), time.Date(2026, 4, 14, 0, 0, 0, 0, berlin), // hourly until
		)},
		{"S3", "web-schedule", instants(time.Date(2026, 3, 2, 0, 0, 0, 0, ny),
			time.Date(2026, 3, 2, 9, 0, 0, 0, ny), time.Date(2026, 3, 6, 16, 59, 0, 0, ny), time.Date(2026, 3, 9, 9, 0, 0, 0, ny), // business weeks
			time.Date(2026, 3, 8, 1, 59, 0, 0, ny), time.Date(2026, 3, 8, 3, 0, 0, 0, ny), time.Date(2026, 3, 8, 9, 30, 0, 0, ny), // DST, night ends 15 h later
			time.Date(2026, 3, 16, 8, 59, 0, 0, ny), time.Date(2026, 3, 16, 17, 59, 0, 0, ny), time.Date(2026, 3, 16, 18, 0, 0, 0, ny), time.Date(2026, 3, 16, 20, 0, 0, 0, ny), // the rotation changed
			time.Date(2026, 3, 19, 20, 0, 0, 0, ny), time.Date(2026, 3, 21, 7, 59, 0, 0, ny), time.Date(2026, 3, 21, 8, 0, 0, 0, ny), // override
		)},
	} {
		zone := ""
		for _, s := range scheds.Results {
			if s.ID == c.id {
				zone = s.TimeZone
			}
		}
		var events []gfRefEvent
		for _, s := range shifts.Results {
			if s.Schedule != c.id || skip[s.ID] != "" {
				continue
			}
			for _, e := range gfRefEvents(s, zone, horizon) {
				if s.RotationStart != "" && s.Frequency != "" {
					loc := e.start.Location()
					if rs, _ := time.ParseInLocation("2006-01-02T15:04:05", s.RotationStart, loc); !e.end.After(rs) {
						continue
					}
				}
				events = append(events, e)
			}
		}
		sched := schedule(t, cfg, c.name)
		for _, ti := range c.at {
			var want []string
			for _, u := range gfRefOnCall(events, ti) {
				want = append(want, email[u])
			}
			got := ""
			if who := sched.Who(ti); len(who) > 0 {
				got = personEmail[who[0]]
			}
			if len(want) > 1 || got != strings.Join(want, "") {
				t.Errorf("%s at %s: tandem %q, OnCall %q", c.name, ti.Format(time.RFC3339), got, want)
			}
		}
	}

	// Escalation chains: the pages OnCall sends when nobody acknowledges,
	// simulated from the steps, at whole minutes (tandem's unit; a page
	// is never earlier than OnCall's), against tandem's plan.
	var steps struct {
		Results []struct {
			Chain     string `json:"escalation_chain_id"`
			Position  int
			Type      string
			Duration  *int
			Persons   []string `json:"persons_to_notify"`
			Schedule  string   `json:"notify_on_call_from_schedule"`
			Important bool
		}
	}
	var chains struct{ Results []struct{ ID, Name string } }
	if err := json.Unmarshal(files["escalation_policies.json"], &steps); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(files["escalation_chains.json"], &chains); err != nil {
		t.Fatal(err)
	}
	scheduleName := map[string]string{"S1": "demo-schedule-calendar", "S3": "web-schedule"} // S2 is iCal: not imported
	person := map[string]string{}                                                           // OnCall user id → person
	for n, e := range personEmail {
		for id, e2 := range email {
			if e == e2 {
				person[id] = n
			}
		}
	}
	for _, ch := range chains.Results {
		var run []int
		for i, s := range steps.Results {
			if s.Chain == ch.ID {
				run = append(run, i)
			}
		}
		sort.Slice(run, func(a, b int) bool { return steps.Results[run[a]].Position < steps.Results[run[b]].Position })
		byMinute := map[int][]string{}
		seconds, repeats := 0, 0
	chain:
		for i := 0; i < len(run); i++ {
			s := steps.Results[run[i]]
			var ids []string
			switch s.Type {
			case "wait":
				if s.Duration == nil {
					seconds += 300
				} else {
					seconds += *s.Duration
				}
			case "notify_persons":
				for _, u := range s.Persons {
					ids = append(ids, person[u])
				}
			case "notify_on_call_from_schedule":
				if n := scheduleName[s.Schedule]; n != "" {
					ids = append(ids, n)
				}
			case "repeat_escalation":
				if repeats < 5 {
					repeats++
					i = -1
				}
			case "resolve":
				break chain
			}
			m := (seconds + 59) / 60
			for _, id := range ids {
				if !slices.Contains(byMinute[m], id) {
					byMinute[m] = append(byMinute[m], id)
				}
			}
		}
		if len(byMinute) == 0 {
			if !strings.Contains(w, fmt.Sprintf("escalation chain %q has no step tandem can page", ch.Name)) {
				t.Errorf("%s: no page and no warning", ch.Name)
			}
			continue
		}
		var want []string
		for _, m := range slices.Sorted(maps.Keys(byMinute)) {
			want = append(want, pageKey(m, byMinute[m]))
		}
		if got := pages(policy(t, cfg, ch.Name)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: tandem pages\n%v\nOnCall\n%v", ch.Name, got, want)
		}
	}
	// The default chain by hand: the schedule at once, bob 5 minutes
	// later, the webhook (not carried) 15 minutes after that, then the
	// chain again, 5 times: six passes of 20 minutes.
	if got := pages(policy(t, cfg, "default")); len(got) != 12 || got[0] != "0s demo-schedule-calendar" || got[1] != "5m0s bob" || got[11] != "1h45m0s bob" {
		t.Errorf("default pages %v", got)
	}

	for _, p := range []string{"schedules.json: results[1].ical_url_primary", "schedules.json: results[2].ical_url_overrides",
		"schedules.json: results[0].slack", "schedules.json: results[0].shifts: shift GONE", "on_call_shifts.json: results[15]: shift STRAY",
		"on_call_shifts.json: results[13].rotation_start", "on_call_shifts.json: results[5]: the source does not document how turns counted in hours",
		"escalation_policies.json: results[2].important", "escalation_policies.json: results[4].type", "escalation_policies.json: results[7].duration",
		"escalation_policies.json: results[8].type", "escalation_policies.json: results[9].type", "escalation_policies.json: results[10].type",
		"escalation_policies.json: results[11].type", "escalation_policies.json: results[12].type", "escalation_policies.json: results[13].type",
		"escalation_policies.json: results[14].type", "escalation_policies.json: results[19].type", "escalation_policies.json: results[21].notify_on_call_from_schedule",
		"users.json: results[0].role", "users.json: results[3].slack[0].user_id"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
	if strings.Contains(w, "results[6].rotation_start") || strings.Contains(w, "results[1].slack") {
		t.Errorf("a field that carries nothing is warned about:\n%s", w)
	}
	if p, _ := cfg.Catalog.Person("alex"); p.Slack != "UALEXSLACKD" || p.Team != "sre" {
		t.Errorf("alex = %+v", p)
	}
	if tm, _ := cfg.Catalog.Team("sre"); !reflect.DeepEqual(tm.Members, []string{"alex", "bob", "cara"}) {
		t.Errorf("team sre = %+v", tm)
	}
	if tm, _ := cfg.Catalog.Team("platform"); !reflect.DeepEqual(tm.Members, []string{"bob"}) {
		t.Errorf("team platform = %+v", tm)
	}
	if p, _ := cfg.Catalog.Person("bob"); p.Team != "platform" {
		t.Errorf("bob = %+v (first team listed)", p)
	}
	s := r.Summary()
	if s.Users != 4 || s.Teams != 2 || s.Schedules != 2 || s.Policies != 2 || s.Warnings != len(r.Warnings) {
		t.Errorf("summary %+v", s)
	}
}
