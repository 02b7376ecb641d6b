package config

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/twilio"
)

// OncallSection holds the top-level keys of a tandem document for on-call
// schedules, escalation policies and notification rules
// (docs/oncall-schedules.md explains how they work together).
type OncallSection struct {
	// Schedules say who is on call when: rotations in layers, with
	// overrides.
	Schedules []ScheduleSpec `yaml:"schedules"`
	// EscalationPolicies say whom an incident pages, in which order and
	// how often, in PagerDuty's vocabulary.
	EscalationPolicies []oncall.Policy `yaml:"escalation_policies"`
	// NotificationRules give people more contact methods and their own
	// rules for when to use which.
	NotificationRules []oncall.PersonRules `yaml:"notification_rules"`
	// NotificationDefaults are the rules for people without rules of their
	// own (default slack at once, email after 5 minutes). At most one
	// document may set them.
	NotificationDefaults []oncall.NotificationRule `yaml:"notification_defaults"`
	// AckTimeouts set a service's ack timeout, over its escalation
	// policy's.
	AckTimeouts []ServiceAckTimeout `yaml:"ack_timeouts"`
}

// ScheduleSpec is a schedule as written in YAML.
type ScheduleSpec struct {
	// Name identifies the schedule (required): escalation targets, the API
	// and the CLI refer to it. Written as a team's name is.
	Name string `yaml:"name"`
	// Description is free text about the schedule.
	Description string `yaml:"description,omitempty"`
	// TimeZone is the IANA zone the schedule's times are in (default UTC);
	// layers inherit it.
	TimeZone string `yaml:"time_zone,omitempty"`
	// Layers are the rotations, lowest priority first (required): at any
	// moment the last layer that has someone on call wins.
	Layers []LayerSpec `yaml:"layers"`
	// Overrides are spans in which a person is on call over every layer.
	Overrides []OverrideSpec `yaml:"overrides,omitempty"`
}

// LayerSpec is one rotation layer as written in YAML. Later layers win.
type LayerSpec struct {
	// Name identifies the layer within its schedule (default layer-N, N
	// its position from 1).
	Name string `yaml:"name"`
	// Users are the people who take turns, in order (required): turn k,
	// counted from 0 at the start, is users[k mod len(users)].
	Users []string `yaml:"users,flow"`
	// Rotation is the length of one turn (required): daily, weekly, or a
	// whole number of hours (12h), days (3d) or weeks (2w), up to a year.
	Rotation string `yaml:"rotation"`
	// Handoff is a time of day, HH:MM in the layer's zone, at which turns
	// change (default 00:00); hour-based rotations use it for the first
	// handoff only.
	Handoff string `yaml:"handoff,omitempty"`
	// Start is a date, YYYY-MM-DD in the layer's zone, of the first handoff
	// (required); before it the layer has nobody on call.
	Start string `yaml:"start"`
	// End is a time after the start at which the layer stops: a local date
	// or date-time in the layer's zone, or RFC 3339.
	End string `yaml:"end,omitempty"`
	// TimeZone is the layer's IANA zone (default: the schedule's).
	TimeZone string `yaml:"time_zone,omitempty"`
	// Restrictions are windows in which the layer is on call; outside them
	// it has nobody and lower layers show through.
	Restrictions []RestrictionSpec `yaml:"restrictions,omitempty"`
}

// RestrictionSpec is a layer restriction in PagerDuty's vocabulary, with
// days as a shorthand for daily restrictions on some weekdays only.
type RestrictionSpec struct {
	// Type is the kind of window (required): daily_restriction opens every
	// day (or on days), weekly_restriction once a week on
	// start_day_of_week.
	Type string `yaml:"type"`
	// StartTimeOfDay is a time of day, HH:MM or HH:MM:SS in the layer's
	// zone, at which the window opens (required).
	StartTimeOfDay string `yaml:"start_time_of_day"`
	// StartDayOfWeek is the day a weekly window opens, mon…sun or 1
	// (Monday) to 7 (Sunday); for weekly_restriction only, and required
	// there.
	StartDayOfWeek string `yaml:"start_day_of_week,omitempty"`
	// Duration is how long the window stays open, a duration in hours and
	// minutes (8h, 90m): at most 24h for a daily window, 168h for a weekly
	// one. Give duration or duration_seconds (one is required).
	Duration string `yaml:"duration,omitempty"`
	// DurationSeconds is the same in seconds, PagerDuty's form.
	DurationSeconds int `yaml:"duration_seconds,omitempty"`
	// Days are the days a daily window opens (default every day): mon…sun,
	// ranges such as mon-fri, weekdays or weekends; daily_restriction only.
	Days []string `yaml:"days,omitempty,flow"`
}

// OverrideSpec puts a person on call for a span, in place of every layer.
type OverrideSpec struct {
	// Person names who is on call during the override (required).
	Person string `yaml:"person"`
	// Start is a time at which the override begins (required): a local
	// date-time such as 2026-12-24T18:00 in the schedule's zone, a date, or
	// RFC 3339.
	Start string `yaml:"start"`
	// End is a time after the start, written the same way (required).
	End string `yaml:"end"`
	// Reason is free text, shown with the override.
	Reason string `yaml:"reason,omitempty"`
}

// ServiceAckTimeout sets a service's ack timeout, over its policy's.
type ServiceAckTimeout struct {
	// Service names the service (required), once in all ack_timeouts.
	Service string `yaml:"service"`
	// AckTimeoutMinutes re-triggers the service's incidents that stay
	// acknowledged and unresolved this many minutes, at least 1 (required).
	AckTimeoutMinutes int `yaml:"ack_timeout_minutes"`
}

// OncallConfig is the validated on-call config: schedules, escalation
// policies, notification rules and ack timeouts, ready for
// oncall.NewDirectory.
type OncallConfig struct {
	oncall.Config

	schedules []entry[ScheduleSpec]
	policies  []entry[oncall.Policy]
	rules     []entry[oncall.PersonRules]
	defaults  []entry[[]oncall.NotificationRule]
	acks      []entry[ServiceAckTimeout]
}

// collectOncall files the section's items of one document, with their nodes.
func (l *loader) collectOncall(file string, root *yaml.Node, d *document) {
	c := &l.cfg.Oncall
	for i, v := range d.Schedules {
		c.schedules = append(c.schedules, entry[ScheduleSpec]{v, file, item(at(root, "schedules"), i)})
	}
	for i, v := range d.EscalationPolicies {
		c.policies = append(c.policies, entry[oncall.Policy]{v, file, item(at(root, "escalation_policies"), i)})
	}
	for i, v := range d.NotificationRules {
		c.rules = append(c.rules, entry[oncall.PersonRules]{v, file, item(at(root, "notification_rules"), i)})
	}
	if d.NotificationDefaults != nil {
		c.defaults = append(c.defaults, entry[[]oncall.NotificationRule]{d.NotificationDefaults, file, at(root, "notification_defaults")})
	}
	for i, v := range d.AckTimeouts {
		c.acks = append(c.acks, entry[ServiceAckTimeout]{v, file, item(at(root, "ack_timeouts"), i)})
	}
}

// maxNumLoops is PagerDuty's limit on num_loops.
const maxNumLoops = 9

// buildOncall validates the collected items (references into the catalog
// included) and fills l.cfg.Oncall.
func (l *loader) buildOncall() {
	c := &l.cfg.Oncall
	cat := l.cfg.Catalog
	people := make([]string, 0, len(cat.People))
	for _, p := range cat.People {
		people = append(people, p.Name)
	}
	sort.Strings(people)
	dangling := l.missing
	person := func(file string, node *yaml.Node, field, path, name string) {
		if _, ok := cat.Person(name); !ok {
			dangling(file, node, field, path, "person", name, people)
		}
	}

	// Schedules.
	schedIdx := checkNames(l, "schedules", c.schedules, func(s ScheduleSpec) string { return s.Name }, true)
	schedNames := sortedKeys(schedIdx)
	for i, e := range c.schedules {
		if j, ok := schedIdx[e.v.Name]; !ok || j != i {
			continue
		}
		if s := l.buildSchedule(e, person); s != nil {
			c.Schedules = append(c.Schedules, s)
		}
	}
	sort.Slice(c.Schedules, func(i, j int) bool { return c.Schedules[i].Name < c.Schedules[j].Name })

	// Escalation policies.
	// Policy names may hold spaces (PagerDuty's do); two that differ only in
	// case are duplicates.
	polLower := checkNames(l, "escalation_policies", c.policies, func(p oncall.Policy) string { return p.Name }, false)
	polIdx := map[string]int{}
	for i, e := range c.policies {
		if j, ok := polLower[strings.ToLower(e.v.Name)]; !ok || j != i {
			continue
		}
		polIdx[e.v.Name] = i
		p := e.v
		path := "escalation_policies." + p.Name
		if p.NumLoops < 0 || p.NumLoops > maxNumLoops {
			l.errAt(e.file, e.node, "num_loops", path+".num_loops", "expected 0 to %d repeats, got %d", maxNumLoops, p.NumLoops)
		}
		if p.AckTimeoutMinutes < 0 {
			l.errAt(e.file, e.node, "ack_timeout_minutes", path+".ack_timeout_minutes", "must not be negative")
		}
		if len(p.Rules) == 0 {
			l.errAt(e.file, e.node, "rules", path+".rules", "required: at least one rule")
		}
		rulesNode := at(e.node, "rules")
		for ri, r := range p.Rules {
			rn := item(rulesNode, ri)
			rpath := fmt.Sprintf("%s.rules[%d]", path, ri)
			if r.EscalationDelayInMinutes < 1 {
				l.errAt(e.file, rn, "escalation_delay_in_minutes", rpath+".escalation_delay_in_minutes", "expected at least 1 minute, got %d", r.EscalationDelayInMinutes)
			}
			if len(r.Targets) == 0 {
				l.errAt(e.file, rn, "targets", rpath+".targets", "required: at least one target")
			}
			for ti, t := range r.Targets {
				tn := item(at(rn, "targets"), ti)
				tpath := fmt.Sprintf("%s.targets[%d]", rpath, ti)
				switch t.Type {
				case oncall.UserReference:
					person(e.file, tn, "id", tpath+".id", t.ID)
				case oncall.ScheduleReference:
					if _, ok := schedIdx[t.ID]; !ok {
						dangling(e.file, tn, "id", tpath+".id", "schedule", t.ID, schedNames)
					}
				default:
					l.errAt(e.file, tn, "type", tpath+".type", "expected user_reference or schedule_reference, got %q", t.Type)
				}
			}
		}
		c.Policies = append(c.Policies, p)
	}
	polNames := sortedKeys(polIdx)
	for _, e := range l.services {
		if e.v.EscalationPolicy == "" {
			continue
		}
		if _, ok := polIdx[e.v.EscalationPolicy]; !ok {
			dangling(e.file, e.node, "escalation_policy", "services."+e.v.Name+".escalation_policy", "escalation policy", e.v.EscalationPolicy, polNames)
		}
	}

	// A person's catalog slack is their "slack" contact method (see
	// oncall.Directory.ContactMethods), the one the default rules page
	// first, so it is held to the same rule as a configured one.
	for _, e := range l.people {
		if p := e.v; p.Slack != "" {
			l.checkSlack(e.file, e.node, "slack", "people."+p.Name+".slack", p.Slack)
		}
	}

	// Notification rules.
	seen := map[string]entry[oncall.PersonRules]{}
	for _, e := range c.rules {
		pr := e.v
		path := "notification_rules." + pr.Person
		if pr.Person == "" {
			l.errAt(e.file, e.node, "", "notification_rules.person", "required")
			continue
		}
		if first, dup := seen[pr.Person]; dup {
			l.errAt(e.file, e.node, "person", path, "duplicate notification rules for %q; first at %s:%d", pr.Person, first.file, first.node.Line)
			continue
		}
		seen[pr.Person] = e
		p, ok := cat.Person(pr.Person)
		if !ok {
			dangling(e.file, e.node, "person", path+".person", "person", pr.Person, people)
			continue
		}
		methods := map[string]bool{}
		if p.Slack != "" {
			methods[oncall.ContactSlack] = true
		}
		if p.Email != "" {
			methods[oncall.ContactEmail] = true
		}
		if p.Phone != "" {
			methods[oncall.ContactSMS], methods[oncall.ContactVoice] = true, true
		}
		for mi, m := range pr.ContactMethods {
			mn := item(at(e.node, "contact_methods"), mi)
			mpath := fmt.Sprintf("%s.contact_methods[%d]", path, mi)
			if m.Name == "" {
				m.Name = m.Type
			}
			methods[m.Name] = true
			l.checkContact(e.file, mn, mpath, m)
		}
		for ri, r := range pr.Rules {
			rn := item(at(e.node, "rules"), ri)
			rpath := fmt.Sprintf("%s.rules[%d]", path, ri)
			if r.StartDelayInMinutes < 0 {
				l.errAt(e.file, rn, "start_delay_in_minutes", rpath+".start_delay_in_minutes", "must not be negative")
			}
			if !methods[r.ContactMethod] {
				l.errAt(e.file, rn, "contact_method", rpath+".contact_method", "%s has no contact method %q; they have: %s",
					pr.Person, r.ContactMethod, strings.Join(sortedKeys(methods), ", "))
			}
		}
		c.People = append(c.People, pr)
	}
	for i, e := range c.defaults {
		if i > 0 {
			l.errAt(e.file, e.node, "", "notification_defaults", "set more than once; first at %s:%d", c.defaults[0].file, c.defaults[0].node.Line)
			continue
		}
		for ri, r := range e.v {
			rn := item(e.node, ri)
			rpath := fmt.Sprintf("notification_defaults[%d]", ri)
			if r.StartDelayInMinutes < 0 {
				l.errAt(e.file, rn, "start_delay_in_minutes", rpath+".start_delay_in_minutes", "must not be negative")
			}
			if r.ContactMethod == "" {
				l.errAt(e.file, rn, "contact_method", rpath+".contact_method", "required: a contact method name such as slack, email or webhook")
			}
		}
		c.DefaultRules = e.v
	}

	// Ack timeouts per service.
	c.ServiceAckTimeouts = map[string]int{}
	for _, e := range c.acks {
		path := "ack_timeouts." + e.v.Service
		if _, ok := cat.Service(e.v.Service); !ok {
			dangling(e.file, e.node, "service", path+".service", "service", e.v.Service, cat.ServiceNames())
			continue
		}
		if _, dup := c.ServiceAckTimeouts[e.v.Service]; dup {
			l.errAt(e.file, e.node, "service", path, "ack timeout for %q set twice", e.v.Service)
			continue
		}
		if e.v.AckTimeoutMinutes < 1 {
			l.errAt(e.file, e.node, "ack_timeout_minutes", path+".ack_timeout_minutes", "expected at least 1 minute, got %d", e.v.AckTimeoutMinutes)
			continue
		}
		c.ServiceAckTimeouts[e.v.Service] = e.v.AckTimeoutMinutes
	}
}

func (l *loader) checkContact(file string, node *yaml.Node, path string, m oncall.ContactMethod) {
	switch m.Type {
	case oncall.ContactSlack:
		l.checkSlack(file, node, "address", path+".address", m.Address)
	case oncall.ContactEmail:
		if !strings.Contains(m.Address, "@") {
			l.errAt(file, node, "address", path+".address", "expected an email address, got %q", m.Address)
		}
	case oncall.ContactWebhook:
		u, err := url.Parse(m.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.errAt(file, node, "address", path+".address", "expected an http(s) URL, got %q", m.Address)
		}
	case oncall.ContactSMS, oncall.ContactVoice:
		if !twilio.ValidNumber(m.Address) {
			l.errAt(file, node, "address", path+".address", "expected a phone number in E.164 form such as +15551234567, got %q", m.Address)
		}
	case oncall.ContactTeams:
		if !strings.Contains(m.Address, "@") {
			l.errAt(file, node, "address", path+".address", "expected the person's Teams sign-in (alice@example.com), got %q", m.Address)
		}
	case oncall.ContactMattermost:
		if !mattermostUser.MatchString(strings.TrimPrefix(m.Address, "@")) {
			l.errAt(file, node, "address", path+".address", "expected a Mattermost username (letters, digits, '.', '-', '_'), got %q", m.Address)
		}
	default:
		l.errAt(file, node, "type", path+".type", "expected slack, email, webhook, sms, voice, teams or mattermost, got %q", m.Type)
	}
}

// mattermostUser is what a Mattermost username may hold.
var mattermostUser = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// slackMemberIDPattern is the shape of a member ID (notify.SlackMemberID
// without its other written forms).
var slackMemberIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{8,}$`)

// slackMemberIDHint says what a Slack address must be, why, and where to
// find one, since Slack's UI shows people by name and hides the ID.
const slackMemberIDHint = "a Slack member ID such as U012AB3CD (Slack pings only member IDs; in Slack: profile → ⋮ → Copy member ID)"

// checkSlack reports a Slack address that is not a member ID. Handles and
// display names are rejected rather than passed on: Slack shows them as
// plain text and notifies nobody, so the page would look sent and go
// unanswered.
func (l *loader) checkSlack(file string, node *yaml.Node, field, path, addr string) {
	if strings.TrimSpace(addr) == "" {
		l.errAt(file, node, field, path, "required: %s", slackMemberIDHint)
		return
	}
	if _, ok := notify.SlackMemberID(addr); !ok {
		l.errAt(file, node, field, path, "expected %s, got %q", slackMemberIDHint, addr)
	}
}

// buildSchedule validates one schedule and returns it, or nil when it has
// errors (they are recorded).
func (l *loader) buildSchedule(e entry[ScheduleSpec], person func(file string, node *yaml.Node, field, path, name string)) *oncall.Schedule {
	before := len(l.errs)
	sp := e.v
	path := "schedules." + sp.Name
	loc := time.UTC
	if sp.TimeZone != "" {
		z, err := time.LoadLocation(sp.TimeZone)
		if err != nil {
			l.errAt(e.file, e.node, "time_zone", path+".time_zone", "unknown time zone %q; expected an IANA name such as Europe/Berlin", sp.TimeZone)
		} else {
			loc = z
		}
	}
	s := &oncall.Schedule{Name: sp.Name, Description: sp.Description, Location: loc}
	if len(sp.Layers) == 0 {
		l.errAt(e.file, e.node, "layers", path+".layers", "required: at least one layer")
	}
	layerNames := map[string]bool{}
	for i, ls := range sp.Layers {
		ln := item(at(e.node, "layers"), i)
		lpath := fmt.Sprintf("%s.layers[%d]", path, i)
		lay := oncall.Layer{Name: ls.Name, Users: ls.Users, Location: loc}
		if lay.Name == "" {
			lay.Name = fmt.Sprintf("layer-%d", i+1)
		}
		if layerNames[lay.Name] {
			l.errAt(e.file, ln, "name", lpath+".name", "duplicate layer name %q", lay.Name)
		}
		layerNames[lay.Name] = true
		if ls.TimeZone != "" {
			z, err := time.LoadLocation(ls.TimeZone)
			if err != nil {
				l.errAt(e.file, ln, "time_zone", lpath+".time_zone", "unknown time zone %q; expected an IANA name such as Europe/Berlin", ls.TimeZone)
			} else {
				lay.Location = z
			}
		}
		if len(ls.Users) == 0 {
			l.errAt(e.file, ln, "users", lpath+".users", "required: at least one person")
		}
		for ui, u := range ls.Users {
			person(e.file, item(at(ln, "users"), ui), "", lpath+".users", u)
		}
		rot, err := oncall.ParseRotation(ls.Rotation)
		if err != nil {
			l.errAt(e.file, ln, "rotation", lpath+".rotation", "%v", err)
		}
		lay.Rotation = rot
		var handoff time.Duration
		if ls.Handoff != "" {
			if handoff, err = oncall.ParseClock(ls.Handoff); err != nil {
				l.errAt(e.file, ln, "handoff", lpath+".handoff", "%v", err)
			}
		}
		if ls.Start == "" {
			l.errAt(e.file, ln, "start", lpath+".start", "required: the date of the first handoff (YYYY-MM-DD)")
		} else if d, err := time.ParseInLocation("2006-01-02", ls.Start, lay.Location); err != nil {
			l.errAt(e.file, ln, "start", lpath+".start", "expected a date YYYY-MM-DD, got %q", ls.Start)
		} else {
			h := int(handoff / time.Hour)
			m := int(handoff % time.Hour / time.Minute)
			sec := int(handoff % time.Minute / time.Second)
			lay.Start = time.Date(d.Year(), d.Month(), d.Day(), h, m, sec, 0, lay.Location)
		}
		if ls.End != "" {
			end, err := parseLocalTime(ls.End, lay.Location)
			if err != nil {
				l.errAt(e.file, ln, "end", lpath+".end", "%v", err)
			} else if !lay.Start.IsZero() && !end.After(lay.Start) {
				l.errAt(e.file, ln, "end", lpath+".end", "must be after the start")
			}
			lay.End = end
		}
		for ri, rs := range ls.Restrictions {
			rn := item(at(ln, "restrictions"), ri)
			if r, ok := l.restriction(e.file, rn, fmt.Sprintf("%s.restrictions[%d]", lpath, ri), rs); ok {
				lay.Restrictions = append(lay.Restrictions, r)
			}
		}
		s.Layers = append(s.Layers, lay)
	}
	for i, os := range sp.Overrides {
		on := item(at(e.node, "overrides"), i)
		opath := fmt.Sprintf("%s.overrides[%d]", path, i)
		o := oncall.Override{Schedule: sp.Name, Person: os.Person, Reason: os.Reason, Source: oncall.SourceConfig}
		if os.Person == "" {
			l.errAt(e.file, on, "", opath+".person", "required")
		} else {
			person(e.file, on, "person", opath+".person", os.Person)
		}
		var err error
		if o.Start, err = parseLocalTime(os.Start, loc); err != nil {
			l.errAt(e.file, on, "start", opath+".start", "%v", err)
		}
		if o.End, err = parseLocalTime(os.End, loc); err != nil {
			l.errAt(e.file, on, "end", opath+".end", "%v", err)
		} else if !o.Start.IsZero() && !o.End.After(o.Start) {
			l.errAt(e.file, on, "end", opath+".end", "must be after the start")
		}
		s.Overrides = append(s.Overrides, o)
	}
	if len(l.errs) > before {
		return nil
	}
	return s
}

func (l *loader) restriction(file string, node *yaml.Node, path string, rs RestrictionSpec) (oncall.Restriction, bool) {
	before := len(l.errs)
	r := oncall.Restriction{Type: rs.Type}
	limit := 24 * time.Hour
	switch rs.Type {
	case oncall.DailyRestriction:
		if rs.StartDayOfWeek != "" {
			l.errAt(file, node, "start_day_of_week", path+".start_day_of_week", "only for weekly_restriction; a daily one takes days")
		}
		days, err := oncall.ParseDays(rs.Days)
		if err != nil {
			l.errAt(file, node, "days", path+".days", "%v", err)
		}
		r.Days = days
	case oncall.WeeklyRestriction:
		limit = 7 * 24 * time.Hour
		if len(rs.Days) > 0 {
			l.errAt(file, node, "days", path+".days", "only for daily_restriction; a weekly one takes start_day_of_week")
		}
		d, err := oncall.ParseWeekday(rs.StartDayOfWeek)
		if err != nil {
			l.errAt(file, node, "start_day_of_week", path+".start_day_of_week", "%v", err)
		}
		r.StartDayOfWeek = d
	default:
		l.errAt(file, node, "type", path+".type", "expected daily_restriction or weekly_restriction, got %q", rs.Type)
	}
	tod, err := oncall.ParseClock(rs.StartTimeOfDay)
	if err != nil {
		l.errAt(file, node, "start_time_of_day", path+".start_time_of_day", "%v", err)
	}
	r.StartOfDay = tod
	switch {
	case rs.Duration != "" && rs.DurationSeconds != 0:
		l.errAt(file, node, "duration", path+".duration", "give duration or duration_seconds, not both")
	case rs.Duration != "":
		d, err := time.ParseDuration(rs.Duration)
		if err != nil {
			l.errAt(file, node, "duration", path+".duration", "expected a duration such as 8h or 90m, got %q", rs.Duration)
		}
		r.Duration = d
	default:
		r.Duration = time.Duration(rs.DurationSeconds) * time.Second
	}
	if r.Duration <= 0 || r.Duration > limit {
		l.errAt(file, node, "duration", path+".duration", "expected a duration above 0 and at most %s for a %s", limit, rs.Type)
	}
	return r, len(l.errs) == before
}

// parseLocalTime reads RFC 3339, or a local date-time or date in loc.
func parseLocalTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("required: a time such as 2026-12-24T18:00 (in the schedule's zone) or RFC 3339")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, f := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(f, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q; expected 2026-12-24T18:00 (in the schedule's zone), a date, or RFC 3339", s)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
