package importer

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// PagerDutyAPI reads the JSON a user saved from PagerDuty's REST API v2
// into dir (every *.json file, in name order): list responses
// ({"users": […], "more": …}, paginated over several files) and single
// objects ({"schedule": {…}}) of GET /users, /teams, /schedules/{id}
// (with schedule_layers, and overrides_subschedule when saved with
// since/until), /escalation_policies and /services. A file is recognised
// by its top-level key, not its name.
func PagerDutyAPI(dir string, nm *Namer) (*Result, error) {
	files, err := readDir(dir, "*.json")
	if err != nil {
		return nil, err
	}
	return PagerDutyJSON(files, nm)
}

// PagerDutyJSON is PagerDutyAPI on in-memory files (name → content).
func PagerDutyJSON(files map[string][]byte, nm *Namer) (*Result, error) {
	res := &Result{Source: "pagerduty"}
	d, err := readPagerDutyJSON(files, res)
	if err != nil {
		return nil, err
	}
	convertPagerDuty(d, nm, res)
	sortWarnings(res.Warnings)
	return res, nil
}

// readPagerDutyJSON reads the PagerDuty objects of the files.
func readPagerDutyJSON(files map[string][]byte, res *Result) (*PDData, error) {
	d := &PDData{}
	userTeams := map[string][]string{}
	seen := map[string]map[string]bool{}
	dup := func(kind, id, pos string) bool {
		if seen[kind] == nil {
			seen[kind] = map[string]bool{}
		}
		if id != "" && seen[kind][id] {
			res.warn(pos, "%s %s appears twice; the first is kept", kind, id)
			return true
		}
		seen[kind][id] = true
		return false
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		v, err := decodeJSON(files[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		top := newObj(res, name, "", v)
		top.ignore("limit", "offset", "more", "total")
		for _, k := range slices.Sorted(maps.Keys(top.m)) {
			var items []*obj
			switch k {
			case "users", "teams", "schedules", "escalation_policies", "services":
				items = top.objs(k)
			case "user", "team", "schedule", "escalation_policy", "service":
				items = []*obj{top.sub(k)}
			default:
				continue
			}
			for _, it := range items {
				switch k {
				case "users", "user":
					u, teams := pdAPIUser(it)
					userTeams[u.ID] = append(userTeams[u.ID], teams...)
					if !dup("user", u.ID, u.Pos) {
						d.Users = append(d.Users, u)
					}
				case "teams", "team":
					t := PDTeam{ID: it.str("id"), Name: it.str("name"), Description: it.str("description"), Pos: it.where()}
					it.ignore("type", "summary", "self", "html_url")
					it.done()
					if !dup("team", t.ID, t.Pos) {
						d.Teams = append(d.Teams, t)
					}
				case "schedules", "schedule":
					s := pdAPISchedule(it)
					if !dup("schedule", s.ID, s.Pos) {
						d.Schedules = append(d.Schedules, s)
					}
				case "escalation_policies", "escalation_policy":
					p := pdAPIPolicy(it)
					if !dup("escalation policy", p.ID, p.Pos) {
						d.Policies = append(d.Policies, p)
					}
				case "services", "service":
					s := pdAPIService(it)
					if !dup("service", s.ID, s.Pos) {
						d.Services = append(d.Services, s)
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(top.m)) {
			if !top.used[k] {
				top.warn(k, "not a PagerDuty REST API v2 list or object of users, teams, schedules, escalation_policies or services; skipped")
				top.used[k] = true
			}
		}
	}
	// Team membership comes with the users (GET /users?include[]=teams
	// lists each user's teams).
	teamIdx := map[string]int{}
	for i, t := range d.Teams {
		teamIdx[t.ID] = i
	}
	for _, u := range d.Users {
		for _, t := range userTeams[u.ID] {
			if i, ok := teamIdx[t]; ok {
				d.Teams[i].Members = append(d.Teams[i].Members, u.ID)
			}
		}
	}
	return d, nil
}

func refIDs(o *obj, key string) []string {
	var out []string
	for _, r := range o.objs(key) {
		out = append(out, r.str("id"))
		r.ignore("type", "summary", "self", "html_url")
		r.done()
	}
	return out
}

// pdAPIUser reads a user and the ids of its teams.
func pdAPIUser(o *obj) (PDUser, []string) {
	u := PDUser{ID: o.str("id"), Name: o.str("name"), Email: o.str("email"), Role: o.str("role"), TimeZone: o.str("time_zone"), Pos: o.where()}
	teams := refIDs(o, "teams")
	o.ignore("type", "summary", "self", "html_url", "avatar_url", "invitation_sent", "coordinated_incidents")
	o.done()
	return u, teams
}

func pdAPITime(o *obj, key string, required bool) (t time.Time, ok bool) {
	s := o.str(key)
	if s == "" {
		if required {
			o.warn(key, "required")
			return t, false
		}
		return t, true
	}
	tm, err := parsePDTime(s)
	if err != nil {
		o.warn(key, "%v", err)
		return t, false
	}
	return tm, true
}

func pdAPISchedule(o *obj) PDSchedule {
	s := PDSchedule{ID: o.str("id"), Name: o.str("name"), Description: o.str("description"), TimeZone: o.str("time_zone"), Pos: o.where()}
	// users, escalation_policies and final_schedule are computed from the
	// rest; the calendar URLs are PagerDuty's own.
	o.ignore("type", "summary", "self", "html_url", "users", "escalation_policies", "final_schedule", "web_cal_url", "http_cal_url")
	layers := o.objs("schedule_layers")
	// GET returns the layers highest priority first, the reverse of the
	// order POST takes (and the UI numbers) them in.
	for i := len(layers) - 1; i >= 0; i-- {
		lo := layers[i]
		l := PDLayer{Name: lo.str("name"), Pos: lo.where()}
		st, ok1 := pdAPITime(lo, "start", true)
		vs, ok2 := pdAPITime(lo, "rotation_virtual_start", true)
		en, ok3 := pdAPITime(lo, "end", false)
		l.Start, l.VirtualStart, l.End = st, vs, en
		l.TurnSeconds, _ = lo.integer("rotation_turn_length_seconds")
		for _, uw := range lo.objs("users") {
			u := uw.sub("user")
			l.Users = append(l.Users, u.str("id"))
			u.ignore("type", "summary", "self", "html_url")
			u.done()
			uw.done()
		}
		for _, ro := range lo.objs("restrictions") {
			r := PDRestriction{Type: ro.str("type"), StartTimeOfDay: ro.str("start_time_of_day"), Pos: ro.where()}
			r.DurationSeconds, _ = ro.integer("duration_seconds")
			r.StartDayOfWeek, _ = ro.integer("start_day_of_week")
			ro.done()
			l.Restrictions = append(l.Restrictions, r)
		}
		lo.ignore("id", "rendered_schedule_entries", "rendered_coverage_percentage")
		lo.done()
		if ok1 && ok2 && ok3 {
			s.Layers = append(s.Layers, l)
		} else {
			o.res.warn(l.Pos, "layer left out: its times are missing or invalid")
		}
	}
	if o.has("overrides_subschedule") {
		sub := o.sub("overrides_subschedule")
		for _, e := range sub.objs("rendered_schedule_entries") {
			st, ok1 := pdAPITime(e, "start", true)
			en, ok2 := pdAPITime(e, "end", true)
			u := e.sub("user")
			ov := PDOverride{User: u.str("id"), Start: st, End: en, Pos: e.where()}
			u.ignore("type", "summary", "self", "html_url")
			u.done()
			e.ignore("id")
			e.done()
			if ok1 && ok2 {
				s.Overrides = append(s.Overrides, ov)
			}
		}
		sub.ignore("name", "rendered_coverage_percentage")
		sub.done()
	}
	o.done()
	return s
}

func pdAPIPolicy(o *obj) PDPolicy {
	p := PDPolicy{ID: o.str("id"), Name: o.str("name"), Description: o.str("description"), Pos: o.where()}
	p.NumLoops, _ = o.integer("num_loops")
	p.Teams = refIDs(o, "teams")
	o.ignore("type", "summary", "self", "html_url", "services", "on_call_handoff_notifications")
	for _, ro := range o.objs("escalation_rules") {
		r := PDRule{Pos: ro.where()}
		r.Delay, _ = ro.integer("escalation_delay_in_minutes")
		for _, t := range ro.objs("targets") {
			r.Targets = append(r.Targets, PDTarget{Type: t.str("type"), ID: t.str("id"), Pos: t.where()})
			t.ignore("summary", "self", "html_url")
			t.done()
		}
		if ro.has("escalation_rule_assignment_strategy") {
			as := ro.sub("escalation_rule_assignment_strategy")
			if as.str("type") == "round_robin" {
				o.res.warn(as.where(), "round_robin assignment not imported: tandem pages every target of a rule")
			}
			as.done()
		}
		ro.ignore("id", "escalation_rule_assignment_strategy")
		ro.done()
		p.Rules = append(p.Rules, r)
	}
	o.done()
	return p
}

func pdAPIService(o *obj) PDService {
	s := PDService{ID: o.str("id"), Name: o.str("name"), Description: o.str("description"), Pos: o.where()}
	if ep := o.sub("escalation_policy"); ep.m != nil {
		s.Policy = ep.str("id")
		ep.ignore("type", "summary", "self", "html_url")
		ep.done()
	}
	s.Teams = refIDs(o, "teams")
	if n, ok := o.integer("acknowledgement_timeout"); ok {
		s.AckTimeoutSeconds = &n
	}
	if o.has("auto_resolve_timeout") {
		o.warn("auto_resolve_timeout", "not imported: tandem resolves an incident when its alerts resolve")
	}
	if len(o.list("integrations")) > 0 {
		o.warn("integrations", "not imported: send alerts to tandem with tandem alertmanager config, or its webhooks")
	}
	if st := o.str("status"); st != "" && st != "active" {
		o.warn("status", "status %q not imported: tandem pages for every service that has an escalation policy", st)
	}
	o.ignore("type", "summary", "self", "html_url", "created_at", "last_incident_timestamp", "alert_creation", "auto_resolve_timeout")
	o.done()
	return s
}
