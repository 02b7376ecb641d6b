package importer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Existing is what the output directory already defines, so an import
// reuses people (by email), teams and services (by name) instead of
// defining them twice, and gives new schedules, policies and SLOs names
// nobody has taken.
type Existing struct {
	// People maps a lower-cased email to the person's name.
	People map[string]string
	// Names holds the names taken per kind: "entity" (teams and people
	// share one namespace: owners are looked up by name), "service",
	// "schedule", "policy" (lower-cased: policy names differ by more than
	// case), "slo", "tool" (lower-cased).
	Names map[string]map[string]bool
	// Teams and Services are the names of existing teams and services.
	Teams, Services map[string]bool
	// PrometheusURL is slo_settings.prometheus_url, when set.
	PrometheusURL string
	// IDs are the source ids earlier imports recorded (import-ids.json).
	IDs map[string]map[string]string
}

// NewExisting returns an empty Existing.
func NewExisting() *Existing {
	return &Existing{People: map[string]string{}, Names: map[string]map[string]bool{},
		Teams: map[string]bool{}, Services: map[string]bool{}, IDs: map[string]map[string]string{}}
}

// Namer hands out valid, unique tandem names.
type Namer struct {
	ex    *Existing
	taken map[string]map[string]bool
}

// NewNamer returns a namer that avoids the names in ex.
func NewNamer(ex *Existing) *Namer {
	if ex == nil {
		ex = NewExisting()
	}
	n := &Namer{ex: ex, taken: map[string]map[string]bool{}}
	for kind, names := range ex.Names {
		for name := range names {
			n.take(kind, name)
		}
	}
	return n
}

func (n *Namer) take(kind, name string) {
	if n.taken[kind] == nil {
		n.taken[kind] = map[string]bool{}
	}
	n.taken[kind][name] = true
}

func (n *Namer) isTaken(kind, name string) bool { return n.taken[kind][name] }

// Existing returns what the namer was built on.
func (n *Namer) Existing() *Existing { return n.ex }

var (
	nonName = regexp.MustCompile(`[^a-z0-9._-]+`)
	nonDNS  = regexp.MustCompile(`[^a-z0-9-]+`)
	dashes  = regexp.MustCompile(`-{2,}`)
)

// fold lower-cases s and strips accents ("Zoë" → "zoe").
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Sanitize turns any text into a tandem name (letters, digits, '.', '_',
// '-', starting with a letter or digit, at most 63): lower case, other
// runs of characters become '-'. It returns "" when nothing is left.
func Sanitize(s string) string {
	s = nonName.ReplaceAllString(fold(s), "-")
	s = dashes.ReplaceAllString(s, "-")
	s = strings.TrimLeft(s, "._-")
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.TrimRight(s, "._-")
}

// SanitizeDNS turns text into a DNS label (OpenSLO names): lower-case
// letters, digits and '-', at most 63, not starting or ending with '-'.
func SanitizeDNS(s string) string {
	s = nonDNS.ReplaceAllString(fold(s), "-")
	s = dashes.ReplaceAllString(s, "-")
	s = strings.Trim(s, "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// unique returns base, or base-2, base-3… the first that kind has not
// taken, and takes it. key maps a name to its uniqueness key.
func (n *Namer) unique(kind, base string, limit int, key func(string) string) string {
	for i := 1; ; i++ {
		c := base
		if i > 1 {
			suffix := fmt.Sprintf("-%d", i)
			if len(c)+len(suffix) > limit {
				c = strings.TrimRight(c[:limit-len(suffix)], "._- ")
			}
			c += suffix
		}
		if !n.isTaken(kind, key(c)) {
			n.take(kind, key(c))
			return c
		}
	}
}

func same(s string) string { return s }

// Entity returns a new unique team or person name made from the first
// candidate that sanitizes to something, or fallback.
func (n *Namer) Entity(fallback string, candidates ...string) string {
	return n.unique("entity", firstName(Sanitize, fallback, candidates), 63, same)
}

// Service returns a new unique service name.
func (n *Namer) Service(fallback string, candidates ...string) string {
	return n.unique("service", firstName(Sanitize, fallback, candidates), 63, same)
}

// Schedule returns a new unique schedule name.
func (n *Namer) Schedule(fallback string, candidates ...string) string {
	return n.unique("schedule", firstName(Sanitize, fallback, candidates), 63, same)
}

// SLO returns a new unique OpenSLO SLO name.
func (n *Namer) SLO(fallback string, candidates ...string) string {
	return n.unique("slo", firstName(SanitizeDNS, fallback, candidates), 63, same)
}

// Policy returns a unique escalation policy name: the source's own name
// (policy names may hold spaces) with control characters removed, unique
// regardless of case.
func (n *Namer) Policy(fallback, name string) string {
	name = strings.Join(strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if name == "" {
		name = fallback
	}
	return n.unique("policy", name, 200, strings.ToLower)
}

// Tool returns a unique tool name (tools are looked up ignoring case).
func (n *Namer) Tool(fallback, name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		name = fallback
	}
	return n.unique("tool", name, 200, strings.ToLower)
}

func firstName(sanitize func(string) string, fallback string, candidates []string) string {
	for _, c := range candidates {
		if s := sanitize(c); s != "" {
			return s
		}
	}
	return sanitize(fallback)
}

// PersonFor returns the tandem name of a person with this email: the
// existing person's when the output directory has one (existing true: do
// not write it again), else a new unique name from the email's local part
// or the full name. People without an email are named from their name.
func (n *Namer) PersonFor(email, fullName, fallback string) (name string, existing bool) {
	key := strings.ToLower(strings.TrimSpace(email))
	if key != "" {
		if p, ok := n.ex.People[key]; ok {
			return p, true
		}
	}
	local, _, _ := strings.Cut(key, "@")
	name = n.Entity(fallback, local, fullName)
	if key != "" {
		n.ex.People[key] = name
	}
	return name, false
}

// TeamFor returns the tandem name of a team: an existing team's name when
// the output directory has a team of that (sanitized) name, else a new
// unique one.
func (n *Namer) TeamFor(name, fallback string) (string, bool) {
	if s := Sanitize(name); s != "" && n.ex.Teams[s] {
		return s, true
	}
	t := n.Entity(fallback, name)
	return t, false
}

// ServiceFor returns the tandem name of a service: the existing service's
// when the output directory has one of that (sanitized) name, else a new
// unique one.
func (n *Namer) ServiceFor(name, fallback string) (string, bool) {
	if s := Sanitize(name); s != "" && n.ex.Services[s] {
		return s, true
	}
	return n.Service(fallback, name), false
}
