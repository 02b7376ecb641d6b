package importer

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

var ogDays = map[string]int{"monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7}

// OpsgenieExport reads the JSON a user saved from Opsgenie's REST API
// into dir, one kind per file by name: users*.json (GET /v2/users),
// teams*.json (GET /v2/teams/{id}, with members), schedules*.json (GET
// /v2/schedules?expand=rotation or /v2/schedules/{id}),
// overrides*.json (GET /v2/schedules/{id}/overrides) and
// escalations*.json (GET /v2/escalations). Each holds Opsgenie's
// {"data": …} response.
func OpsgenieExport(dir string, nm *Namer) (*Result, error) {
	files, err := readDir(dir, "*.json")
	if err != nil {
		return nil, err
	}
	return Opsgenie(files, nm)
}

// Opsgenie is OpsgenieExport on in-memory files (name → content).
func Opsgenie(files map[string][]byte, nm *Namer) (*Result, error) {
	res := &Result{Source: "opsgenie"}
	byKind, err := readExport(res, files, "data", "users", "teams", "schedules", "overrides", "escalations")
	if err != nil {
		return nil, err
	}
	users := map[string]string{} // id and username → person
	for _, u := range byKind["users"] {
		res.Users++
		email := u.str("username")
		name, existing := nm.PersonFor(email, u.str("fullName"), "user")
		users[u.str("id")], users[strings.ToLower(email)] = name, name
		tz := u.str("timeZone")
		u.ignore("role", "blocked", "verified", "createdAt", "locale", "userAddress", "tags", "details", "userContacts")
		u.done()
		if existing {
			continue
		}
		p := catalog.Person{Name: name, FullName: u.str("fullName"), Email: email}
		if tz != "" {
			if _, err := time.LoadLocation(tz); err == nil {
				p.TimeZone = tz
			} else {
				u.warn("timeZone", "%q is not an IANA zone; left out", tz)
			}
		}
		res.People = append(res.People, p)
	}
	person := func(o *obj) (string, bool) {
		id, username := o.str("id"), strings.ToLower(o.str("username"))
		if n, ok := users[id]; ok && id != "" {
			return n, true
		}
		n, ok := users[username]
		return n, ok && username != ""
	}
	teams := map[string]string{}
	for _, t := range byKind["teams"] {
		name, existing := nm.TeamFor(t.str("name"), "team")
		teams[t.str("id")] = name
		team := catalog.Team{Name: name, DisplayName: t.str("name"), Description: t.str("description")}
		for _, m := range t.objs("members") {
			u := m.sub("user")
			p, ok := person(u)
			u.done()
			m.ignore("role")
			m.done()
			if !ok {
				m.res.warn(m.where(), "member is not a user of the export; left out")
				continue
			}
			team.Members = append(team.Members, p)
		}
		t.ignore("links")
		t.done()
		if existing {
			res.warn(t.where(), "team %q is already defined in the output directory; not defined again", name)
			continue
		}
		res.Teams = append(res.Teams, team)
	}

	schedules := map[string]string{}
	schedIdx := map[string]int{}
	for _, s := range byKind["schedules"] {
		name := nm.Schedule("schedule", s.str("name"))
		out, ok := ogSchedule(s, name, person, res)
		if !ok {
			continue
		}
		schedules[s.str("id")], schedules[strings.ToLower(s.str("name"))] = name, name
		schedIdx[name] = len(res.Schedules)
		res.Schedules = append(res.Schedules, out)
	}
	for _, o := range byKind["overrides"] {
		parent := o.sub("_parent")
		pid, pname := parent.str("id"), strings.ToLower(parent.str("name"))
		sn, ok := schedules[pid]
		if !ok || pid == "" {
			sn, ok = schedules[pname]
		}
		parent.ignore("enabled")
		parent.done()
		u := o.sub("user")
		p, pok := person(u)
		u.ignore("type")
		u.done()
		st, err1 := time.Parse(time.RFC3339, o.str("startDate"))
		en, err2 := time.Parse(time.RFC3339, o.str("endDate"))
		o.ignore("alias")
		rots := o.objs("rotations")
		for _, r := range rots {
			r.ignore("id", "name")
			r.done()
		}
		o.done()
		switch {
		case !ok:
			res.warn(o.where(), "schedule of the override is not in the export; left out")
		case !pok:
			res.warn(o.where(), "user of the override is not a user of the export; left out")
		case err1 != nil || err2 != nil || !en.After(st):
			res.warn(o.where(), "startDate and endDate must be RFC 3339 times, end after start; left out")
		default:
			s := &res.Schedules[schedIdx[sn]]
			if len(rots) > 0 && len(s.Layers) > 1 {
				res.warn(o.at("rotations"), "the override is limited to some rotations in Opsgenie; tandem's overrides cover the whole schedule")
			}
			s.Overrides = append(s.Overrides, config.OverrideSpec{Person: p, Start: st.Format(time.RFC3339), End: en.Format(time.RFC3339), Reason: "Opsgenie override"})
		}
	}
	for _, e := range byKind["escalations"] {
		if p, ok := ogEscalation(e, nm, person, schedules, res); ok {
			res.Policies = append(res.Policies, p)
		}
	}
	sortWarnings(res.Warnings)
	return res, nil
}

func ogSchedule(s *obj, name string, person func(*obj) (string, bool), res *Result) (config.ScheduleSpec, bool) {
	out := config.ScheduleSpec{Name: name, Description: s.str("description"), TimeZone: s.str("timezone")}
	loc := time.UTC
	if out.TimeZone != "" {
		l, err := time.LoadLocation(out.TimeZone)
		if err != nil {
			s.warn("timezone", "%q is not an IANA zone; schedule skipped", out.TimeZone)
			return out, false
		}
		loc = l
	}
	if on, ok := s.boolean("enabled"); ok && !on {
		s.warn("enabled", "the schedule is disabled in Opsgenie; tandem has no disabled schedules, it is imported active")
	}
	s.ignore("id", "name", "ownerTeam")
	type span struct {
		layer       config.LayerSpec
		start, end  time.Time
		restriction []config.RestrictionSpec
	}
	var layers []span
	for ri, r := range s.objs("rotations") {
		lname := Sanitize(r.str("name"))
		if lname == "" {
			lname = fmt.Sprintf("rotation-%d", ri+1)
		}
		r.ignore("id")
		length, _ := r.integer("length")
		if length <= 0 {
			length = 1
		}
		var rot string
		switch typ := r.str("type"); typ {
		case "daily":
			rot = oncall.Rotation{Days: length}.String()
		case "weekly":
			rot = oncall.Rotation{Days: 7 * length}.String()
		case "hourly":
			rot = oncall.Rotation{Hours: length}.String()
		default:
			r.warn("type", "rotation type %q not imported (daily, weekly or hourly); rotation left out", typ)
			r.ignoreRest()
			continue
		}
		start, err := time.Parse(time.RFC3339, r.str("startDate"))
		if err != nil {
			r.warn("startDate", "expected an RFC 3339 time; rotation left out")
			r.ignoreRest()
			continue
		}
		var end time.Time
		if e := r.str("endDate"); e != "" {
			if end, err = time.Parse(time.RFC3339, e); err != nil {
				r.warn("endDate", "expected an RFC 3339 time; rotation left out")
				r.ignoreRest()
				continue
			}
		}
		var users []string
		ok := true
		for _, p := range r.objs("participants") {
			typ := p.str("type")
			if typ != "user" {
				p.warn("type", "participant type %q not imported: tandem rotations take turns between people; rotation left out", typ)
				ok = false
			} else if n, found := person(p); found {
				users = append(users, n)
			} else {
				p.res.warn(p.where(), "participant is not a user of the export; rotation left out")
				ok = false
			}
			p.ignore("name")
			p.done()
		}
		var restr []config.RestrictionSpec
		if r.has("timeRestriction") {
			tr := r.sub("timeRestriction")
			switch tr.str("type") {
			case "time-of-day":
				rs := tr.sub("restriction")
				st, en := ogClock(rs, "startHour", "startMin"), ogClock(rs, "endHour", "endMin")
				rs.done()
				d := (en - st + 24*60) % (24 * 60)
				if d == 0 {
					d = 24 * 60
				}
				restr = append(restr, config.RestrictionSpec{Type: oncall.DailyRestriction, StartTimeOfDay: hhmm(st), DurationSeconds: d * 60})
			case "weekday-and-time-of-day":
				for _, rs := range tr.objs("restrictions") {
					sd, ed := ogDays[strings.ToLower(rs.str("startDay"))], ogDays[strings.ToLower(rs.str("endDay"))]
					if sd == 0 || ed == 0 {
						rs.warn("startDay", "expected monday…sunday; restriction unreadable, rotation left out")
						ok = false
						continue
					}
					st := (sd-1)*24*60 + ogClock(rs, "startHour", "startMin")
					en := (ed-1)*24*60 + ogClock(rs, "endHour", "endMin")
					rs.done()
					d := (en - st + 7*24*60) % (7 * 24 * 60)
					if d == 0 {
						d = 7 * 24 * 60
					}
					restr = append(restr, config.RestrictionSpec{Type: oncall.WeeklyRestriction, StartDayOfWeek: fmt.Sprint(sd), StartTimeOfDay: hhmm(st % (24 * 60)), DurationSeconds: d * 60})
				}
			default:
				tr.warn("type", "time restriction %q not imported; rotation left out", tr.str("type"))
				ok = false
			}
			tr.done()
		}
		r.done()
		if !ok || len(users) == 0 {
			if ok {
				res.warn(r.where(), "rotation has no participants; left out")
			}
			continue
		}
		l, lok := pdLayerAt(lname, users, rot, start, loc, !strings.HasSuffix(rot, "h"), restr, r.where(), res)
		if !lok {
			continue
		}
		if !end.IsZero() {
			l.End = end.Format(time.RFC3339)
		}
		layers = append(layers, span{l, start, end, restr})
	}
	s.done()
	if len(layers) == 0 {
		res.warn(s.where(), "schedule has no rotation tandem can express; not imported")
		return out, false
	}
	// Opsgenie notifies the on-call people of every rotation at once;
	// tandem pages one person per schedule (the later layer). Say where
	// rotations can be on call together.
	for i := range layers {
		for j := i + 1; j < len(layers); j++ {
			if at, ok := overlap(layers[i].layer, layers[j].layer, loc); ok {
				res.warn(fmt.Sprintf("%s.rotations", s.where()), "rotations %s and %s are both on call at %s: Opsgenie notifies both, tandem pages only %s (the later one)",
					layers[i].layer.Name, layers[j].layer.Name, at.Format(time.RFC3339), layers[j].layer.Name)
			}
		}
	}
	for _, l := range layers {
		out.Layers = append(out.Layers, l.layer)
	}
	return out, true
}

// overlap finds an instant, within two weeks after both layers start, at
// which both are on call, sampling every 15 minutes (Opsgenie restricts
// to half hours).
func overlap(a, b config.LayerSpec, loc *time.Location) (time.Time, bool) {
	la, err1 := buildLayer(a, loc)
	lb, err2 := buildLayer(b, loc)
	if err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	from := la.Start
	if lb.Start.After(from) {
		from = lb.Start
	}
	for t := from; t.Before(from.Add(14 * 24 * time.Hour)); t = t.Add(15 * time.Minute) {
		if la.Who(t) != "" && lb.Who(t) != "" {
			return t, true
		}
	}
	return time.Time{}, false
}

// buildLayer turns an output layer back into tandem's model, for checks.
func buildLayer(l config.LayerSpec, loc *time.Location) (*oncall.Layer, error) {
	if l.TimeZone != "" {
		z, err := time.LoadLocation(l.TimeZone)
		if err != nil {
			return nil, err
		}
		loc = z
	}
	rot, err := oncall.ParseRotation(l.Rotation)
	if err != nil {
		return nil, err
	}
	h, err := oncall.ParseClock(l.Handoff)
	if err != nil {
		return nil, err
	}
	d, err := time.ParseInLocation("2006-01-02", l.Start, loc)
	if err != nil {
		return nil, err
	}
	out := &oncall.Layer{Name: l.Name, Users: l.Users, Location: loc, Rotation: rot}
	out.Start = time.Date(d.Year(), d.Month(), d.Day(), int(h/time.Hour), int(h%time.Hour/time.Minute), int(h%time.Minute/time.Second), 0, loc)
	if l.End != "" {
		if out.End, err = time.Parse(time.RFC3339, l.End); err != nil {
			return nil, err
		}
	}
	for _, r := range l.Restrictions {
		tod, err := oncall.ParseClock(r.StartTimeOfDay)
		if err != nil {
			return nil, err
		}
		rr := oncall.Restriction{Type: r.Type, StartOfDay: tod, Duration: time.Duration(r.DurationSeconds) * time.Second}
		if r.StartDayOfWeek != "" {
			if rr.StartDayOfWeek, err = oncall.ParseWeekday(r.StartDayOfWeek); err != nil {
				return nil, err
			}
		}
		if rr.Days, err = oncall.ParseDays(r.Days); err != nil {
			return nil, err
		}
		out.Restrictions = append(out.Restrictions, rr)
	}
	return out, nil
}

func ogClock(o *obj, hk, mk string) int {
	h, _ := o.integer(hk)
	m, _ := o.integer(mk)
	return h*60 + m
}

func hhmm(min int) string { return fmt.Sprintf("%02d:%02d", min/60%24, min%60) }

// ogEscalation turns an Opsgenie escalation into a policy. Opsgenie counts
// each rule's delay from the start of the escalation and, with repeat,
// starts again waitInterval minutes after the last rule; tandem counts
// each rule's delay to the next rule, so rules with one delay become one
// rule and the differences become the delays.
func ogEscalation(e *obj, nm *Namer, person func(*obj) (string, bool), schedules map[string]string, res *Result) (oncall.Policy, bool) {
	p := oncall.Policy{Name: nm.Policy("escalation", e.str("name")), Description: e.str("description")}
	e.ignore("id", "ownerTeam")
	type step struct {
		at      int
		targets []oncall.Target
	}
	byDelay := map[int]*step{}
	lastAt := 0 // the last rule Opsgenie processes, kept or not: repeats count from it
	for _, r := range e.objs("rules") {
		d := r.sub("delay")
		amount, _ := d.integer("timeAmount")
		switch unit := d.str("timeUnit"); unit {
		case "", "minutes":
		case "hours":
			amount *= 60
		case "days":
			amount *= 24 * 60
		default:
			d.warn("timeUnit", "unit %q not imported; rule left out", unit)
			d.done()
			r.ignoreRest()
			continue
		}
		d.done()
		lastAt = max(lastAt, amount)
		if c := r.str("condition"); c == "if-not-closed" {
			r.warn("condition", "if-not-closed not imported: tandem stops escalating at the acknowledgement")
		}
		nt := r.str("notifyType")
		rc := r.sub("recipient")
		typ := rc.str("type")
		var t oncall.Target
		switch {
		case nt != "" && nt != "default":
			r.warn("notifyType", "notifyType %q not imported: tandem pages the user, or the schedule's on-call person; rule left out", nt)
		case typ == "user":
			if n, ok := person(rc); ok {
				t = oncall.Target{Type: oncall.UserReference, ID: n}
			} else {
				rc.res.warn(rc.where(), "recipient is not a user of the export; rule left out")
			}
		case typ == "schedule":
			id, name := rc.str("id"), strings.ToLower(rc.str("name"))
			sn, ok := schedules[id]
			if !ok || id == "" {
				sn, ok = schedules[name]
			}
			if ok {
				t = oncall.Target{Type: oncall.ScheduleReference, ID: sn}
			} else {
				rc.res.warn(rc.where(), "recipient schedule is not in the export; rule left out")
			}
		default:
			rc.warn("type", "recipient type %q not imported: tandem pages users and schedules; rule left out", typ)
		}
		rc.ignore("name", "username", "id")
		rc.done()
		r.done()
		if t.ID == "" {
			continue
		}
		s := byDelay[amount]
		if s == nil {
			s = &step{at: amount}
			byDelay[amount] = s
		}
		s.targets = append(s.targets, t)
	}
	var steps []*step
	for _, s := range byDelay {
		steps = append(steps, s)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	if len(steps) == 0 {
		e.done()
		res.warn(e.where(), "escalation %q has no rule tandem can page; not imported", e.str("name"))
		return p, false
	}
	if steps[0].at > 0 {
		res.warn(e.at("rules"), "the first rule waits %d minutes; tandem pages the first rule at once, so every page of this policy comes %d minutes earlier", steps[0].at, steps[0].at)
	}
	last := 1
	if e.has("repeat") {
		rp := e.sub("repeat")
		wait, _ := rp.integer("waitInterval")
		count, _ := rp.integer("count")
		if reset, _ := rp.boolean("resetRecipientStates"); reset {
			rp.warn("resetRecipientStates", "not imported: tandem pages every target again on each pass")
		}
		if c, _ := rp.boolean("closeAlertAfterAll"); c {
			rp.warn("closeAlertAfterAll", "not imported: tandem leaves the incident open when escalation ends")
		}
		rp.done()
		if count > 9 {
			rp.warn("count", "%d repeats is more than tandem's 9 (PagerDuty's limit); 9 imported", count)
			count = 9
		}
		p.NumLoops = count
		last = lastAt + wait + steps[0].at - steps[len(steps)-1].at
		if count > 0 && last < 1 {
			rp.warn("waitInterval", "a repeat without a wait is raised to 1 minute, tandem's minimum delay")
			last = 1
		}
	}
	e.done()
	for i, s := range steps {
		d := last
		if i+1 < len(steps) {
			d = steps[i+1].at - s.at
		}
		p.Rules = append(p.Rules, oncall.Rule{EscalationDelayInMinutes: max(d, 1), Targets: s.targets})
	}
	return p, true
}
