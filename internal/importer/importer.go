// Package importer turns the on-call, SLO and catalog data of other tools
// into tandem.d/ files: PagerDuty (Terraform and REST API exports),
// Opsgenie and Grafana OnCall (REST API exports), Sloth and Pyrra SLO specs,
// and Backstage catalog descriptors. Each source has its own file; they all
// produce a Result, which Render turns into YAML and Write puts into a
// config directory.
//
// The contract every source keeps:
//
//   - Whatever the output cannot express (a restriction kind, a notify
//     type, a query form) is a Warning naming where it is in the source
//     (file:line for HCL, a JSON or YAML path otherwise), never a silent
//     approximation and never a guess.
//   - Names are made valid and unique for tandem, and people are matched by
//     email with the people already in the output directory, so several
//     imports into one directory agree on who is who.
//   - Write validates the output together with what the directory already
//     holds (config.Parse) before it writes anything: an import that would
//     not load writes nothing.
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

// Warning is something in the source that the import did not carry over,
// or carried over differently, with where it is.
type Warning struct {
	// Path locates the source field: "main.tf:42" or
	// "schedules.json: schedules[2].layers[0].restrictions[1]".
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (w Warning) String() string { return w.Path + ": " + w.Message }

// Result is what one import produces: catalog entries, on-call config and
// OpenSLO documents, each already named for tandem, plus the warnings.
type Result struct {
	// Source names the tool ("pagerduty", "sloth", …); output files are
	// named after it.
	Source   string
	Teams    []catalog.Team
	People   []catalog.Person
	Services []catalog.Service
	Tools    []catalog.Tool

	Schedules   []config.ScheduleSpec
	Policies    []oncall.Policy
	AckTimeouts []config.ServiceAckTimeout

	// SLOs are OpenSLO v1 documents, in order; DataSource, when set, is
	// the Prometheus DataSource document they reference.
	SLOs       []SLODoc
	DataSource *DataSourceDoc

	// Users counts the people the source defines, including those matched
	// to people already in the output directory (and so not written again).
	Users    int
	Warnings []Warning
	// IDs maps source ids to the tandem names they became, for later
	// imports into the same directory (Backstage's pagerduty.com/…
	// annotations): kind → source id → name.
	IDs map[string]map[string]string
}

// warn records a warning.
func (r *Result) warn(path, format string, args ...any) {
	r.Warnings = append(r.Warnings, Warning{Path: path, Message: fmt.Sprintf(format, args...)})
}

// addPerson adds a person of the source (p without a name): matched by
// email with the people the output directory and the import already
// have, else a new person with a valid, unique name made from the email or
// the full name (fallback when neither gives one). An email without "@"
// or a time zone that is not an IANA one is a warning (at emailAt, tzAt)
// and left out.
// It returns the person's name and, when the person is new, their index in
// r.People (else -1: already defined, not written again).
func (r *Result) addPerson(nm *Namer, p catalog.Person, fallback, emailAt, tzAt string) (string, int) {
	r.Users++
	if p.Email != "" && !strings.Contains(p.Email, "@") {
		r.warn(emailAt, "email %q is not an email address; left out", p.Email)
		p.Email = ""
	}
	name, existing := nm.PersonFor(p.Email, p.FullName, fallback)
	if existing {
		return name, -1
	}
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil {
			r.warn(tzAt, "time zone %q is not an IANA zone; left out", p.TimeZone)
			p.TimeZone = ""
		}
	}
	p.Name = name
	r.People = append(r.People, p)
	return name, len(r.People) - 1
}

// remember records that source id of kind became name.
func (r *Result) remember(kind, id, name string) {
	if id == "" || name == "" {
		return
	}
	if r.IDs == nil {
		r.IDs = map[string]map[string]string{}
	}
	if r.IDs[kind] == nil {
		r.IDs[kind] = map[string]string{}
	}
	r.IDs[kind][id] = name
}

// Summary is the count line of an import.
type Summary struct {
	Source    string `json:"source"`
	Users     int    `json:"users"`
	Teams     int    `json:"teams"`
	Schedules int    `json:"schedules"`
	Policies  int    `json:"policies"`
	Services  int    `json:"services"`
	SLOs      int    `json:"slos"`
	Tools     int    `json:"tools"`
	Warnings  int    `json:"warnings"`
}

// Summary counts what the result holds.
func (r *Result) Summary() Summary {
	return Summary{Source: r.Source, Users: r.Users, Teams: len(r.Teams), Schedules: len(r.Schedules),
		Policies: len(r.Policies), Services: len(r.Services), SLOs: len(r.SLOs), Tools: len(r.Tools), Warnings: len(r.Warnings)}
}

func (s Summary) String() string {
	n := func(c int, one, many string) string {
		if c == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", c, many)
	}
	return fmt.Sprintf("%s: %s, %s, %s, %s, %s, %s, %s; %s", s.Source, n(s.Users, "user", "users"), n(s.Teams, "team", "teams"),
		n(s.Schedules, "schedule", "schedules"), n(s.Policies, "escalation policy", "escalation policies"), n(s.Services, "service", "services"),
		n(s.SLOs, "SLO", "SLOs"), n(s.Tools, "tool", "tools"), n(s.Warnings, "warning", "warnings"))
}

// sortWarnings orders warnings by path, numbers by value (main.tf:9
// before main.tf:10, results[2] before results[10]), keeping the source
// order of warnings on one path.
func sortWarnings(ws []Warning) {
	sort.SliceStable(ws, func(i, j int) bool { return naturalLess(ws[i].Path, ws[j].Path) })
}

// naturalLess compares strings with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digits is the length of the run of ASCII digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// joinPath builds "a.b[2].c" style paths.
func joinPath(base string, parts ...string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func idx(i int) string { return fmt.Sprintf("[%d]", i) }
