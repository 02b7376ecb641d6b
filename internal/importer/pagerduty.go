package importer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

// PagerDuty's objects as both of its sources (Terraform and the REST API)
// describe them. Pos fields say where each came from, for warnings. IDs
// are PagerDuty ids (API) or resource addresses (Terraform).

// PDUser is a PagerDuty user.
type PDUser struct {
	ID, Name, Email, Role, TimeZone, Pos string
}

// PDTeam is a PagerDuty team and the ids of its members.
type PDTeam struct {
	ID, Name, Description, Pos string
	Members                    []string
}

// PDSchedule is a schedule; Layers are lowest priority first (Layer 1
// first, as Terraform writes them and the API's POST takes them).
type PDSchedule struct {
	ID, Name, Description, TimeZone, Pos string
	Layers                               []PDLayer
	Overrides                            []PDOverride
}

// PDLayer is a schedule layer.
type PDLayer struct {
	Name, Pos                string
	Start, End, VirtualStart time.Time // End zero: never
	TurnSeconds              int
	Users                    []string
	Restrictions             []PDRestriction
}

// PDRestriction is a layer restriction.
type PDRestriction struct {
	Type, StartTimeOfDay, Pos       string
	DurationSeconds, StartDayOfWeek int
}

// PDOverride puts a user on call for a span.
type PDOverride struct {
	User, Pos  string
	Start, End time.Time
}

// PDPolicy is an escalation policy.
type PDPolicy struct {
	ID, Name, Description, Pos string
	NumLoops                   int
	Rules                      []PDRule
	Teams                      []string
}

// PDRule is one escalation rule.
type PDRule struct {
	Pos     string
	Delay   int
	Targets []PDTarget
}

// PDTarget is a user or schedule a rule pages.
type PDTarget struct {
	Type, ID, Pos string
}

// PDService is a service; AckTimeoutSeconds nil means none.
type PDService struct {
	ID, Name, Description, Pos, Policy string
	AckTimeoutSeconds                  *int
	Teams                              []string
}

// PDData is everything read from one PagerDuty source.
type PDData struct {
	Users     []PDUser
	Teams     []PDTeam
	Schedules []PDSchedule
	Policies  []PDPolicy
	Services  []PDService
}

// unownedTeam is the team that owns imported services whose source names
// no team (tandem requires an owner); each such service is a warning.
const unownedTeam = "unowned"

// convertPagerDuty turns PagerDuty's objects into tandem's.
func convertPagerDuty(d *PDData, nm *Namer, res *Result) {
	users := map[string]string{}
	people := map[string]int{}
	for _, u := range d.Users {
		name, i := res.addPerson(nm, catalog.Person{FullName: u.Name, Email: u.Email, TimeZone: u.TimeZone}, "user", u.Pos, u.Pos)
		users[u.ID] = name
		res.remember("pagerduty_user", u.ID, name)
		if u.Role != "" && u.Role != "user" {
			res.warn(u.Pos, "role %q not imported: tandem people have no roles (API access goes by token scope)", u.Role)
		}
		if i >= 0 {
			people[u.ID] = i
		}
	}
	teams := map[string]string{}
	for _, t := range d.Teams {
		name, existing := nm.TeamFor(t.Name, "team")
		teams[t.ID] = name
		res.remember("pagerduty_team", t.ID, name)
		if existing {
			res.warn(t.Pos, "team %q is already defined in the output directory; its members from this import are not added", name)
			continue
		}
		team := catalog.Team{Name: name, DisplayName: t.Name, Description: t.Description}
		for _, m := range t.Members {
			p, ok := users[m]
			if !ok {
				res.warn(t.Pos, "member %s is not a user of the import; left out", m)
				continue
			}
			team.Members = append(team.Members, p)
			if i, ok := people[m]; ok && res.People[i].Team == "" {
				res.People[i].Team = name
			}
		}
		res.Teams = append(res.Teams, team)
	}

	schedules := map[string]string{}
	for _, s := range d.Schedules {
		name := nm.Schedule("schedule", s.Name)
		schedules[s.ID] = name
		res.remember("pagerduty_schedule", s.ID, name)
		if out, ok := convertPDSchedule(s, name, users, res); ok {
			res.Schedules = append(res.Schedules, out)
		} else {
			delete(schedules, s.ID)
		}
	}

	policies := map[string]string{}
	policyTeam := map[string]string{}
	for _, p := range d.Policies {
		name := nm.Policy("policy", p.Name)
		pol := oncall.Policy{Name: name, Description: p.Description, NumLoops: p.NumLoops}
		for ri, r := range p.Rules {
			rule := oncall.Rule{EscalationDelayInMinutes: r.Delay}
			for _, t := range r.Targets {
				switch t.Type {
				case "user_reference", "user":
					if u, ok := users[t.ID]; ok {
						rule.Targets = append(rule.Targets, oncall.Target{Type: oncall.UserReference, ID: u})
					} else {
						res.warn(t.Pos, "user %s is not a user of the import; target left out", t.ID)
					}
				case "schedule_reference", "schedule", "schedule_v3_reference":
					if sc, ok := schedules[t.ID]; ok {
						rule.Targets = append(rule.Targets, oncall.Target{Type: oncall.ScheduleReference, ID: sc})
					} else {
						res.warn(t.Pos, "schedule %s is not a schedule of the import; target left out", t.ID)
					}
				default:
					res.warn(t.Pos, "target type %q not imported: tandem pages users and schedules", t.Type)
				}
			}
			if len(rule.Targets) == 0 {
				res.warn(r.Pos, "rule %d has no target tandem can page; the rule is left out", ri+1)
				continue
			}
			if rule.EscalationDelayInMinutes < 1 {
				res.warn(r.Pos, "escalation_delay_in_minutes %d raised to 1, tandem's minimum", rule.EscalationDelayInMinutes)
				rule.EscalationDelayInMinutes = 1
			}
			pol.Rules = append(pol.Rules, rule)
		}
		if len(pol.Rules) == 0 {
			res.warn(p.Pos, "escalation policy %q has no rule tandem can page; not imported", p.Name)
			continue
		}
		if pol.NumLoops < 0 || pol.NumLoops > 9 {
			res.warn(p.Pos, "num_loops %d is outside PagerDuty's 0-9; not imported", pol.NumLoops)
			continue
		}
		policies[p.ID] = name
		res.remember("pagerduty_escalation_policy", p.ID, name)
		for _, t := range p.Teams {
			if tn, ok := teams[t]; ok {
				policyTeam[p.ID] = tn
				break
			}
		}
		res.Policies = append(res.Policies, pol)
	}

	unowned := false
	for _, s := range d.Services {
		name, existing := nm.ServiceFor(s.Name, "service")
		res.remember("pagerduty_service", s.ID, name)
		if existing {
			res.warn(s.Pos, "service %q is already defined in the output directory; set its escalation_policy there", name)
			continue
		}
		svc := catalog.Service{Name: name, Description: s.Description}
		for _, t := range s.Teams {
			if tn, ok := teams[t]; ok {
				svc.Team = tn
				break
			}
		}
		if s.Policy != "" {
			if p, ok := policies[s.Policy]; ok {
				svc.EscalationPolicy = p
				if svc.Team == "" {
					svc.Team = policyTeam[s.Policy]
				}
			} else {
				res.warn(s.Pos, "escalation policy %s is not a policy of the import; the service has none", s.Policy)
			}
		}
		if svc.Team == "" {
			svc.Team = unownedTeam
			unowned = true
			res.warn(s.Pos, "no team owns service %q (neither it nor its escalation policy names one); it is given to team %q", s.Name, unownedTeam)
		}
		res.Services = append(res.Services, svc)
		res.remember("pagerduty_service_policy", s.ID, svc.EscalationPolicy)
		if s.AckTimeoutSeconds != nil && *s.AckTimeoutSeconds > 0 {
			m := (*s.AckTimeoutSeconds + 59) / 60
			if *s.AckTimeoutSeconds%60 != 0 {
				res.warn(s.Pos, "acknowledgement_timeout %d s is not whole minutes; rounded up to %d minutes", *s.AckTimeoutSeconds, m)
			}
			res.AckTimeouts = append(res.AckTimeouts, config.ServiceAckTimeout{Service: name, AckTimeoutMinutes: m})
		}
	}
	if unowned {
		addUnownedTeam(nm, res)
	}
}

// addUnownedTeam defines the unowned team unless the directory has it.
func addUnownedTeam(nm *Namer, res *Result) {
	if nm.Existing().Teams[unownedTeam] {
		return
	}
	for _, t := range res.Teams {
		if t.Name == unownedTeam {
			return
		}
	}
	nm.take("entity", unownedTeam)
	res.Teams = append(res.Teams, catalog.Team{Name: unownedTeam, DisplayName: "Unowned (imported)",
		Description: "Owns imported services whose source named no team; give each service its real team."})
}

func convertPDSchedule(s PDSchedule, name string, users map[string]string, res *Result) (config.ScheduleSpec, bool) {
	out := config.ScheduleSpec{Name: name, Description: s.Description, TimeZone: s.TimeZone}
	loc := time.UTC
	if s.TimeZone != "" {
		l, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			res.warn(s.Pos, "time zone %q is not an IANA zone; schedule not imported", s.TimeZone)
			return out, false
		}
		loc = l
	}
	layerNames := map[string]bool{}
	layerName := func(n string, i int) string {
		base := Sanitize(n)
		if base == "" {
			base = fmt.Sprintf("layer-%d", i+1)
		}
		c := base
		for k := 2; layerNames[c]; k++ {
			c = fmt.Sprintf("%s-%d", base, k)
		}
		layerNames[c] = true
		return c
	}
	for li, l := range s.Layers {
		var names []string
		ok := true
		for _, u := range l.Users {
			n, found := users[u]
			if !found {
				res.warn(l.Pos, "user %s is not a user of the import; the layer is left out (dropping one user would change everyone's turn)", u)
				ok = false
				break
			}
			names = append(names, n)
		}
		if !ok {
			continue
		}
		if len(names) == 0 {
			res.warn(l.Pos, "layer has no users; left out")
			continue
		}
		var rot oncall.Rotation
		switch {
		case l.TurnSeconds <= 0:
			res.warn(l.Pos, "rotation_turn_length_seconds %d is not positive; layer left out", l.TurnSeconds)
			continue
		case l.TurnSeconds%86400 == 0 && l.TurnSeconds/86400 <= 365:
			rot = oncall.Rotation{Days: l.TurnSeconds / 86400}
		case l.TurnSeconds%3600 == 0 && l.TurnSeconds/3600 <= 8760:
			rot = oncall.Rotation{Hours: l.TurnSeconds / 3600}
		default:
			res.warn(l.Pos, "rotation_turn_length_seconds %d is not whole hours (tandem rotates by hours or days); layer left out", l.TurnSeconds)
			continue
		}
		var restr []config.RestrictionSpec
		for _, r := range l.Restrictions {
			if rr, ok := pdRestriction(r, res); ok {
				restr = append(restr, rr)
			}
		}
		if len(restr) != len(l.Restrictions) {
			res.warn(l.Pos, "layer left out: without all its restrictions it would be on call when PagerDuty's is not")
			continue
		}
		rr := rotation{Name: layerName(l.Name, li), Users: names, Rotation: rot, Anchor: l.VirtualStart,
			Start: l.Start, End: l.End, Loc: loc, Restrictions: restr, Pos: l.Pos}
		if layers, ok := rr.layers(res); ok {
			out.Layers = append(out.Layers, layers...)
		}
	}
	if len(out.Layers) == 0 {
		res.warn(s.Pos, "schedule %q has no layer tandem can express; not imported", s.Name)
		return out, false
	}
	for _, o := range s.Overrides {
		p, ok := users[o.User]
		if !ok {
			res.warn(o.Pos, "override user %s is not a user of the import; override left out", o.User)
			continue
		}
		if ov, ok := override(p, o.Start, o.End, "", o.Pos, res); ok {
			out.Overrides = append(out.Overrides, ov)
		}
	}
	return out, true
}

func pdRestriction(r PDRestriction, res *Result) (config.RestrictionSpec, bool) {
	tod := r.StartTimeOfDay
	if parts := strings.Split(tod, ":"); len(parts) < 2 || len(parts) > 3 {
		res.warn(r.Pos, "start_time_of_day %q is not HH:MM:SS; restriction not imported", tod)
		return config.RestrictionSpec{}, false
	}
	out := config.RestrictionSpec{Type: r.Type, StartTimeOfDay: tod, DurationSeconds: r.DurationSeconds}
	switch r.Type {
	case oncall.DailyRestriction:
		if r.DurationSeconds <= 0 || r.DurationSeconds > 86400 {
			res.warn(r.Pos, "daily restriction of %d s is outside 1 s to 24 h; not imported", r.DurationSeconds)
			return out, false
		}
	case oncall.WeeklyRestriction:
		if r.StartDayOfWeek < 1 || r.StartDayOfWeek > 7 {
			res.warn(r.Pos, "start_day_of_week %d is not 1 (Monday) to 7 (Sunday); restriction not imported", r.StartDayOfWeek)
			return out, false
		}
		if r.DurationSeconds <= 0 || r.DurationSeconds > 7*86400 {
			res.warn(r.Pos, "weekly restriction of %d s is outside 1 s to 7 days; not imported", r.DurationSeconds)
			return out, false
		}
		out.StartDayOfWeek = strconv.Itoa(r.StartDayOfWeek)
	default:
		res.warn(r.Pos, "restriction type %q not imported: tandem knows daily_restriction and weekly_restriction", r.Type)
		return out, false
	}
	return out, true
}

// parsePDTime reads PagerDuty's ISO 8601 times.
func parsePDTime(s string) (time.Time, error) {
	for _, f := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(f, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q; expected ISO 8601 such as 2026-03-02T09:00:00-05:00", s)
}
