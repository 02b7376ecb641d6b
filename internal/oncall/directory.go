package oncall

import (
	"slices"
	"sort"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
)

// Contact method types.
const (
	ContactSlack   = "slack"   // Address is a Slack member ID (U012AB3CD): only IDs ping
	ContactEmail   = "email"   // Address is an email address
	ContactWebhook = "webhook" // Address is an http(s) URL that receives a signed JSON POST
	// ContactSMS and ContactVoice reach a phone through Twilio: Address is
	// an E.164 number (+15551234567).
	ContactSMS   = "sms"
	ContactVoice = "voice"
	// ContactTeams posts to the configured Microsoft Teams webhook and
	// mentions Address, the person's Teams sign-in (alice@example.com).
	ContactTeams = "teams"
	// ContactMattermost posts to the configured Mattermost webhook and
	// mentions Address, the person's Mattermost username.
	ContactMattermost = "mattermost"
)

// ContactMethod is one way to reach a person. Name is what notification
// rules refer to; it defaults to the type.
type ContactMethod struct {
	// Name is what notification rules call the method (default: its
	// type). A method named slack or email replaces the one taken from
	// the person's catalog entry.
	Name string `yaml:"name,omitempty" json:"name"`
	// Type is the kind of method (required): slack, email or webhook.
	Type string `yaml:"type" json:"type"`
	// Address is where the method reaches the person (required): by type,
	// a Slack member ID such as U012AB3CD, an email address, or an http(s)
	// URL that receives a signed JSON POST.
	Address string `yaml:"address" json:"address"`
}

// NotificationRule says: StartDelayInMinutes after a person is paged, use
// the contact method named ContactMethod (PagerDuty's field names).
type NotificationRule struct {
	// StartDelayInMinutes is how many minutes after the person is paged
	// the rule reaches them, not negative (default 0: at once).
	StartDelayInMinutes int `yaml:"start_delay_in_minutes" json:"start_delay_in_minutes"`
	// ContactMethod names the contact method to use (required): slack,
	// email, or a name from the person's contact_methods.
	ContactMethod string `yaml:"contact_method" json:"contact_method"`
}

// PersonRules are one person's contact methods and notification rules.
// Contact methods add to (or, by name, replace) the "email" and "slack"
// methods taken from the person's catalog entry; rules, when given, replace
// the default rules.
type PersonRules struct {
	// Person names the person these methods and rules are for (required),
	// once per person.
	Person string `yaml:"person" json:"person"`
	// ContactMethods are more ways to reach the person, besides the slack
	// and email of their catalog entry.
	ContactMethods []ContactMethod `yaml:"contact_methods,omitempty" json:"contact_methods"`
	// Rules are the person's own notification rules: which contact method,
	// how long after the page. When given, they replace
	// notification_defaults for this person.
	Rules []NotificationRule `yaml:"rules,omitempty" json:"rules"`
}

// Config is the validated on-call config: what config.OncallConfig holds.
type Config struct {
	Schedules []*Schedule
	Policies  []Policy
	People    []PersonRules
	// DefaultRules apply to people without rules of their own. Empty: page
	// by Slack at once and by email after 5 minutes.
	DefaultRules []NotificationRule
	// ServiceAckTimeouts (minutes) override the policy's ack timeout for a
	// service.
	ServiceAckTimeouts map[string]int
}

// DefaultNotificationRules are used when the config names none.
var DefaultNotificationRules = []NotificationRule{
	{StartDelayInMinutes: 0, ContactMethod: ContactSlack},
	{StartDelayInMinutes: 5, ContactMethod: ContactEmail},
}

// Notification is one contact attempt the engine should make: at At, reach
// Person by Method.
type Notification struct {
	Person string        `json:"person"`
	At     time.Time     `json:"at"`
	Method ContactMethod `json:"method"`
}

// Directory joins schedules (with their overrides), policies, the catalog
// and notification rules for lookups. Build it with NewDirectory; it is
// read-only afterwards and safe for concurrent use.
type Directory struct {
	cfg       Config
	cat       *catalog.Catalog
	schedules map[string]*Schedule
	policies  map[string]int
	people    map[string]int
}

// NewDirectory indexes c. Overrides (run-time ones from the Store) are
// attached to their schedules after the config's own; overrides of unknown
// schedules are ignored. cat may be nil (no catalog contact methods).
func NewDirectory(c Config, cat *catalog.Catalog, overrides []Override) *Directory {
	if cat == nil {
		cat = catalog.New(nil, nil, nil, nil)
	}
	d := &Directory{cfg: c, cat: cat, schedules: map[string]*Schedule{}, policies: map[string]int{}, people: map[string]int{}}
	extra := map[string][]Override{}
	for _, o := range overrides {
		extra[o.Schedule] = append(extra[o.Schedule], o)
	}
	for _, s := range c.Schedules {
		d.schedules[s.Name] = s.WithOverrides(extra[s.Name])
	}
	for i, p := range c.Policies {
		d.policies[p.Name] = i
	}
	for i, p := range c.People {
		d.people[p.Person] = i
	}
	return d
}

// Catalog returns the catalog the directory was built with.
func (d *Directory) Catalog() *catalog.Catalog { return d.cat }

// Schedule returns the named schedule, overrides attached.
func (d *Directory) Schedule(name string) (*Schedule, bool) {
	s, ok := d.schedules[name]
	return s, ok
}

// Schedules returns every schedule, sorted by name.
func (d *Directory) Schedules() []*Schedule {
	out := make([]*Schedule, 0, len(d.schedules))
	for _, s := range d.schedules {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ScheduleNames returns every schedule name, sorted.
func (d *Directory) ScheduleNames() []string {
	out := make([]string, 0, len(d.schedules))
	for n := range d.schedules {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Policy returns the named escalation policy.
func (d *Directory) Policy(name string) (Policy, bool) {
	i, ok := d.policies[name]
	if !ok {
		return Policy{}, false
	}
	return d.cfg.Policies[i], true
}

// Policies returns every policy, in config order.
func (d *Directory) Policies() []Policy { return d.cfg.Policies }

// PolicyForService returns the escalation policy the service names in the
// catalog (its escalation_policy field).
func (d *Directory) PolicyForService(service string) (Policy, bool) {
	svc, ok := d.cat.Service(service)
	if !ok || svc.EscalationPolicy == "" {
		return Policy{}, false
	}
	return d.Policy(svc.EscalationPolicy)
}

// AckTimeout returns how long an incident on service may stay acknowledged
// and unresolved before it is re-triggered: the service's setting, else its
// policy's, else 0 (never).
func (d *Directory) AckTimeout(service string) time.Duration {
	if m, ok := d.cfg.ServiceAckTimeouts[service]; ok {
		return time.Duration(m) * time.Minute
	}
	if p, ok := d.PolicyForService(service); ok {
		return p.AckTimeout()
	}
	return 0
}

// Resolve returns the people a target pages at the instant at: the person
// of a user_reference, whoever is on call in a schedule_reference's
// schedule (nobody when the schedule has a gap or does not exist).
func (d *Directory) Resolve(t Target, at time.Time) []string {
	switch t.Type {
	case UserReference:
		return []string{t.ID}
	case ScheduleReference:
		if s, ok := d.schedules[t.ID]; ok {
			return s.Who(at)
		}
	}
	return nil
}

// ResolveAll resolves every target at at and returns the people, each once,
// in the order first reached.
func (d *Directory) ResolveAll(ts []Target, at time.Time) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range ts {
		for _, p := range d.Resolve(t, at) {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// ContactMethods returns the person's contact methods: "email", "slack",
// and "sms" and "voice" for a phone, from the catalog when set, then the configured ones (a configured method
// with the same name replaces the catalog's).
func (d *Directory) ContactMethods(person string) []ContactMethod {
	var out []ContactMethod
	if p, ok := d.cat.Person(person); ok {
		if p.Slack != "" {
			out = append(out, ContactMethod{Name: ContactSlack, Type: ContactSlack, Address: p.Slack})
		}
		if p.Email != "" {
			out = append(out, ContactMethod{Name: ContactEmail, Type: ContactEmail, Address: p.Email})
		}
		if p.Phone != "" {
			out = append(out, ContactMethod{Name: ContactSMS, Type: ContactSMS, Address: p.Phone},
				ContactMethod{Name: ContactVoice, Type: ContactVoice, Address: p.Phone})
		}
	}
	if i, ok := d.people[person]; ok {
		for _, m := range d.cfg.People[i].ContactMethods {
			if m.Name == "" {
				m.Name = m.Type
			}
			replaced := false
			for j := range out {
				if out[j].Name == m.Name {
					out[j], replaced = m, true
				}
			}
			if !replaced {
				out = append(out, m)
			}
		}
	}
	return out
}

// NotificationRules returns the rules that apply to person: their own, the
// configured defaults, or DefaultNotificationRules.
func (d *Directory) NotificationRules(person string) []NotificationRule {
	if i, ok := d.people[person]; ok && len(d.cfg.People[i].Rules) > 0 {
		return d.cfg.People[i].Rules
	}
	if len(d.cfg.DefaultRules) > 0 {
		return d.cfg.DefaultRules
	}
	return DefaultNotificationRules
}

// Notifications returns the contact attempts for person paged at pagedAt,
// in time order: one per notification rule whose contact method the person
// has. A rule naming a method the person lacks (the default rules page by
// Slack first; not everyone has Slack) is skipped, but never makes the
// person reached later than the rules mean: the next rule they can take
// moves up to the skipped rule's time, and a person none of whose methods
// any rule names is reached by each of their methods at the first rule's.
func (d *Directory) Notifications(person string, pagedAt time.Time) []Notification {
	methods := d.ContactMethods(person)
	rules := slices.Clone(d.NotificationRules(person))
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].StartDelayInMinutes < rules[j].StartDelayInMinutes })
	has := func(r NotificationRule) int {
		return slices.IndexFunc(methods, func(m ContactMethod) bool { return m.Name == r.ContactMethod })
	}
	// Moments some rule the person can take already covers.
	covered := map[int]bool{}
	for _, r := range rules {
		if has(r) >= 0 {
			covered[max(r.StartDelayInMinutes, 0)] = true
		}
	}
	var out []Notification
	skipped := time.Duration(-1) // the earliest skipped rule not yet made up for
	for _, r := range rules {
		delay := time.Duration(max(r.StartDelayInMinutes, 0)) * time.Minute
		i := has(r)
		if i < 0 {
			if skipped < 0 && !covered[max(r.StartDelayInMinutes, 0)] {
				skipped = delay
			}
			continue
		}
		if skipped >= 0 {
			delay, skipped = skipped, -1
		}
		out = append(out, Notification{Person: person, At: pagedAt.Add(delay), Method: methods[i]})
	}
	if len(out) == 0 && skipped >= 0 {
		for _, m := range methods {
			out = append(out, Notification{Person: person, At: pagedAt.Add(skipped), Method: m})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// PersonShifts returns the person's final shifts in every schedule over
// [from, to), in time order.
func (d *Directory) PersonShifts(person string, from, to time.Time) []Shift {
	var out []Shift
	for _, s := range d.Schedules() {
		for _, sh := range s.Shifts(from, to) {
			if sh.Person == person {
				out = append(out, sh)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Current is a schedule's on-call person now and the next handoff.
type Current struct {
	Schedule string   `json:"schedule"`
	OnCall   []string `json:"oncall"`
	// Until is when the current shift ends (zero: nobody on call now, or
	// no handoff within the look-ahead).
	Until time.Time `json:"until,omitzero"`
	// Next is the next shift of someone else (nil: none within the
	// look-ahead).
	Next *Shift `json:"next,omitempty"`
}

// LookAhead bounds how far Current looks for the next shift.
const LookAhead = 35 * 24 * time.Hour

// Current returns, for every schedule (sorted by name), who is on call at
// now, until when, and who is next. The dashboard shows it.
func (d *Directory) Current(now time.Time) []Current {
	out := make([]Current, 0, len(d.schedules))
	for _, s := range d.Schedules() {
		out = append(out, CurrentOf(s, now))
	}
	return out
}

// CurrentOf is Current for one schedule.
func CurrentOf(s *Schedule, now time.Time) Current {
	c := Current{Schedule: s.Name, OnCall: []string{}}
	if w := s.Who(now); w != nil {
		c.OnCall = w
	}
	cur := ""
	if len(c.OnCall) > 0 {
		cur = c.OnCall[0]
	}
	shifts := s.Shifts(now, now.Add(LookAhead))
	i := 0
	// The current shift runs on through contiguous spans of the same person
	// (from another layer, say).
	for cur != "" && i < len(shifts) && shifts[i].Person == cur &&
		((i == 0 && !shifts[0].Start.After(now)) || (i > 0 && shifts[i].Start.Equal(shifts[i-1].End))) {
		c.Until = shifts[i].End
		i++
	}
	for ; i < len(shifts); i++ {
		if shifts[i].Start.After(now) && shifts[i].Person != cur {
			n := shifts[i]
			c.Next = &n
			break
		}
	}
	return c
}

// RuleOnCall is who one rule of a policy pages at an instant.
type RuleOnCall struct {
	Rule                     int      `json:"rule"`
	EscalationDelayInMinutes int      `json:"escalation_delay_in_minutes"`
	Targets                  []Target `json:"targets"`
	People                   []string `json:"people"`
}

// PolicyOnCall resolves each rule of p at at.
func (d *Directory) PolicyOnCall(p Policy, at time.Time) []RuleOnCall {
	out := make([]RuleOnCall, len(p.Rules))
	for i, r := range p.Rules {
		people := d.ResolveAll(r.Targets, at)
		if people == nil {
			people = []string{}
		}
		out[i] = RuleOnCall{Rule: i, EscalationDelayInMinutes: r.EscalationDelayInMinutes, Targets: r.Targets, People: people}
	}
	return out
}

// HasSchedule reports whether a schedule of that name exists.
func (d *Directory) HasSchedule(name string) bool {
	_, ok := d.schedules[name]
	return ok
}
