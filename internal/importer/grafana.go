package importer

import (
	"fmt"
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
// users*.json, schedules*.json, on_call_shifts*.json,
// escalation_chains*.json and escalation_policies*.json, each a list
// response ({"results": […]}, paginated over several files) or one object.
func GrafanaOnCallExport(dir string, nm *Namer) (*Result, error) {
	files, err := readDir(dir, "*.json")
	if err != nil {
		return nil, err
	}
	return GrafanaOnCall(files, nm)
}

var icalDays = map[string]string{"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}

// GrafanaOnCall is GrafanaOnCallExport on in-memory files.
func GrafanaOnCall(files map[string][]byte, nm *Namer) (*Result, error) {
	res := &Result{Source: "grafana-oncall"}
	byKind, err := readExport(res, files, "results", "users", "schedules", "on_call_shifts", "escalation_chains", "escalation_policies")
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for _, u := range byKind["users"] {
		res.Users++
		email := u.str("email")
		name, existing := nm.PersonFor(email, u.str("username"), "user")
		users[u.str("id")] = name
		p := catalog.Person{Name: name, Email: email}
		for _, s := range u.objs("slack") {
			if id, ok := notify.SlackMemberID(s.str("user_id")); ok && p.Slack == "" {
				p.Slack = id
			} else if !ok {
				s.warn("user_id", "%q is not a Slack member ID; left out", s.str("user_id"))
			}
			s.ignore("team_id")
			s.done()
		}
		if tz := u.str("timezone"); tz != "" {
			if _, err := time.LoadLocation(tz); err == nil {
				p.TimeZone = tz
			}
		}
		u.ignore("grafana_id", "role", "teams", "username", "is_phone_number_verified", "name")
		u.done()
		if !existing {
			res.People = append(res.People, p)
		}
	}
	shifts := map[string]*obj{}
	for _, s := range byKind["on_call_shifts"] {
		shifts[s.str("id")] = s
	}
	schedules := map[string]string{}
	for _, s := range byKind["schedules"] {
		if out, ok := gfSchedule(s, nm, shifts, users, res); ok {
			schedules[s.str("id")] = out.Name
			res.Schedules = append(res.Schedules, out)
		}
	}
	for id, s := range shifts {
		if s.used["type"] {
			continue
		}
		res.warn(s.where(), "shift %s belongs to no schedule of the export; left out", id)
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
		if p, ok := gfChain(c, steps, nm, users, schedules, res); ok {
			res.Policies = append(res.Policies, p)
		}
	}
	sortWarnings(res.Warnings)
	return res, nil
}

func gfSchedule(s *obj, nm *Namer, shifts map[string]*obj, users map[string]string, res *Result) (config.ScheduleSpec, bool) {
	out := config.ScheduleSpec{Description: "", TimeZone: s.str("time_zone")}
	s.ignore("id", "team_id", "on_call_now", "slack", "enable_web_overrides")
	typ := s.str("type")
	if typ == "ical" || s.has("ical_url_primary") {
		s.warn("ical_url_primary", "an iCal schedule is not imported: tandem keeps rotations as config, not a calendar feed; export the calendar's rotations as OnCall shifts")
		s.ignoreRest()
		return out, false
	}
	if s.has("ical_url_overrides") {
		s.warn("ical_url_overrides", "iCal overrides are not imported; add them as overrides or with tandem oncall override")
	}
	s.ignore("ical_url_overrides")
	loc := time.UTC
	if out.TimeZone != "" {
		l, err := time.LoadLocation(out.TimeZone)
		if err != nil {
			s.warn("time_zone", "%q is not an IANA zone; schedule skipped", out.TimeZone)
			return out, false
		}
		loc = l
	}
	type lvl struct {
		level int
		layer config.LayerSpec
	}
	var layers []lvl
	for _, id := range s.strs("shifts") {
		sh, ok := shifts[id]
		if !ok {
			s.warn("shifts", "shift %s is not in the export; left out", id)
			continue
		}
		level, _ := sh.integer("level")
		l, ov, ok := gfShift(sh, loc, users, res)
		if ov != nil {
			out.Overrides = append(out.Overrides, *ov)
		}
		if ok {
			layers = append(layers, lvl{level, l})
		}
	}
	out.Name = nm.Schedule("schedule", s.str("name"))
	s.done()
	sort.SliceStable(layers, func(i, j int) bool { return layers[i].level < layers[j].level })
	seen := map[string]bool{}
	for i, l := range layers {
		if i > 0 && layers[i-1].level == l.level {
			res.warn(s.where()+".shifts", "shifts %s and %s share level %d: where both are on call OnCall notifies both, tandem pages %s", layers[i-1].layer.Name, l.layer.Name, l.level, l.layer.Name)
		}
		for n := 2; seen[l.layer.Name]; n++ {
			l.layer.Name = fmt.Sprintf("%s-%d", strings.TrimRight(l.layer.Name, "-0123456789"), n)
		}
		seen[l.layer.Name] = true
		out.Layers = append(out.Layers, l.layer)
	}
	if len(out.Layers) == 0 {
		res.warn(s.where(), "schedule has no shift tandem can express; not imported")
		return out, false
	}
	return out, true
}

// gfShift turns one OnCall shift into a layer (or, for an override
// shift, a schedule override).
func gfShift(sh *obj, schedLoc *time.Location, users map[string]string, res *Result) (config.LayerSpec, *config.OverrideSpec, bool) {
	typ := sh.str("type")
	loc := schedLoc
	if tz := sh.str("time_zone"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			sh.warn("time_zone", "%q is not an IANA zone; shift left out", tz)
			sh.ignoreRest()
			return config.LayerSpec{}, nil, false
		}
		loc = l
	}
	name := Sanitize(sh.str("name"))
	if name == "" {
		name = "shift"
	}
	sh.ignore("id", "team_id", "level", "source", "schedule", "week_start", "rotation_start")
	start, err := time.ParseInLocation("2006-01-02T15:04:05", sh.str("start"), loc)
	if err != nil {
		sh.warn("start", "expected yyyy-MM-ddTHH:mm:ss; shift left out")
		sh.ignoreRest()
		return config.LayerSpec{}, nil, false
	}
	dur, _ := sh.integer("duration")
	person := func(id string) (string, bool) {
		p, ok := users[id]
		if !ok {
			sh.warn("users", "user %s is not a user of the export; shift left out", id)
		}
		return p, ok
	}
	var until time.Time
	if u := sh.str("until"); u != "" {
		if until, err = time.ParseInLocation("2006-01-02T15:04:05", u, loc); err != nil {
			sh.warn("until", "expected yyyy-MM-ddTHH:mm:ss; shift left out")
			return config.LayerSpec{}, nil, false
		}
	}
	if sh.has("by_month") || sh.has("by_monthday") {
		sh.warn("by_month", "month and day-of-month rules are not imported; shift left out")
		sh.ignoreRest()
		return config.LayerSpec{}, nil, false
	}
	switch typ {
	case "override", "single_event":
		ids := sh.strs("users")
		sh.ignore("rolling_users", "frequency", "interval", "by_day", "start_rotation_from_user_index")
		sh.done()
		if len(ids) != 1 || dur <= 0 {
			res.warn(sh.where(), "a %s shift needs one user and a duration; left out (tandem puts one person on call)", typ)
			return config.LayerSpec{}, nil, false
		}
		p, ok := person(ids[0])
		if !ok {
			return config.LayerSpec{}, nil, false
		}
		end := start.Add(time.Duration(dur) * time.Second)
		if typ == "override" {
			return config.LayerSpec{}, &config.OverrideSpec{Person: p, Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339), Reason: "Grafana OnCall override"}, false
		}
		l, ok := pdLayerAt(name, []string{p}, "weekly", start, loc, true, nil, sh.where(), res)
		l.End = end.Format(time.RFC3339)
		return l, nil, ok
	case "rolling_users", "recurrent_event":
	default:
		sh.warn("type", "shift type %q not imported; left out", typ)
		sh.ignoreRest()
		return config.LayerSpec{}, nil, false
	}
	interval, ok := sh.integer("interval")
	if !ok || interval < 1 {
		interval = 1
	}
	freq := sh.str("frequency")
	var period time.Duration
	var rot string
	switch freq {
	case "hourly":
		period, rot = time.Duration(interval)*time.Hour, oncall.Rotation{Hours: interval}.String()
	case "daily":
		period, rot = time.Duration(interval)*24*time.Hour, oncall.Rotation{Days: interval}.String()
	case "weekly":
		period, rot = time.Duration(interval)*7*24*time.Hour, oncall.Rotation{Days: 7 * interval}.String()
	default:
		sh.warn("frequency", "frequency %q not imported (hourly, daily or weekly); shift left out", freq)
		sh.ignoreRest()
		return config.LayerSpec{}, nil, false
	}
	var names []string
	if typ == "rolling_users" {
		groups := sh.list("rolling_users")
		from, _ := sh.integer("start_rotation_from_user_index")
		sh.ignore("users")
		for gi, g := range groups {
			ids, _ := g.([]any)
			if len(ids) != 1 {
				res.warn(fmt.Sprintf("%s[%d]", sh.at("rolling_users"), gi), "a turn of %d users is not imported: tandem puts one person on call per turn; shift left out", len(ids))
				sh.ignoreRest()
				return config.LayerSpec{}, nil, false
			}
			id, _ := ids[0].(string)
			p, ok := person(id)
			if !ok {
				return config.LayerSpec{}, nil, false
			}
			names = append(names, p)
		}
		if len(names) > 0 {
			from = ((from % len(names)) + len(names)) % len(names)
			names = append(names[from:], names[:from]...)
		}
	} else {
		ids := sh.strs("users")
		sh.ignore("rolling_users", "start_rotation_from_user_index")
		if len(ids) != 1 {
			res.warn(sh.at("users"), "a recurrent event with %d users is not imported: tandem puts one person on call; shift left out", len(ids))
			sh.ignoreRest()
			return config.LayerSpec{}, nil, false
		}
		p, ok := person(ids[0])
		if !ok {
			return config.LayerSpec{}, nil, false
		}
		names = []string{p}
	}
	byDay := sh.strs("by_day")
	sh.done()
	if len(names) == 0 {
		res.warn(sh.where(), "shift has no users; left out")
		return config.LayerSpec{}, nil, false
	}
	d := time.Duration(dur) * time.Second
	var restr []config.RestrictionSpec
	tod := fmt.Sprintf("%02d:%02d:%02d", start.Hour(), start.Minute(), start.Second())
	switch {
	case len(byDay) > 0:
		// Events on the listed days at the start's time: one person, so the
		// turn order does not matter, or a daily rotation (OnCall allows
		// day limits on rolling users only weekly).
		if (typ == "rolling_users" && len(names) > 1) || interval != 1 || freq == "hourly" || d <= 0 || d > 24*time.Hour {
			res.warn(sh.at("by_day"), "day limits on a rotation of several people (or with an interval, or events longer than a day) are not imported; shift left out")
			return config.LayerSpec{}, nil, false
		}
		var days []string
		for _, b := range byDay {
			days = append(days, icalDays[b])
		}
		restr = []config.RestrictionSpec{{Type: oncall.DailyRestriction, Days: days, StartTimeOfDay: tod, DurationSeconds: int(d / time.Second)}}
		rot = "daily"
	case d <= 0 || d >= period:
		if d > period {
			res.warn(sh.at("duration"), "events longer than the rotation overlap; tandem's turns end at the next handoff")
		}
	case freq == "daily" && interval == 1:
		restr = []config.RestrictionSpec{{Type: oncall.DailyRestriction, StartTimeOfDay: tod, DurationSeconds: int(d / time.Second)}}
	case freq == "weekly" && interval == 1:
		restr = []config.RestrictionSpec{{Type: oncall.WeeklyRestriction, StartDayOfWeek: fmt.Sprint((int(start.Weekday())+6)%7 + 1), StartTimeOfDay: tod, DurationSeconds: int(d / time.Second)}}
	default:
		res.warn(sh.at("duration"), "events shorter than the rotation are imported for daily and weekly shifts only; shift left out")
		return config.LayerSpec{}, nil, false
	}
	l, ok := pdLayerAt(name, names, rot, start, loc, freq != "hourly", restr, sh.where(), res)
	if !ok {
		return l, nil, false
	}
	if !until.IsZero() {
		l.End = until.Format(time.RFC3339)
	}
	return l, nil, true
}

// gfChain turns an escalation chain's steps into a policy: notify steps
// up to the next wait page together (one rule), the waits between them
// are the delays, and repeat_escalation repeats the chain (OnCall repeats
// at most 5 times).
func gfChain(c *obj, steps []*obj, nm *Namer, users, schedules map[string]string, res *Result) (oncall.Policy, bool) {
	p := oncall.Policy{Name: nm.Policy("escalation", c.str("name"))}
	c.ignore("id", "team_id")
	c.done()
	var rules []oncall.Rule
	var cur []oncall.Target
	lead := 0
	flush := func() {
		if len(cur) > 0 {
			rules = append(rules, oncall.Rule{Targets: cur})
			cur = nil
		}
	}
	for _, s := range steps {
		s.ignore("id", "escalation_chain_id", "position", "important")
		switch t := s.str("type"); t {
		case "wait":
			d, _ := s.integer("duration")
			m := (d + 59) / 60
			if d%60 != 0 {
				s.warn("duration", "%d s is not whole minutes; rounded up to %d", d, m)
			}
			flush()
			if len(rules) == 0 {
				lead += m
			} else {
				rules[len(rules)-1].EscalationDelayInMinutes += m
			}
		case "notify_persons":
			for _, id := range s.strs("persons_to_notify") {
				if u, ok := users[id]; ok {
					cur = append(cur, oncall.Target{Type: oncall.UserReference, ID: u})
				} else {
					s.warn("persons_to_notify", "user %s is not a user of the export; left out", id)
				}
			}
		case "notify_on_call_from_schedule":
			id := s.str("notify_on_call_from_schedule")
			if sn, ok := schedules[id]; ok {
				cur = append(cur, oncall.Target{Type: oncall.ScheduleReference, ID: sn})
			} else {
				s.warn("notify_on_call_from_schedule", "schedule %s is not a schedule of the export; left out", id)
			}
		case "repeat_escalation":
			flush()
			p.NumLoops = 5
		default:
			s.warn("type", "step %q not imported: tandem's policies page people and schedules", t)
			s.ignoreRest()
		}
		s.done()
	}
	flush()
	if len(rules) == 0 {
		res.warn(c.where(), "escalation chain %q has no step tandem can page; not imported", c.str("name"))
		return p, false
	}
	if lead > 0 {
		res.warn(c.where(), "the chain waits %d minutes before its first notification; tandem pages the first rule at once, so every page comes %d minutes earlier", lead, lead)
	}
	// The last rule's delay runs to the repeat; a repeat also waits the
	// leading wait again before the first notification.
	rules[len(rules)-1].EscalationDelayInMinutes += lead
	for i := range rules {
		if rules[i].EscalationDelayInMinutes < 1 {
			if i < len(rules)-1 || p.NumLoops > 0 {
				res.warn(c.where(), "rule %d is followed by no wait; tandem's minimum delay of 1 minute is used", i+1)
			}
			rules[i].EscalationDelayInMinutes = 1
		}
	}
	p.Rules = rules
	return p, true
}
