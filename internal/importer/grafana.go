package importer

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

// GrafanaOnCallExport reads the JSON a user saved from Grafana OnCall's
// public API (/api/v1/…) into dir, one kind per file by name:
// users*.json, teams*.json (optional), schedules*.json,
// on_call_shifts*.json, escalation_chains*.json and
// escalation_policies*.json, each a list response ({"results": […]},
// paginated over several files) or one object.
func GrafanaOnCallExport(dir string, nm *Namer) (*Result, error) {
	files, err := readDir(dir, "*.json")
	if err != nil {
		return nil, err
	}
	return GrafanaOnCall(files, nm)
}

// gfWeekdays are iCal's day names in Go's weekday order.
var gfWeekdays = []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// gfMaxRepeats is how often OnCall's repeat_escalation step starts the
// chain again ("5 times max").
const gfMaxRepeats = 5

// gfReader converts one Grafana OnCall export.
type gfReader struct {
	res       *Result
	nm        *Namer
	users     map[string]string // OnCall user id → person
	schedules map[string]string // OnCall schedule id → schedule name
}

// GrafanaOnCall is GrafanaOnCallExport on in-memory files.
func GrafanaOnCall(files map[string][]byte, nm *Namer) (*Result, error) {
	res := &Result{Source: "grafana-oncall"}
	byKind, err := readExport(res, files, "results", "users", "teams", "schedules", "on_call_shifts", "escalation_chains", "escalation_policies")
	if err != nil {
		return nil, err
	}
	r := &gfReader{res: res, nm: nm, users: map[string]string{}, schedules: map[string]string{}}
	teams := map[string]int{} // OnCall team id → index in res.Teams, when teams*.json is given
	for _, t := range byKind["teams"] {
		name, existing := nm.TeamFor(t.str("name"), "team")
		t.ignore("id", "email", "avatar_url")
		t.done()
		if existing {
			res.warn(t.where(), "team %q is already defined in the output directory; its members from this import are not added", name)
			continue
		}
		res.Teams = append(res.Teams, catalog.Team{Name: name, DisplayName: t.str("name")})
		teams[t.str("id")] = len(res.Teams) - 1
	}
	for _, u := range byKind["users"] {
		p := catalog.Person{Email: u.str("email"), FullName: u.str("name"), TimeZone: u.str("timezone")}
		for _, s := range u.objs("slack") {
			if id, ok := notify.SlackMemberID(s.str("user_id")); ok && p.Slack == "" {
				p.Slack = id
			} else if !ok {
				s.warn("user_id", "%q is not a Slack member ID; left out", s.str("user_id"))
			}
			s.ignore("team_id")
			s.done()
		}
		fallback := cmp.Or(Sanitize(u.str("username")), "user")
		name, i := res.addPerson(nm, p, fallback, u.at("email"), u.at("timezone"))
		r.users[u.str("id")] = name
		if role := u.str("role"); role != "" && role != "user" {
			u.warn("role", "role %q not imported: tandem people have no roles (API access goes by token scope)", role)
		}
		for _, id := range u.strs("teams") {
			if ti, ok := teams[id]; ok {
				t := &res.Teams[ti]
				t.Members = append(t.Members, name)
				if i >= 0 && res.People[i].Team == "" {
					res.People[i].Team = t.Name
				}
			} else if len(byKind["teams"]) == 0 {
				u.warn("teams", "team %s not imported: save GET /api/v1/teams/ as teams.json to import teams", id)
			}
		}
		u.ignore("grafana_id", "username", "is_phone_number_verified")
		u.done()
	}

	shifts := map[string]*obj{}
	for _, s := range byKind["on_call_shifts"] {
		shifts[s.str("id")] = s
	}
	for _, s := range byKind["schedules"] {
		r.schedule(s, shifts)
	}
	for _, id := range slices.Sorted(maps.Keys(shifts)) {
		if s := shifts[id]; !s.used["type"] {
			s.ignoreRest()
			res.warn(s.where(), "shift %s belongs to no schedule of the export; left out", id)
		}
	}

	chains := map[string][]*obj{}
	for _, p := range byKind["escalation_policies"] {
		chains[p.str("escalation_chain_id")] = append(chains[p.str("escalation_chain_id")], p)
	}
	for _, c := range byKind["escalation_chains"] {
		steps := chains[c.str("id")]
		sort.SliceStable(steps, func(i, j int) bool {
			a, _ := steps[i].num("position")
			b, _ := steps[j].num("position")
			return a < b
		})
		if p, ok := r.chain(c, steps); ok {
			res.Policies = append(res.Policies, p)
		}
	}
	sortWarnings(res.Warnings)
	return res, nil
}

// gfLayer is an imported shift's layers with the shift's priority level.
type gfLayer struct {
	level  int
	layers []config.LayerSpec
	model  *oncall.Layer
}

// schedule imports a calendar or web schedule: its shifts become layers
// ordered by level (a higher level wins in OnCall and in tandem), its
// override shifts overrides. An iCal schedule is a calendar feed, which
// tandem does not read.
func (r *gfReader) schedule(s *obj, shifts map[string]*obj) {
	res := r.res
	s.ignore("id", "team_id", "on_call_now", "enable_web_overrides", "slack")
	if sl := s.sub("slack"); !empty(sl.m) {
		sl.warn("channel_id", "Slack channel and user group of the schedule not imported: tandem's notifications go by person")
	}
	if s.str("type") == "ical" || s.has("ical_url_primary") {
		s.warn("ical_url_primary", "an iCal schedule is not imported: tandem keeps rotations as config, not a calendar feed; recreate its rotations as OnCall shifts and export again, or write them as tandem layers")
		s.ignoreRest()
		return
	}
	if s.has("ical_url_overrides") {
		s.warn("ical_url_overrides", "iCal overrides are not imported; add them as overrides or with tandem oncall override")
	}
	s.ignore("type", "ical_url_overrides")
	out := config.ScheduleSpec{Name: r.nm.Schedule("schedule", s.str("name")), TimeZone: s.str("time_zone")}
	if out.TimeZone == "" {
		out.TimeZone = "UTC" // OnCall's default
	}
	loc, err := time.LoadLocation(out.TimeZone)
	if err != nil {
		s.warn("time_zone", "%q is not an IANA zone; schedule not imported", out.TimeZone)
		s.ignoreRest()
		return
	}
	ids := s.strs("shifts")
	for _, id := range slices.Sorted(maps.Keys(shifts)) {
		if shifts[id].str("schedule") == s.str("id") && s.str("id") != "" && !slices.Contains(ids, id) {
			ids = append(ids, id) // a web schedule's shifts name it
		}
	}
	var layers []gfLayer
	names := map[string]bool{}
	for _, id := range ids {
		sh, ok := shifts[id]
		if !ok {
			s.warn("shifts", "shift %s is not in the export; left out", id)
			continue
		}
		if sh.used["type"] {
			continue // listed twice
		}
		g, ov, ok := r.shift(sh, out.TimeZone, loc, names)
		if ov != nil {
			out.Overrides = append(out.Overrides, *ov)
		}
		if ok {
			layers = append(layers, g)
		}
	}
	s.done()
	sort.SliceStable(layers, func(i, j int) bool { return layers[i].level < layers[j].level })
	for i, g := range layers {
		for _, h := range layers[:i] {
			if h.level != g.level {
				continue
			}
			if at, ok := bothOnCall(h.model, g.model); ok {
				res.warn(s.at("shifts"), "shifts %s and %s share level %d and are both on call at %s: OnCall notifies both, tandem pages %s",
					h.model.Name, g.model.Name, g.level, at.Format(time.RFC3339), g.model.Name)
			}
		}
		out.Layers = append(out.Layers, g.layers...)
	}
	if len(out.Layers) == 0 {
		res.warn(s.where(), "schedule has no shift tandem can express; not imported")
		return
	}
	r.schedules[s.str("id")] = out.Name
	res.Schedules = append(res.Schedules, out)
}

// gfTime reads OnCall's local times (yyyy-MM-ddTHH:mm:ss in the shift's
// zone).
func gfTime(o *obj, key string, loc *time.Location) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", o.str(key), loc)
	if err != nil {
		o.warn(key, "expected yyyy-MM-ddTHH:mm:ss; shift left out")
		return time.Time{}, false
	}
	return t, true
}

// shift turns one OnCall shift into layers (ok) or, for an override
// shift, a schedule override (ov). zone and loc are the schedule's;
// names holds the layer names taken in the schedule.
func (r *gfReader) shift(sh *obj, zone string, loc *time.Location, names map[string]bool) (g gfLayer, ov *config.OverrideSpec, ok bool) {
	res := r.res
	fail := func() (gfLayer, *config.OverrideSpec, bool) {
		sh.ignoreRest()
		return gfLayer{}, nil, false
	}
	typ := sh.str("type")
	sh.ignore("id", "team_id", "schedule", "source")
	if tz := sh.str("time_zone"); tz != "" && tz != zone {
		l, err := time.LoadLocation(tz)
		if err != nil {
			sh.warn("time_zone", "%q is not an IANA zone; shift left out", tz)
			return fail()
		}
		zone, loc = tz, l
	} else {
		zone = "" // the schedule's
	}
	name := Sanitize(sh.str("name"))
	if name == "" {
		name = "shift"
	}
	for n := 2; names[name]; n++ {
		name = fmt.Sprintf("%s-%d", strings.TrimRight(Sanitize(sh.str("name")), "-0123456789"), n)
	}
	g.level, _ = sh.integer("level")
	start, ok := gfTime(sh, "start", loc)
	if !ok {
		return fail()
	}
	dur, _ := sh.integer("duration")
	if dur <= 0 {
		sh.warn("duration", "a shift needs a positive duration; left out")
		return fail()
	}
	d := time.Duration(dur) * time.Second
	people := func(key string, ids []string) ([]string, bool) {
		var out []string
		for _, id := range ids {
			p, ok := r.users[id]
			if !ok {
				sh.warn(key, "user %s is not a user of the export; shift left out", id)
				return nil, false
			}
			out = append(out, p)
		}
		return out, true
	}

	switch typ {
	case "override", "single_event":
		sh.ignore("rotation_start") // the start, for events that do not recur
		ps, ok := people("users", sh.strs("users"))
		if !ok {
			return fail()
		}
		if len(ps) != 1 {
			sh.warn("users", "a %s shift of %d users not imported: tandem puts one person on call; left out", typ, len(ps))
			return fail()
		}
		sh.done()
		if typ == "override" {
			if ov, ok := override(ps[0], start, start.Add(d), "Grafana OnCall override", sh.where(), res); ok {
				return g, &ov, false
			}
			return g, nil, false
		}
		rot := rotation{Name: name, Users: ps, Rotation: oncall.Rotation{Days: 1}, Anchor: start, Start: start, End: start.Add(d), Loc: loc, TimeZone: zone, Pos: sh.where()}
		return r.layersOf(g, rot, names)
	case "rolling_users", "recurrent_event":
	default:
		sh.warn("type", "shift type %q not imported (single_event, recurrent_event, rolling_users, override); left out", typ)
		return fail()
	}

	// A rotation: events of duration d, recurring (RFC 5545) every
	// interval hours, days or weeks; rolling_users hands each next event
	// (each next week's events, with by_day) to the next group.
	var users []string
	if typ == "rolling_users" {
		sh.ignore("users")
		from, _ := sh.integer("start_rotation_from_user_index")
		for gi, grp := range sh.list("rolling_users") {
			ids, _ := grp.([]any)
			var strs []string
			for _, id := range ids {
				s, _ := id.(string)
				strs = append(strs, s)
			}
			if len(strs) != 1 {
				res.warn(fmt.Sprintf("%s[%d]", sh.at("rolling_users"), gi), "a turn of %d users not imported: tandem puts one person on call per turn; shift left out", len(strs))
				return fail()
			}
			ps, ok := people("rolling_users", strs)
			if !ok {
				return fail()
			}
			users = append(users, ps[0])
		}
		if len(users) > 0 {
			from = ((from % len(users)) + len(users)) % len(users)
			users = append(users[from:], users[:from]...)
		}
	} else {
		sh.ignore("rolling_users", "start_rotation_from_user_index")
		ps, ok := people("users", sh.strs("users"))
		if !ok {
			return fail()
		}
		if len(ps) != 1 {
			sh.warn("users", "a recurrent event of %d users not imported: OnCall puts them all on call, tandem one person; shift left out", len(ps))
			return fail()
		}
		users = ps
	}
	if len(users) == 0 {
		res.warn(sh.where(), "shift has no users; left out")
		return fail()
	}
	for _, k := range []string{"by_month", "by_monthday"} {
		if sh.has(k) {
			sh.warn(k, "month and day-of-month rules not imported; shift left out")
			return fail()
		}
	}
	interval, ok := sh.integer("interval")
	if !ok {
		interval = 1
	}
	if interval < 1 {
		sh.warn("interval", "interval %d is not positive; shift left out", interval)
		return fail()
	}
	byDay := sh.strs("by_day")
	wkst := slices.Index(gfWeekdays, sh.str("week_start"))
	if wkst < 0 {
		wkst = 0 // OnCall's default, Sunday
	}
	rot := rotation{Name: name, Users: users, Anchor: start, Loc: loc, TimeZone: zone, Pos: sh.where()}
	var period time.Duration // of one turn, for events that fill it
	switch freq := sh.str("frequency"); freq {
	case "hourly":
		rot.Rotation, period = oncall.Rotation{Hours: interval}, time.Duration(interval)*time.Hour
	case "daily":
		rot.Rotation, period = oncall.Rotation{Days: interval}, time.Duration(interval)*24*time.Hour
	case "weekly":
		rot.Rotation, period = oncall.Rotation{Days: 7 * interval}, time.Duration(interval)*7*24*time.Hour
	default:
		sh.warn("frequency", "frequency %q not imported (hourly, daily or weekly); shift left out", freq)
		return fail()
	}
	tod := fmt.Sprintf("%02d:%02d:%02d", start.Hour(), start.Minute(), start.Second())
	switch {
	case len(byDay) > 0:
		// Events on the listed days at the start's time. With one person
		// every listed day is theirs; rolling users take a week each
		// (OnCall hands the next week's first listed day to the next
		// group), so turns start on the first listed day of the week.
		var days []time.Weekday
		for _, b := range byDay {
			wd := slices.Index(gfWeekdays, b)
			if wd < 0 {
				sh.warn("by_day", "%q is not an iCal day (MO…SU); shift left out", b)
				return fail()
			}
			days = append(days, time.Weekday(wd))
		}
		sameWeek := sh.str("frequency") == "weekly" && interval == 1
		switch {
		case len(users) > 1 && !sameWeek:
			sh.warn("by_day", "day limits on a rotation of several people are imported for weekly shifts of interval 1 only (OnCall's daily ones rotate over the listed days alone); shift left out")
			return fail()
		case len(users) == 1 && interval != 1, rot.Rotation.Hours > 0:
			sh.warn("by_day", "day limits with an interval, or on hourly events, are not imported; shift left out")
			return fail()
		case d > 7*24*time.Hour:
			sh.warn("duration", "events longer than a week overlap; shift left out")
			return fail()
		}
		rot.Rotation = oncall.Rotation{Days: 7}
		rot.Anchor = gfWeekAnchor(start, days, time.Weekday(wkst))
		rot.Restrictions = dayRestrictions(days, tod, d)
		start = gfFirstEvent(start, days, time.Weekday(wkst))
	case d == period:
	case d > period:
		sh.warn("duration", "events longer than the rotation overlap (OnCall notifies both groups); tandem's turns end at the next handoff")
	case rot.Rotation.Days == 1:
		rot.Restrictions = []config.RestrictionSpec{{Type: oncall.DailyRestriction, StartTimeOfDay: tod, DurationSeconds: dur}}
	case rot.Rotation.Days == 7:
		rot.Restrictions = []config.RestrictionSpec{{Type: oncall.WeeklyRestriction, StartDayOfWeek: fmt.Sprint((int(start.Weekday())+6)%7 + 1), StartTimeOfDay: tod, DurationSeconds: dur}}
	default:
		sh.warn("duration", "events shorter than the rotation are imported for daily and weekly shifts of interval 1 only; shift left out")
		return fail()
	}
	sh.ignore("week_start")
	rot.Start = start
	// rotation_start: OnCall keeps the turns counted from start and puts
	// none on call before rotation_start (the web UI sets it when a
	// rotation is changed).
	if sh.has("rotation_start") {
		rs, ok := gfTime(sh, "rotation_start", loc)
		if !ok {
			return fail()
		}
		if rs.After(rot.Start) {
			rot.Start = rs
			if e := gfLastEventStart(rot, rs); !e.Before(start) && e.Add(d).After(rs) && e.Before(rs) {
				rot.Start = e
				sh.warn("rotation_start", "rotation_start falls inside an event: OnCall keeps that event for shifts made in its web UI and drops it for shifts made through its API; imported as the web UI does")
			}
		}
	}
	// until bounds the events' starts (RFC 5545, inclusive): the last
	// event that starts by then runs its full duration.
	if sh.has("until") {
		u, ok := gfTime(sh, "until", loc)
		if !ok {
			return fail()
		}
		rot.End = gfLastEventEnd(rot, u, d)
	}
	sh.done()
	return r.layersOf(g, rot, names)
}

// layersOf writes a shift's rotation as layers and keeps its model for
// the overlap check.
func (r *gfReader) layersOf(g gfLayer, rot rotation, names map[string]bool) (gfLayer, *config.OverrideSpec, bool) {
	ls, ok := rot.layers(r.res)
	if !ok {
		return g, nil, false
	}
	for _, l := range ls {
		names[l.Name] = true
	}
	g.layers, g.model = ls, rot.model()
	return g, nil, true
}

// dayRestrictions opens a window on each of days at tod for d: one daily
// restriction when d is at most a day, else a weekly one per day.
func dayRestrictions(days []time.Weekday, tod string, d time.Duration) []config.RestrictionSpec {
	if d <= 24*time.Hour {
		var names []string
		for _, wd := range days {
			names = append(names, strings.ToLower(wd.String()[:3]))
		}
		return []config.RestrictionSpec{{Type: oncall.DailyRestriction, Days: names, StartTimeOfDay: tod, DurationSeconds: int(d / time.Second)}}
	}
	var out []config.RestrictionSpec
	for _, wd := range days {
		out = append(out, config.RestrictionSpec{Type: oncall.WeeklyRestriction, StartDayOfWeek: fmt.Sprint((int(wd)+6)%7 + 1), StartTimeOfDay: tod, DurationSeconds: int(d / time.Second)})
	}
	return out
}

// gfWeekAnchor is where the turns of a weekly by_day rotation are
// counted from: the first listed day (in the order of the week that
// starts on wkst) of start's week, at start's time of day.
func gfWeekAnchor(start time.Time, days []time.Weekday, wkst time.Weekday) time.Time {
	weekStart := start.AddDate(0, 0, -((int(start.Weekday())-int(wkst))+7)%7)
	for i := range 7 {
		day := weekStart.AddDate(0, 0, i)
		if slices.Contains(days, day.Weekday()) {
			return day
		}
	}
	return start
}

// gfFirstEvent is the first event of a weekly by_day rotation: start when
// its day is listed, else OnCall moves it forward to the weekday that
// comes first in the week's order (possibly skipping listed days later
// in start's week).
func gfFirstEvent(start time.Time, days []time.Weekday, wkst time.Weekday) time.Time {
	if slices.Contains(days, start.Weekday()) {
		return start
	}
	for i := range 7 {
		wd := time.Weekday((int(wkst) + i) % 7)
		if slices.Contains(days, wd) {
			return start.AddDate(0, 0, (int(wd)-int(start.Weekday())+7)%7)
		}
	}
	return start
}

// gfLastEventStart is the start of the last event that starts at or
// before t: events start at the turns' handoffs or, with restrictions,
// where a window opens.
func gfLastEventStart(rot rotation, t time.Time) time.Time {
	if len(rot.Restrictions) == 0 {
		return rot.boundary(rot.turn(t))
	}
	var last time.Time
	lt := t.In(rot.Loc)
	for back := 0; back <= 8; back++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()-back, 0, 0, 0, 0, rot.Loc)
		for _, rs := range rot.Restrictions {
			m := restrictionModel(rs)
			opens := (m.Type == oncall.DailyRestriction && (len(m.Days) == 0 || slices.Contains(m.Days, day.Weekday()))) ||
				(m.Type == oncall.WeeklyRestriction && m.StartDayOfWeek == day.Weekday())
			h, mi, sec := int(m.StartOfDay/time.Hour), int(m.StartOfDay%time.Hour/time.Minute), int(m.StartOfDay%time.Minute/time.Second)
			at := time.Date(day.Year(), day.Month(), day.Day(), h, mi, sec, 0, rot.Loc)
			if opens && !at.After(t) && at.After(last) {
				last = at
			}
		}
	}
	return last
}

// gfLastEventEnd is when the last event that starts at or before until
// ends (RFC 5545's UNTIL bounds the starts).
func gfLastEventEnd(rot rotation, until time.Time, d time.Duration) time.Time {
	return gfLastEventStart(rot, until).Add(d)
}

// gfWaitDefault is the wait of a wait step without a duration (OnCall's
// default).
const gfWaitDefault = 5 * 60

// gfStep is an escalation step as the chain runs it.
type gfStep struct {
	wait    int             // seconds, for a wait step
	targets []oncall.Target // paged by a notify step
	repeat  bool            // repeat_escalation
	stop    bool            // resolve: the chain ends
}

// chain turns an escalation chain into a policy. OnCall runs the steps in
// order: a wait waits, a notify step pages at once, repeat_escalation
// starts from the first step again (5 times; after that the steps after
// it run) and resolve ends the chain. The pages of a chain nobody
// acknowledges are simulated and policyFromPages finds the tandem rules
// that page the same, at whole minutes.
func (r *gfReader) chain(c *obj, steps []*obj) (oncall.Policy, bool) {
	res := r.res
	p := oncall.Policy{Name: r.nm.Policy("escalation", c.str("name"))}
	c.ignore("id", "name", "team_id")
	c.done()
	var run []gfStep
	for _, s := range steps {
		s.ignore("id", "escalation_chain_id", "position")
		if imp, _ := s.boolean("important"); imp {
			s.warn("important", "important notifications not imported: tandem pages everyone with their own notification rules")
		}
		switch t := s.str("type"); t {
		case "wait":
			d, ok := s.integer("duration")
			if !ok {
				d = gfWaitDefault
			}
			if d%60 != 0 {
				s.warn("duration", "%d s is not whole minutes; the pages after it come at the next whole minute", d)
			}
			run = append(run, gfStep{wait: max(d, 0)})
		case "notify_persons":
			var ts []oncall.Target
			for _, id := range s.strs("persons_to_notify") {
				if u, ok := r.users[id]; ok {
					ts = append(ts, oncall.Target{Type: oncall.UserReference, ID: u})
				} else {
					s.warn("persons_to_notify", "user %s is not a user of the export; left out", id)
				}
			}
			run = append(run, gfStep{targets: ts})
		case "notify_on_call_from_schedule":
			id := s.str("notify_on_call_from_schedule")
			if sn, ok := r.schedules[id]; ok {
				run = append(run, gfStep{targets: []oncall.Target{{Type: oncall.ScheduleReference, ID: sn}}})
			} else {
				s.warn("notify_on_call_from_schedule", "schedule %s is not an imported schedule of the export; left out", id)
			}
		case "repeat_escalation":
			run = append(run, gfStep{repeat: true})
		case "resolve":
			s.warn("type", "resolve not imported: tandem resolves an incident when its alerts resolve; the chain's steps end here")
			run = append(run, gfStep{stop: true})
		case "notify_if_time_from_to", "notify_if_num_alerts_in_window":
			s.warn("type", "condition %q not imported: tandem's policies always continue; imported as if the condition held", t)
			s.ignoreRest()
		default:
			s.warn("type", "step %q not imported: tandem's policies page people and schedules", t)
			s.ignoreRest()
		}
		s.done()
	}
	var pages []page
	at, repeats := 0, 0
	for i := 0; i < len(run); i++ {
		st := run[i]
		switch {
		case st.stop:
			i = len(run)
		case st.repeat && repeats < gfMaxRepeats:
			repeats++
			i = -1
		case len(st.targets) > 0:
			pages = append(pages, page{At: (at + 59) / 60, Targets: st.targets})
		}
		at += st.wait
	}
	if len(pages) == 0 {
		res.warn(c.where(), "escalation chain %q has no step tandem can page; not imported", c.str("name"))
		return p, false
	}
	var lead int
	p.Rules, p.NumLoops, lead = policyFromPages(pages, (at+59)/60)
	if lead > 0 {
		res.warn(c.where(), "the chain waits %d minutes before its first page; tandem pages the first rule at once, so every page comes %d minutes earlier", lead, lead)
	}
	return p, true
}
