package importer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

// ogDefaultZone is the zone of an Opsgenie schedule that names none
// (Opsgenie's documented default).
const ogDefaultZone = "America/New_York"

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

// ogReader converts one Opsgenie export.
type ogReader struct {
	res *Result
	nm  *Namer
	// users maps ids and lower-cased usernames to people.
	users map[string]string
	// schedules maps ids and lower-cased names to the imported schedule's
	// index in res.Schedules.
	schedules map[string]int
	// rotations holds the ids of each imported schedule's rotations, all
	// of them (imported or not), by schedule index.
	rotations map[int][]string
}

// Opsgenie is OpsgenieExport on in-memory files (name → content).
func Opsgenie(files map[string][]byte, nm *Namer) (*Result, error) {
	res := &Result{Source: "opsgenie"}
	byKind, err := readExport(res, files, "data", "users", "teams", "schedules", "overrides", "escalations")
	if err != nil {
		return nil, err
	}
	r := &ogReader{res: res, nm: nm, users: map[string]string{}, schedules: map[string]int{}, rotations: map[int][]string{}}
	people := map[string]int{} // person → index in res.People
	for _, u := range byKind["users"] {
		email := u.str("username")
		name, i := res.addPerson(nm, catalog.Person{FullName: u.str("fullName"), Email: email, TimeZone: u.str("timeZone")}, "user", u.at("username"), u.at("timeZone"))
		r.users[u.str("id")], r.users[strings.ToLower(email)] = name, name
		if role := u.sub("role"); role.m != nil {
			if n := role.str("name"); n != "" && n != "User" {
				role.warn("name", "role %q not imported: tandem people have no roles (API access goes by token scope)", n)
			}
			role.ignore("id", "name")
			role.done()
		}
		u.ignore("blocked", "verified", "createdAt", "locale")
		u.done()
		if i >= 0 {
			people[name] = i
		}
	}
	for _, t := range byKind["teams"] {
		name, existing := nm.TeamFor(t.str("name"), "team")
		team := catalog.Team{Name: name, DisplayName: t.str("name"), Description: t.str("description")}
		for _, m := range t.objs("members") {
			u := m.sub("user")
			p, ok := r.person(u)
			u.done()
			m.ignore("role")
			m.done()
			if !ok {
				m.res.warn(m.where(), "member is not a user of the export; left out")
				continue
			}
			team.Members = append(team.Members, p)
			if i, ok := people[p]; ok && res.People[i].Team == "" && !existing {
				res.People[i].Team = name
			}
		}
		t.ignore("id", "links")
		t.done()
		if existing {
			res.warn(t.where(), "team %q is already defined in the output directory; not defined again", name)
			continue
		}
		res.Teams = append(res.Teams, team)
	}
	for _, s := range byKind["schedules"] {
		r.schedule(s)
	}
	for _, o := range byKind["overrides"] {
		r.override(o)
	}
	for _, e := range byKind["escalations"] {
		if p, ok := r.escalation(e); ok {
			res.Policies = append(res.Policies, p)
		}
	}
	sortWarnings(res.Warnings)
	return res, nil
}

// person finds the person of a {id, username} reference.
func (r *ogReader) person(o *obj) (string, bool) {
	id, username := o.str("id"), strings.ToLower(o.str("username"))
	if n, ok := r.users[id]; ok && id != "" {
		return n, true
	}
	n, ok := r.users[username]
	return n, ok && username != ""
}

// scheduleRef finds the imported schedule of an {id, name} reference.
func (r *ogReader) scheduleRef(o *obj) (int, bool) {
	id, name := o.str("id"), strings.ToLower(o.str("name"))
	if i, ok := r.schedules[id]; ok && id != "" {
		return i, true
	}
	i, ok := r.schedules[name]
	return i, ok && name != ""
}

// schedule imports a schedule: each rotation becomes a layer. Opsgenie
// notifies the on-call people of every rotation together; where two
// rotations can be on call at once tandem (one person per schedule, the
// later layer) differs, and a warning says so.
func (r *ogReader) schedule(s *obj) {
	res := r.res
	out := config.ScheduleSpec{Name: r.nm.Schedule("schedule", s.str("name")), Description: s.str("description"), TimeZone: s.str("timezone")}
	if out.TimeZone == "" {
		out.TimeZone = ogDefaultZone
	}
	loc, err := time.LoadLocation(out.TimeZone)
	if err != nil {
		s.warn("timezone", "%q is not an IANA zone; schedule not imported", out.TimeZone)
		s.ignoreRest()
		return
	}
	if on, ok := s.boolean("enabled"); ok && !on {
		s.warn("enabled", "the schedule is disabled in Opsgenie; tandem has no disabled schedules, it is imported active")
	}
	if owner := s.sub("ownerTeam"); owner.m != nil {
		owner.ignore("id", "name") // tandem schedules have no owner; the team's services name their policy
		owner.done()
	}
	s.ignore("id", "name")
	var rotationIDs []string
	var models []*oncall.Layer
	for ri, ro := range s.objs("rotations") {
		rotationIDs = append(rotationIDs, ro.str("id"))
		ls, m, ok := r.rotation(ro, ri, loc)
		if ok {
			out.Layers = append(out.Layers, ls...)
			models = append(models, m)
		}
	}
	s.done()
	if len(out.Layers) == 0 {
		res.warn(s.where(), "schedule has no rotation tandem can express; not imported")
		return
	}
	for i := range models {
		for j := i + 1; j < len(models); j++ {
			if at, ok := bothOnCall(models[i], models[j]); ok {
				res.warn(s.at("rotations"), "rotations %s and %s are both on call at %s: Opsgenie notifies both, tandem pages only %s (the later one)",
					models[i].Name, models[j].Name, at.Format(time.RFC3339), models[j].Name)
			}
		}
	}
	i := len(res.Schedules)
	r.schedules[s.str("id")], r.schedules[strings.ToLower(s.str("name"))] = i, i
	r.rotations[i] = rotationIDs
	res.Schedules = append(res.Schedules, out)
}

// rotation turns one rotation into a layer (and the layer's model, for
// the overlap check). Turns of length × hours, days or weeks start at
// startDate (days and weeks on the schedule zone's calendar, hours
// elapsed); a time restriction limits the layer to its windows.
func (r *ogReader) rotation(ro *obj, ri int, loc *time.Location) ([]config.LayerSpec, *oncall.Layer, bool) {
	name := Sanitize(ro.str("name"))
	if name == "" {
		name = fmt.Sprintf("rotation-%d", ri+1)
	}
	ro.ignore("id", "name")
	length, ok := ro.integer("length")
	if !ok {
		length = 1 // Opsgenie's default
	}
	var rot oncall.Rotation
	switch typ := ro.str("type"); {
	case length < 1:
		ro.warn("length", "length %d is not positive; rotation left out", length)
	case typ == "daily":
		rot = oncall.Rotation{Days: length}
	case typ == "weekly":
		rot = oncall.Rotation{Days: 7 * length}
	case typ == "hourly":
		rot = oncall.Rotation{Hours: length}
	default:
		ro.warn("type", "rotation type %q not imported (daily, weekly or hourly); rotation left out", typ)
	}
	start, err := time.Parse(time.RFC3339, ro.str("startDate"))
	if err != nil {
		ro.warn("startDate", "expected an RFC 3339 time; rotation left out")
		rot = oncall.Rotation{}
	}
	var end time.Time
	if e := ro.str("endDate"); e != "" {
		if end, err = time.Parse(time.RFC3339, e); err != nil || !end.After(start) {
			ro.warn("endDate", "expected an RFC 3339 time after startDate; rotation left out")
			rot = oncall.Rotation{}
		}
	}
	var users []string
	for _, p := range ro.objs("participants") {
		switch typ := p.str("type"); typ {
		case "user":
			if n, found := r.person(p); found {
				users = append(users, n)
			} else {
				p.res.warn(p.where(), "participant is not a user of the export; rotation left out")
				rot = oncall.Rotation{}
			}
		case "none":
			p.warn("type", "a \"none\" turn (nobody on call) not imported: tandem rotations take turns between people; rotation left out")
			rot = oncall.Rotation{}
		default:
			p.warn("type", "participant type %q not imported: tandem rotations take turns between people; rotation left out", typ)
			rot = oncall.Rotation{}
		}
		p.ignore("id", "name", "username")
		p.done()
	}
	restr, rok := ogRestrictions(ro, loc, start.In(loc).Year())
	ro.done()
	if rot == (oncall.Rotation{}) || !rok {
		return nil, nil, false
	}
	if len(users) == 0 {
		r.res.warn(ro.where(), "rotation has no participants; left out")
		return nil, nil, false
	}
	rr := rotation{Name: name, Users: users, Rotation: rot, Anchor: start, Start: start, End: end, Loc: loc, Restrictions: restr, Pos: ro.where()}
	ls, ok := rr.layers(r.res)
	if !ok {
		return nil, nil, false
	}
	return ls, rr.model(), true
}

// ogRestrictions reads a rotation's timeRestriction: time-of-day opens a
// window every day from start to end (past midnight when end is
// earlier), weekday-and-time-of-day one a week per restriction, from
// startDay to endDay. The ends are wall-clock times of loc; wallWindow
// keeps them so across daylight-saving changes. ok is false when the
// restriction cannot be read.
func ogRestrictions(ro *obj, loc *time.Location, year int) (out []config.RestrictionSpec, ok bool) {
	if !ro.has("timeRestriction") {
		return nil, true
	}
	tr := ro.sub("timeRestriction")
	defer tr.done()
	exact := true
	window := func(open, close int) []config.RestrictionSpec {
		ps, ex := wallWindow(loc, year, open, close)
		exact = exact && ex
		return ps
	}
	defer func() {
		if !exact {
			tr.warn("type", "a window starts inside, or ends within two hours after, a daylight-saving change of %s: in the week of a change tandem's window ends up to an hour off Opsgenie's", loc)
		}
	}()
	switch typ := tr.str("type"); typ {
	case "time-of-day":
		rs := tr.sub("restriction")
		st, en := ogClock(rs, "startHour", "startMin"), ogClock(rs, "endHour", "endMin")
		rs.done()
		d := (en - st + dayMin) % dayMin
		if d == 0 {
			d = dayMin
		}
		cut := false
		var weekly []config.RestrictionSpec
		for wd := range 7 {
			ps := window(wd*dayMin+st, wd*dayMin+st+d)
			cut = cut || len(ps) > 1
			weekly = append(weekly, ps...)
		}
		if cut {
			return weekly, true
		}
		return []config.RestrictionSpec{{Type: oncall.DailyRestriction, StartTimeOfDay: hhmm(st), DurationSeconds: d * 60}}, true
	case "weekday-and-time-of-day":
		ok = true
		for _, rs := range tr.objs("restrictions") {
			sd, ed := ogDays[strings.ToLower(rs.str("startDay"))], ogDays[strings.ToLower(rs.str("endDay"))]
			st := (sd-1)*dayMin + ogClock(rs, "startHour", "startMin")
			en := (ed-1)*dayMin + ogClock(rs, "endHour", "endMin")
			rs.done()
			if sd == 0 || ed == 0 {
				rs.warn("startDay", "startDay and endDay must be monday…sunday; rotation left out")
				ok = false
				continue
			}
			out = append(out, window(st, en)...)
		}
		return out, ok
	default:
		tr.warn("type", "time restriction %q not imported (time-of-day or weekday-and-time-of-day); rotation left out", typ)
		tr.ignoreRest()
		return nil, false
	}
}

func ogClock(o *obj, hk, mk string) int {
	h, _ := o.integer(hk)
	m, _ := o.integer(mk)
	return h*60 + m
}

func hhmm(min int) string { return fmt.Sprintf("%02d:%02d", min/60%24, min%60) }

// override puts an override on its schedule. Opsgenie can limit an
// override to some rotations; tandem's cover the whole schedule, which is
// the same only when those are all the schedule's rotations.
func (r *ogReader) override(o *obj) {
	res := r.res
	parent := o.sub("_parent")
	si, ok := r.scheduleRef(parent)
	parent.ignore("enabled")
	parent.done()
	u := o.sub("user")
	p, pok := r.person(u)
	u.ignore("type", "id", "username", "name")
	u.done()
	st, err1 := time.Parse(time.RFC3339, o.str("startDate"))
	en, err2 := time.Parse(time.RFC3339, o.str("endDate"))
	o.ignore("alias")
	var limited []string
	for _, ro := range o.objs("rotations") {
		limited = append(limited, ro.str("id"))
		ro.ignore("name")
		ro.done()
	}
	o.done()
	switch {
	case !ok:
		res.warn(o.where(), "schedule of the override is not in the export (or not imported); left out")
	case !pok:
		res.warn(o.where(), "user of the override is not a user of the export; left out")
	case err1 != nil || err2 != nil:
		res.warn(o.where(), "startDate and endDate must be RFC 3339 times; left out")
	default:
		for _, id := range r.rotations[si] {
			if len(limited) > 0 && !slices.Contains(limited, id) {
				res.warn(o.at("rotations"), "the override is limited to some of the schedule's rotations in Opsgenie; tandem's overrides cover the whole schedule")
				break
			}
		}
		if ov, ok := override(p, st, en, "Opsgenie override", o.where(), res); ok {
			res.Schedules[si].Overrides = append(res.Schedules[si].Overrides, ov)
		}
	}
}

// escalation turns an escalation into a policy. Opsgenie pages each rule
// its delay after the alert is created and, with repeat, starts again
// waitInterval minutes after its last rule, count more times (at most
// 20); policyFromPages finds the tandem rules that page the same.
func (r *ogReader) escalation(e *obj) (oncall.Policy, bool) {
	res := r.res
	p := oncall.Policy{Name: r.nm.Policy("escalation", e.str("name")), Description: e.str("description")}
	e.ignore("id", "name")
	if owner := e.sub("ownerTeam"); owner.m != nil {
		owner.ignore("id", "name")
		owner.done()
	}
	var pass []page
	last := 0 // the last rule Opsgenie processes, kept or not: a repeat waits from it
	for _, ru := range e.objs("rules") {
		d := ru.sub("delay")
		amount, _ := d.integer("timeAmount")
		switch unit := d.str("timeUnit"); unit {
		case "", "minutes":
		case "hours":
			amount *= 60
		case "days":
			amount *= 24 * 60
		default:
			d.warn("timeUnit", "unit %q not imported (minutes, hours or days); rule left out", unit)
			d.done()
			ru.ignoreRest()
			continue
		}
		d.done()
		last = max(last, amount)
		if t, ok := r.recipient(ru); ok {
			pass = append(pass, page{At: amount, Targets: []oncall.Target{t}})
		}
		ru.done()
	}
	count, wait := 0, 0
	if e.has("repeat") {
		rp := e.sub("repeat")
		wait, _ = rp.integer("waitInterval")
		count, _ = rp.integer("count")
		if reset, _ := rp.boolean("resetRecipientStates"); reset {
			rp.warn("resetRecipientStates", "not imported: Opsgenie turns an acknowledged alert back to unacknowledged on each repeat; tandem stops at the acknowledgement (ack_timeout_minutes re-pages acknowledged incidents)")
		}
		if c, _ := rp.boolean("closeAlertAfterAll"); c {
			rp.warn("closeAlertAfterAll", "not imported: tandem leaves the incident open when escalation ends")
		}
		rp.done()
		if count < 0 || wait < 0 {
			rp.warn("count", "count and waitInterval must not be negative; the repeat is left out")
			count, wait = 0, 0
		}
	}
	e.done()
	if len(pass) == 0 {
		res.warn(e.where(), "escalation %q has no rule tandem can page; not imported", e.str("name"))
		return p, false
	}
	period := last + wait
	var pages []page
	for k := 0; k <= min(count, 20); k++ {
		for _, pg := range pass {
			pages = append(pages, page{At: k*period + pg.At, Targets: pg.Targets})
		}
	}
	var lead int
	p.Rules, p.NumLoops, lead = policyFromPages(pages, (min(count, 20)+1)*period)
	if lead > 0 {
		res.warn(e.at("rules"), "the first rule tandem can page waits %d minutes; tandem pages the first rule at once, so every page of this policy comes %d minutes earlier", lead, lead)
	}
	if count > 20 {
		res.warn(e.at("repeat.count"), "%d repeats is more than Opsgenie's 20; 20 imported", count)
	}
	return p, true
}

// recipient reads a rule's condition, notify type and recipient: a user,
// or the on-call person of a schedule. Anything else is a warning.
func (r *ogReader) recipient(ru *obj) (oncall.Target, bool) {
	if c := ru.str("condition"); c == "if-not-closed" {
		ru.warn("condition", "if-not-closed not imported: tandem stops escalating at the acknowledgement")
	}
	nt := ru.str("notifyType")
	rc := ru.sub("recipient")
	defer rc.done()
	rc.ignore("id", "name", "username")
	switch typ := rc.str("type"); {
	case nt != "" && nt != "default":
		ru.warn("notifyType", "notifyType %q not imported: tandem pages a user, or a schedule's on-call person; rule left out", nt)
	case typ == "user":
		if n, ok := r.person(rc); ok {
			return oncall.Target{Type: oncall.UserReference, ID: n}, true
		}
		rc.res.warn(rc.where(), "recipient is not a user of the export; rule left out")
	case typ == "schedule":
		if i, ok := r.scheduleRef(rc); ok {
			return oncall.Target{Type: oncall.ScheduleReference, ID: r.res.Schedules[i].Name}, true
		}
		rc.res.warn(rc.where(), "recipient schedule is not in the export (or not imported); rule left out")
	default:
		rc.warn("type", "recipient type %q not imported: tandem pages users and schedules (a team's routing rules do not carry over); rule left out", typ)
	}
	return oncall.Target{}, false
}
