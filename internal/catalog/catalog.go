// Package catalog is the service catalog: teams, people, services, and the
// tools they own. It is loaded from config as code and read by every other
// capability; it never changes except by a config reload.
package catalog

import (
	"sort"
	"strings"
)

// Team is a group of people that owns services and tools.
type Team struct {
	// Name identifies the team (required): services, people and tool
	// owners refer to it. At most 63 letters, digits, '.', '_' or '-',
	// starting with a letter or digit; no person may have the same name.
	Name string `yaml:"name" json:"name"`
	// DisplayName is how the team is shown, as in the tool-ownership
	// export (default: its name).
	DisplayName string `yaml:"display_name,omitempty" json:"display_name,omitempty"`
	// Description is free text about the team.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// SlackChannel is the team's Slack channel, shown as the team's
	// contact in the tool-ownership export.
	SlackChannel string `yaml:"slack_channel,omitempty" json:"slack_channel,omitempty"`
	// Members are the names of the team's people; each must be in people.
	Members []string `yaml:"members,omitempty" json:"members"`
}

// Person is someone who can own things and be paged.
type Person struct {
	// Name identifies the person (required): teams, schedules, escalation
	// policies, notification rules and tool owners refer to it. Written
	// as a team's name is; no team may have the same name.
	Name string `yaml:"name" json:"name"`
	// FullName is how the person is shown, as in the tool-ownership
	// export (default: their name).
	FullName string `yaml:"full_name,omitempty" json:"full_name,omitempty"`
	// Email is the person's address: their email contact method, and where
	// reminders of their overdue action items go.
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
	// Slack is the person's Slack member ID such as U012AB3CD (not a
	// @handle, which Slack does not notify): their slack contact method.
	Slack string `yaml:"slack,omitempty" json:"slack,omitempty"`
	// Phone is an E.164 number such as +15551234567: the person's sms and
	// voice contact methods.
	Phone string `yaml:"phone,omitempty" json:"phone,omitempty"`
	// TimeZone is the person's IANA time zone such as Europe/Berlin, for
	// reference; schedules keep their own time_zone.
	TimeZone string `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	// Team names the person's team; toil they log on no service counts
	// for it.
	Team string `yaml:"team,omitempty" json:"team,omitempty"`
}

// Service is something that runs in production.
type Service struct {
	// Name identifies the service (required): SLOs, changes, incidents
	// and gates refer to it. Written as a team's name is.
	Name string `yaml:"name" json:"name"`
	// Description is free text about the service.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Team names the team that owns the service (required).
	Team string `yaml:"team" json:"team"`
	// Tier is the service's criticality from 1 (most critical) to 4,
	// shown and filtered on the dashboard (default 0: none).
	Tier int `yaml:"tier,omitempty" json:"tier"`
	// Repository is the service's repository URL: GitHub webhook
	// deliveries from that repository are recorded for the service.
	Repository string `yaml:"repository,omitempty" json:"repository,omitempty"`
	// Environments lists where the service runs (default [production]).
	Environments []string `yaml:"environments,omitempty" json:"environments"`
	// DependsOn names the services this one depends on; their changes are
	// suspects of this service's incidents too.
	DependsOn []string `yaml:"depends_on,omitempty" json:"depends_on"`
	// EscalationPolicy names the escalation policy paged for the service's
	// incidents; without one, incidents.fallback_escalation_policy is.
	EscalationPolicy string `yaml:"escalation_policy,omitempty" json:"escalation_policy,omitempty"`
	// RevenuePerMinute estimates what a minute of full outage costs, not
	// negative; postmortems use it when an incident gives no estimate.
	RevenuePerMinute float64 `yaml:"revenue_per_minute,omitempty" json:"revenue_per_minute,omitempty"`
}

// Tool is something a team relies on (CI, Terraform, a dashboard) with a
// primary and a backup owner, each a team or a person.
type Tool struct {
	// Name is the tool's name (required), any text, unique regardless of
	// case.
	Name string `yaml:"name" json:"name"`
	// Description is free text about the tool.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// URL is where the tool is found, shown in the tool-ownership export.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// PrimaryOwner names the team or person who owns the tool (required).
	PrimaryOwner string `yaml:"primary_owner" json:"primary_owner"`
	// BackupOwner names a second owner, a team or person other than the
	// primary one.
	BackupOwner string `yaml:"backup_owner,omitempty" json:"backup_owner,omitempty"`
}

// DefaultEnvironment is the environment a service runs in when none is named.
const DefaultEnvironment = "production"

// Catalog indexes the catalog for lookups. Build it with New; it is read-only
// afterwards and safe for concurrent use.
type Catalog struct {
	Teams    []Team
	People   []Person
	Services []Service
	Tools    []Tool

	teams    map[string]int
	people   map[string]int
	services map[string]int
	tools    map[string]int
}

// New indexes the given entries. Names are assumed unique (config validation
// guarantees it); on a duplicate the later entry wins the index.
func New(teams []Team, people []Person, services []Service, tools []Tool) *Catalog {
	c := &Catalog{Teams: teams, People: people, Services: services, Tools: tools,
		teams: map[string]int{}, people: map[string]int{}, services: map[string]int{}, tools: map[string]int{}}
	for i, t := range teams {
		c.teams[t.Name] = i
	}
	for i, p := range people {
		c.people[p.Name] = i
	}
	for i, s := range services {
		c.services[s.Name] = i
	}
	for i, t := range tools {
		c.tools[strings.ToLower(t.Name)] = i
	}
	return c
}

// Team returns the named team.
func (c *Catalog) Team(name string) (Team, bool) {
	i, ok := c.teams[name]
	if !ok {
		return Team{}, false
	}
	return c.Teams[i], true
}

// Person returns the named person.
func (c *Catalog) Person(name string) (Person, bool) {
	i, ok := c.people[name]
	if !ok {
		return Person{}, false
	}
	return c.People[i], true
}

// Service returns the named service.
func (c *Catalog) Service(name string) (Service, bool) {
	i, ok := c.services[name]
	if !ok {
		return Service{}, false
	}
	return c.Services[i], true
}

// Tool returns the named tool; the name is matched without regard to case.
func (c *Catalog) Tool(name string) (Tool, bool) {
	i, ok := c.tools[strings.ToLower(name)]
	if !ok {
		return Tool{}, false
	}
	return c.Tools[i], true
}

// ServicesOfTeam returns the names of the team's services, sorted.
func (c *Catalog) ServicesOfTeam(team string) []string {
	var out []string
	for _, s := range c.Services {
		if s.Team == team {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

// ServiceNames returns every service name, sorted.
func (c *Catalog) ServiceNames() []string {
	out := make([]string, 0, len(c.Services))
	for _, s := range c.Services {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// Closest returns up to n names from candidates nearest to name, for "did
// you mean" errors, nearest first (ties in name order). The distance counts
// inserted, deleted, substituted and swapped adjacent characters, ignoring
// case; a candidate that contains name counts as distance 1. Candidates
// farther than half the length of name (at least 1) are left out, so a
// short name is not matched to an unrelated one.
func Closest(name string, candidates []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	limit := max(len([]rune(name))/2, 1)
	lname := strings.ToLower(name)
	var s []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := distance(lname, lc)
		if name != "" && d > 1 && strings.Contains(lc, lname) {
			d = 1
		}
		if d <= limit {
			s = append(s, scored{c, d})
		}
	}
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].d != s[j].d {
			return s[i].d < s[j].d
		}
		return s[i].name < s[j].name
	})
	var out []string
	for i := 0; i < len(s) && i < n; i++ {
		out = append(out, s[i].name)
	}
	return out
}

// distance is the optimal-string-alignment distance between a and b: the
// Levenshtein distance where swapping two adjacent characters costs 1.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: two back (for swaps), previous and current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// OwnerKind says whether an owner name is a team or a person.
type OwnerKind string

// Owner kinds.
const (
	OwnerTeam   OwnerKind = "team"
	OwnerPerson OwnerKind = "person"
)

// Owner resolves an owner name to a team or a person, teams first.
func (c *Catalog) Owner(name string) (OwnerKind, bool) {
	if _, ok := c.teams[name]; ok {
		return OwnerTeam, true
	}
	if _, ok := c.people[name]; ok {
		return OwnerPerson, true
	}
	return "", false
}
