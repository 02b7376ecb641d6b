package dora

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
)

// Build turns change events and commits into Inputs for the services given
// (events of other services are ignored). events must be deploys and
// rollbacks of one environment in ascending order of their moment; commits
// the known commits of those services. incidents are passed through.
//
// Each deploy's commits are the commits it ships first:
//   - a deploy that lists Commits (and its head Commit) ships those;
//   - a deploy that names only its head ships, when the head's time is
//     known, every known commit of its service up to the head's time that
//     no earlier deploy shipped (linear history);
//   - a commit shipped by an earlier successful deploy is not counted again;
//   - the commits of a failed deploy carry over to the next successful one.
//
// Commits whose time is unknown give no lead time sample.
func Build(services []Service, events []change.Event, commits []change.Commit, incidents []Incident) Inputs {
	in := Inputs{Services: services, Incidents: incidents}
	idx := make(map[string]int32, len(services))
	for i, s := range services {
		idx[s.Name] = int32(i)
	}
	type svcCommits struct {
		start  map[string]int64 // sha -> lead start (ms)
		sorted []string         // shas by time, for head-only deploys
		times  []int64
		next   int // sorted[:next] are consumed by time
		seen   map[string]bool
		carry  []string
	}
	per := make([]*svcCommits, len(services))
	for i := range per {
		per[i] = &svcCommits{start: map[string]int64{}, seen: map[string]bool{}}
	}
	for _, c := range commits {
		s, ok := idx[c.Service]
		if !ok {
			continue
		}
		p := per[s]
		t := c.LeadStart().UnixMilli()
		if _, dup := p.start[c.SHA]; dup {
			continue
		}
		p.start[c.SHA] = t
		p.sorted = append(p.sorted, c.SHA)
		p.times = append(p.times, t)
	}
	for _, p := range per {
		if !sort.SliceIsSorted(p.times, func(i, j int) bool { return p.times[i] < p.times[j] }) {
			ix := make([]int, len(p.sorted))
			for i := range ix {
				ix[i] = i
			}
			slices.SortStableFunc(ix, func(a, b int) int { return cmpInt64(p.times[a], p.times[b]) })
			shas, times := make([]string, len(ix)), make([]int64, len(ix))
			for k, i := range ix {
				shas[k], times[k] = p.sorted[i], p.times[i]
			}
			p.sorted, p.times = shas, times
		}
	}
	for _, e := range events {
		s, ok := idx[e.Service]
		if !ok || (e.Kind != change.KindDeploy && e.Kind != change.KindRollback && e.Kind != change.KindConfig && e.Kind != change.KindFlag) {
			continue
		}
		d := Deploy{ID: e.ID, At: e.At().UnixMilli(), Service: s, Status: status(e.Status),
			Rollback: e.Kind == change.KindRollback, Hotfix: e.HasLabel(change.LabelHotfix),
			Config: e.Kind == change.KindConfig || e.Kind == change.KindFlag}
		d.CommitsFrom = int32(len(in.CommitTimes))
		p := per[s]
		if !d.Rollback && !d.Config && d.Status != InProgress {
			var shas []string
			shas = append(shas, p.carry...)
			if len(e.Commits) > 0 {
				shas = append(shas, e.Commits...)
				if e.Commit != "" && !slices.Contains(e.Commits, e.Commit) {
					shas = append(shas, e.Commit)
				}
			} else if e.Commit != "" {
				if ht, ok := p.start[e.Commit]; ok {
					for p.next < len(p.sorted) && p.times[p.next] <= ht {
						shas = append(shas, p.sorted[p.next])
						p.next++
					}
				}
				shas = append(shas, e.Commit)
			}
			if d.Status == Success {
				p.carry = nil
				for _, sha := range shas {
					if p.seen[sha] {
						continue
					}
					p.seen[sha] = true
					if t, ok := p.start[sha]; ok {
						in.CommitTimes = append(in.CommitTimes, t)
					}
				}
			} else {
				p.carry = shas
			}
		}
		d.CommitsTo = int32(len(in.CommitTimes))
		in.Deploys = append(in.Deploys, d)
	}
	return in
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func status(s string) Status {
	switch s {
	case change.StatusFailed:
		return Failed
	case change.StatusRolledBack:
		return RolledBack
	case change.StatusInProgress:
		return InProgress
	}
	return Success
}

// IncidentLister gives DORA the incidents of services that started in
// [from, to) (services empty: all). The incident capability implements it;
// app wires it. DeployID links an incident to the deploy that caused it,
// when someone said so.
type IncidentLister interface {
	DORAIncidents(ctx context.Context, services []string, from, to time.Time) ([]Incident, error)
}

// Loader reads what reports need from the change store and the incidents.
type Loader struct {
	Changes *change.Store
	// Incidents may be nil (no incident capability): DORA then uses deploy
	// statuses and rollbacks alone.
	Incidents IncidentLister
	Options   Options
}

// Query selects a report.
type Query struct {
	// Services to report on (empty: every service of Catalog). Team, when
	// set, selects that team's services instead.
	Services []string
	Team     string
	// Environment defaults to production.
	Environment string
	From, To    time.Time
	// By breaks the report into periods: "", "day", "week" or "month".
	By string
}

// MaxLeadTime bounds how old a commit may be and still count: commits
// older than this before a report's period (and its lookback) are not read.
// DORA's lowest tier ends at six months.
const MaxLeadTime = 180 * 24 * time.Hour

// Lookback is how far before a report's start the loader reads changes:
// a failure just before the period may recover inside it, and a deploy just
// before it decides rework and incident links at its start.
const Lookback = 30 * 24 * time.Hour

// Load reads the inputs for q, with services and teams from cat.
func (l *Loader) Load(ctx context.Context, cat *catalog.Catalog, q Query) (Inputs, error) {
	services := selectServices(cat, q)
	names := make([]string, len(services))
	for i, s := range services {
		names[i] = s.Name
	}
	if len(names) == 0 {
		return Inputs{Services: services}, nil
	}
	env := q.Environment
	if env == "" {
		env = catalog.DefaultEnvironment
	}
	look := max(Lookback, l.Options.withDefaults().IncidentWindow, l.Options.withDefaults().ReworkWindow)
	var events []change.Event
	err := l.Changes.EachEvent(ctx, change.Filter{Services: names, Kinds: []string{change.KindDeploy, change.KindRollback, change.KindConfig, change.KindFlag},
		Environment: env, Since: q.From.Add(-look), Until: q.To}, func(e change.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		return Inputs{}, err
	}
	commits, err := l.Changes.Commits(ctx, change.CommitFilter{Services: names, Since: q.From.Add(-look - MaxLeadTime), Until: q.To})
	if err != nil {
		return Inputs{}, err
	}
	var incidents []Incident
	if l.Incidents != nil {
		incidents, err = l.Incidents.DORAIncidents(ctx, names, q.From.Add(-look), q.To)
		if err != nil {
			return Inputs{}, fmt.Errorf("incidents for dora: %w", err)
		}
	}
	return Build(services, events, commits, incidents), nil
}

// Report loads and computes the report for q: org-wide (or the service's,
// or the team's) with periods when q.By is set.
func (l *Loader) Report(ctx context.Context, cat *catalog.Catalog, q Query) (Report, error) {
	in, err := l.Load(ctx, cat, q)
	if err != nil {
		return Report{}, err
	}
	a := Analyze(in, l.Options)
	r := a.Report(q.From, q.To, nil)
	if q.By != "" {
		r.Periods = a.Periods(q.From, q.To, q.By, nil)
	}
	if len(q.Services) == 1 {
		r.Service = q.Services[0]
		if s, ok := cat.Service(r.Service); ok {
			r.Team = s.Team
		}
	}
	if q.Team != "" {
		r.Team = q.Team
	}
	r.Environment = q.Environment
	if r.Environment == "" {
		r.Environment = catalog.DefaultEnvironment
	}
	for i := range r.Periods {
		r.Periods[i].Service, r.Periods[i].Team, r.Periods[i].Environment = r.Service, r.Team, r.Environment
	}
	return r, nil
}

func selectServices(cat *catalog.Catalog, q Query) []Service {
	var out []Service
	switch {
	case q.Team != "":
		for _, n := range cat.ServicesOfTeam(q.Team) {
			s, _ := cat.Service(n)
			out = append(out, Service{Name: s.Name, Team: s.Team})
		}
	case len(q.Services) > 0:
		for _, n := range q.Services {
			team := ""
			if s, ok := cat.Service(n); ok {
				team = s.Team
			}
			out = append(out, Service{Name: n, Team: team})
		}
	default:
		for _, s := range cat.Services {
			out = append(out, Service{Name: s.Name, Team: s.Team})
		}
	}
	return out
}
