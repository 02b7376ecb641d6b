package importer

import (
	"cmp"
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

// An independent model of Opsgenie's on-call semantics, from its
// documentation (schedule and rotation API, "Manage on-call schedules and
// rotations", "How do escalations work in Opsgenie?"), applied to the
// export's JSON as the test reads it. It shares no code with the import.
//
//   - A rotation's turns start at startDate and last length hours, days or
//     weeks; days and weeks are counted on the schedule zone's calendar
//     (the handoff is a time of day), hours as elapsed time. Turn k belongs
//     to participants[k mod n]; a "none" participant is nobody.
//   - A rotation is on call from startDate to endDate, and only inside its
//     time restriction: time-of-day is one window a day from start to end
//     (past midnight when end is earlier); weekday-and-time-of-day one
//     window a week per restriction, from startDay to the next endDay.
//   - Everyone on call in any rotation is on call in the schedule.
//   - An override puts its user on call in place of the rotations it
//     names, or of all of them.
//   - Escalation rules page their delay after the alert; a repeat starts
//     again waitInterval minutes after the last rule, count more times.

type ogRefUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Type     string `json:"type"`
}

type ogRefRotation struct {
	ID           string      `json:"id"`
	StartDate    time.Time   `json:"startDate"`
	EndDate      *time.Time  `json:"endDate"`
	Type         string      `json:"type"`
	Length       int         `json:"length"`
	Participants []ogRefUser `json:"participants"`
	Restriction  *struct {
		Type         string        `json:"type"`
		Restriction  ogRefWindow   `json:"restriction"`
		Restrictions []ogRefWindow `json:"restrictions"`
	} `json:"timeRestriction"`
}

type ogRefWindow struct {
	StartDay  string `json:"startDay"`
	StartHour int    `json:"startHour"`
	StartMin  int    `json:"startMin"`
	EndDay    string `json:"endDay"`
	EndHour   int    `json:"endHour"`
	EndMin    int    `json:"endMin"`
}

type ogRefSchedule struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Timezone  string          `json:"timezone"`
	Rotations []ogRefRotation `json:"rotations"`
	overrides []ogRefOverride
}

type ogRefOverride struct {
	Parent    struct{ ID string } `json:"_parent"`
	User      ogRefUser           `json:"user"`
	StartDate time.Time           `json:"startDate"`
	EndDate   time.Time           `json:"endDate"`
	Rotations []struct{ ID string }
}

// ogRefLoad reads the fixture export as the model needs it.
func ogRefLoad(t *testing.T, files map[string][]byte) (map[string]*ogRefSchedule, map[string]string) {
	t.Helper()
	var scheds struct{ Data []*ogRefSchedule }
	var users struct{ Data []ogRefUser }
	if err := json.Unmarshal(files["schedules.json"], &scheds); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(files["users.json"], &users); err != nil {
		t.Fatal(err)
	}
	byID := map[string]*ogRefSchedule{}
	for _, s := range scheds.Data {
		byID[s.ID] = s
	}
	for name, b := range files {
		if !strings.HasPrefix(name, "overrides") {
			continue
		}
		var ovs struct{ Data []ogRefOverride }
		if err := json.Unmarshal(b, &ovs); err != nil {
			t.Fatal(err)
		}
		for _, o := range ovs.Data {
			if s := byID[o.Parent.ID]; s != nil {
				s.overrides = append(s.overrides, o)
			}
		}
	}
	emails := map[string]string{} // id or username → username
	for _, u := range users.Data {
		emails[u.ID], emails[u.Username] = u.Username, u.Username
	}
	return byID, emails
}

var ogRefDays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// ogRefOnCall returns the usernames on call in a rotation at t ("" for
// nobody).
func ogRefOnCall(r ogRefRotation, loc *time.Location, emails map[string]string, t time.Time) string {
	if t.Before(r.StartDate) || (r.EndDate != nil && !t.Before(*r.EndDate)) {
		return ""
	}
	length := max(r.Length, 1)
	// Walk the turns from startDate: AddDate keeps the local time of day.
	k, turn := 0, r.StartDate.In(loc)
	next := func(at time.Time) time.Time {
		switch r.Type {
		case "hourly":
			return at.Add(time.Duration(length) * time.Hour)
		case "daily":
			return at.AddDate(0, 0, length)
		}
		return at.AddDate(0, 0, 7*length)
	}
	for !next(turn).After(t) {
		turn, k = next(turn), k+1
	}
	if r.Restriction != nil && !ogRefInWindow(r, loc, t) {
		return ""
	}
	p := r.Participants[k%len(r.Participants)]
	if p.Type == "none" {
		return ""
	}
	if p.ID != "" {
		return emails[p.ID]
	}
	return emails[p.Username]
}

func ogRefInWindow(r ogRefRotation, loc *time.Location, t time.Time) bool {
	lt := t.In(loc)
	for back := 0; back <= 7; back++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()-back, 0, 0, 0, 0, loc)
		at := func(dayOffset, h, m int) time.Time {
			return time.Date(day.Year(), day.Month(), day.Day()+dayOffset, h, m, 0, 0, loc)
		}
		if r.Restriction.Type == "time-of-day" {
			w := r.Restriction.Restriction
			open, end := at(0, w.StartHour, w.StartMin), at(0, w.EndHour, w.EndMin)
			if !end.After(open) {
				end = at(1, w.EndHour, w.EndMin)
			}
			if !t.Before(open) && t.Before(end) {
				return true
			}
			continue
		}
		for _, w := range r.Restriction.Restrictions {
			if ogRefDays[day.Weekday()] != w.StartDay {
				continue
			}
			open := at(0, w.StartHour, w.StartMin)
			days := (slices.Index(ogRefDays, w.EndDay) - int(day.Weekday()) + 7) % 7
			end := at(days, w.EndHour, w.EndMin)
			if !end.After(open) {
				end = at(days+7, w.EndHour, w.EndMin)
			}
			if !t.Before(open) && t.Before(end) {
				return true
			}
		}
	}
	return false
}

// ogRefSchedOnCall returns who is on call in the schedule at t, sorted,
// leaving out the rotations in skip.
func ogRefSchedOnCall(s *ogRefSchedule, emails map[string]string, skip []string, t time.Time) []string {
	zone := s.Timezone
	if zone == "" {
		zone = "America/New_York"
	}
	loc, _ := time.LoadLocation(zone)
	set := map[string]bool{}
	for _, r := range s.Rotations {
		if slices.Contains(skip, r.ID) {
			continue
		}
		who := ogRefOnCall(r, loc, emails, t)
		for _, o := range s.overrides {
			if t.Before(o.StartDate) || !t.Before(o.EndDate) {
				continue
			}
			named := len(o.Rotations) == 0
			for _, or := range o.Rotations {
				named = named || or.ID == r.ID
			}
			if named {
				who = cmp.Or(emails[o.User.ID], emails[o.User.Username])
			}
		}
		if who != "" {
			set[who] = true
		}
	}
	var out []string
	for u := range set {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

func TestOpsgenieEquivalence(t *testing.T) {
	files := fixtures(t, "testdata/opsgenie", "*.json")
	r, err := Opsgenie(files, NewNamer(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, r)
	scheds, emails := ogRefLoad(t, files)
	email := map[string]string{} // tandem person → username
	for _, p := range r.People {
		email[p.Name] = p.Email
	}
	w := warnings(r)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		id, name string
		// skip: rotations the import leaves out, each with a warning at
		// its path.
		skip []string
		// exact: Opsgenie never has two people on call (else tandem must
		// name one of them, and a warning must say why).
		exact bool
		at    []time.Time
	}{
		{id: "s-1", name: "ops_schedule", exact: true, at: instants(time.Date(2026, 3, 2, 0, 0, 0, 0, berlin),
			time.Date(2026, 3, 2, 8, 59, 0, 0, berlin), time.Date(2026, 3, 2, 9, 0, 0, 0, berlin), // business hours open
			time.Date(2026, 3, 6, 16, 59, 0, 0, berlin), time.Date(2026, 3, 6, 17, 0, 0, 0, berlin), // off hours, weekend
			time.Date(2026, 3, 21, 12, 0, 0, 0, berlin), time.Date(2026, 3, 22, 6, 59, 0, 0, berlin), time.Date(2026, 3, 22, 7, 0, 0, 0, berlin), // override
			time.Date(2026, 3, 29, 1, 59, 0, 0, berlin), time.Date(2026, 3, 29, 3, 0, 0, 0, berlin), // DST starts
			time.Date(2026, 3, 30, 8, 59, 0, 0, berlin), time.Date(2026, 3, 30, 9, 0, 0, 0, berlin), // the weekend window ends on the wall clock
			time.Date(2026, 3, 31, 16, 59, 0, 0, berlin), time.Date(2026, 3, 31, 17, 0, 0, 0, berlin), // after DST
		)},
		{id: "s-2", name: "us_nights", exact: true, at: instants(time.Date(2026, 3, 1, 0, 0, 0, 0, ny),
			time.Date(2026, 3, 2, 22, 0, 0, 0, ny), time.Date(2026, 3, 3, 5, 59, 0, 0, ny),
			time.Date(2026, 3, 8, 1, 59, 0, 0, ny), time.Date(2026, 3, 8, 3, 0, 0, 0, ny), // DST starts inside the weekend window
			time.Date(2026, 3, 9, 7, 59, 0, 0, ny), time.Date(2026, 3, 9, 8, 0, 0, 0, ny), // which ends at 08:00 on the wall clock
			time.Date(2026, 3, 9, 22, 30, 0, 0, ny), time.Date(2026, 3, 10, 8, 30, 0, 0, ny), // 12-hour turns after DST
			time.Date(2026, 3, 12, 12, 0, 0, 0, ny), time.Date(2026, 3, 13, 6, 29, 0, 0, ny), time.Date(2026, 3, 13, 8, 0, 0, 0, ny), // override
			time.Date(2026, 3, 20, 6, 29, 0, 0, ny), time.Date(2026, 4, 20, 7, 59, 0, 0, ny), time.Date(2026, 4, 20, 22, 0, 0, 0, ny),
		)},
		{id: "s-3", name: "shadow", skip: []string{"r-7", "r-8", "r-9"}, at: instants(time.Date(2026, 3, 2, 0, 0, 0, 0, ny),
			time.Date(2026, 3, 2, 18, 15, 0, 0, ny), time.Date(2026, 3, 8, 3, 0, 0, 0, ny), time.Date(2026, 4, 10, 12, 0, 0, 0, ny),
		)},
	} {
		s := scheds[c.id]
		sched := schedule(t, cfg, c.name)
		for _, ti := range c.at {
			want := ogRefSchedOnCall(s, emails, c.skip, ti)
			got := ""
			if who := sched.Who(ti); len(who) > 0 {
				got = email[who[0]]
			}
			switch {
			case len(want) <= 1 && got != strings.Join(want, ""):
				t.Errorf("%s at %s: tandem %q, Opsgenie %q", c.name, ti.Format(time.RFC3339), got, want)
			case len(want) > 1 && (c.exact || !slices.Contains(want, got)):
				t.Errorf("%s at %s: tandem %q, Opsgenie notifies all of %q", c.name, ti.Format(time.RFC3339), got, want)
			}
		}
	}
	for _, p := range []string{"data[2].rotations: rotations primary and shadow are both on call", "data[2].rotations[2].participants[0].type",
		"data[2].rotations[3].participants[1].type", "data[2].rotations[4].participants[0].type", "overrides-s3.json: data[0].rotations"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}

	// Escalations: the pages Opsgenie sends when nobody acknowledges,
	// computed from the rules as Opsgenie documents them, against tandem's
	// plan for the imported policy. Rules tandem cannot page (a notify
	// type other than default, a team) are warned about and left out of
	// both; a first page after minute 0 moves to 0 with a warning.
	var escs struct {
		Data []struct {
			Name  string
			Rules []struct {
				NotifyType string
				Delay      struct {
					TimeAmount int
					TimeUnit   string
				}
				Recipient struct{ ID, Name, Username, Type string }
			}
			Repeat *struct{ WaitInterval, Count int }
		}
	}
	if err := json.Unmarshal(files["escalations.json"], &escs); err != nil {
		t.Fatal(err)
	}
	scheduleName := map[string]string{"s-1": "ops_schedule", "ops_schedule": "ops_schedule", "s-2": "us_nights", "us_nights": "us_nights", "s-3": "shadow"}
	person := map[string]string{} // username → tandem person
	for n, e := range email {
		person[e] = n
	}
	for _, e := range escs.Data {
		minutes := func(amount int, unit string) (int, bool) {
			switch unit {
			case "", "minutes":
				return amount, true
			case "hours":
				return 60 * amount, true
			case "days":
				return 24 * 60 * amount, true
			}
			return 0, false // not a documented unit: the rule is left out
		}
		var pass []struct {
			at int
			id string
		}
		last := 0
		for _, ru := range e.Rules {
			m, ok := minutes(ru.Delay.TimeAmount, ru.Delay.TimeUnit)
			if !ok {
				continue
			}
			last = max(last, m)
			rc := ru.Recipient
			switch {
			case ru.NotifyType != "default":
			case rc.Type == "user":
				pass = append(pass, struct {
					at int
					id string
				}{m, person[cmp.Or(emails[rc.ID], emails[rc.Username])]})
			case rc.Type == "schedule":
				pass = append(pass, struct {
					at int
					id string
				}{m, cmp.Or(scheduleName[rc.ID], scheduleName[rc.Name])})
			}
		}
		count, wait := 0, 0
		if e.Repeat != nil {
			count, wait = e.Repeat.Count, e.Repeat.WaitInterval
		}
		byMinute := map[int][]string{}
		for k := 0; k <= count; k++ {
			for _, p := range pass {
				at := k*(last+wait) + p.at
				if !slices.Contains(byMinute[at], p.id) {
					byMinute[at] = append(byMinute[at], p.id)
				}
			}
		}
		minutesOrdered := slices.Sorted(maps.Keys(byMinute))
		lead := minutesOrdered[0]
		var want []string
		for _, m := range minutesOrdered {
			want = append(want, pageKey(m-lead, byMinute[m]))
		}
		var got []string
		for _, p := range cfg.Oncall.Policies {
			if p.Name == e.Name {
				got = pages(p)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: tandem pages\n%v\nOpsgenie\n%v", e.Name, got, want)
		}
		if lead > 0 && !strings.Contains(w, fmt.Sprintf("comes %d minutes earlier", lead)) {
			t.Errorf("%s: no warning that pages come %d minutes earlier", e.Name, lead)
		}
	}
	// ops_escalation by hand: passes every 60 + 10 minutes: the schedule
	// at 0, 70, 140; Bob and Alice 5 minutes later; the US nights at 60,
	// 130, 200.
	if got := pages(policy(t, cfg, "ops_escalation")); len(got) != 9 || got[2] != "1h0m0s us_nights" || got[8] != "3h20m0s us_nights" {
		t.Errorf("ops_escalation pages %v", got)
	}
	s := r.Summary()
	if s.Users != 4 || s.Teams != 1 || s.Schedules != 3 || s.Policies != 3 || s.Warnings != len(r.Warnings) {
		t.Errorf("summary %+v", s)
	}
	for _, p := range []string{"escalations.json: data[0].rules[3].notifyType", "escalations.json: data[0].rules[4].recipient.type",
		"escalations.json: data[0].rules[2].condition", "escalations.json: data[0].repeat.resetRecipientStates",
		"escalations.json: data[0].repeat.closeAlertAfterAll", "escalations.json: data[2].rules[7].delay.timeUnit",
		"users.json: data[1].skypeUsername", "users.json: data[1].role.name", "users.json: data[2].userContacts",
		"users.json: data[3].timeZone", "teams.json: data.members[2]", "schedules.json: data[1].enabled", "overrides-s3.json: data[1]"} {
		if !strings.Contains(w, p) {
			t.Errorf("no warning for %s:\n%s", p, w)
		}
	}
	if strings.Contains(w, "userAddress") || strings.Contains(w, "data[0].details") {
		t.Errorf("an empty userAddress or details is warned about:\n%s", w)
	}
	if p, _ := cfg.Catalog.Person("alice"); p.Team != "ops_team" || p.TimeZone != "Europe/Berlin" {
		t.Errorf("alice = %+v", p)
	}
}
