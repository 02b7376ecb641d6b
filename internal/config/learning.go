package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/okr"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/toil"
)

// LearningSection holds the top-level keys of a tandem document for
// postmortems, action items, toil and reliability OKRs:
//
//	postmortems: {min_severity, services, lookback, fields, publish}
//	toil_goals: [{name, category, service, team, person, baseline_hours, reduce_by, target_hours, window, start, deadline}]
//	objectives: [{name, title, team, quarter, key_results: [{name, kind, target, start, slo, services, budget_threshold, label, category}]}]
//
// Postmortem templates are files in tandem.d/templates/: default.md
// replaces the built-in template, <team>.md is that team's.
type LearningSection struct {
	// Postmortems configures which closed incidents get a postmortem, what
	// it lists and where it is published. At most one document may set it.
	Postmortems *PostmortemsYAML `yaml:"postmortems"`
	// ToilGoals are toil reduction goals, measured against the toil log.
	ToilGoals []ToilGoalYAML `yaml:"toil_goals"`
	// Objectives are reliability OKRs: each key result is bound to a metric
	// tandem computes.
	Objectives []ObjectiveYAML `yaml:"objectives"`
}

// PostmortemsYAML is the postmortems section.
type PostmortemsYAML struct {
	// MinSeverity is the least severe closed incident that gets a
	// postmortem, sev1…sev4 (default sev1).
	MinSeverity string `yaml:"min_severity"`
	// Services are the min_severity of single services, as in checkout:
	// sev2; an incident on several services takes the most inclusive.
	Services map[string]string `yaml:"services"`
	// Lookback is how long before an incident's start its changes are
	// listed, a duration up to 30d (default 6h).
	Lookback string `yaml:"lookback"`
	// Fields are extra template data per team, as .Extra.<name> in the
	// template; the team "*" is every team.
	Fields map[string]map[string]string `yaml:"fields"`
	// RemindEvery is how often overdue action items are looked for, a
	// duration of at least 1m (default 1h).
	RemindEvery string `yaml:"remind_every"`
	// Publish says where published postmortems go.
	Publish PublishYAML `yaml:"publish"`
}

// PublishYAML says where published postmortems go.
type PublishYAML struct {
	// Directory receives each published postmortem as a Markdown file;
	// relative to the config directory unless absolute.
	Directory string `yaml:"directory"`
	// GitHub files each published postmortem as a GitHub issue, and
	// updates that issue when it is published again.
	GitHub *GitHubYAML `yaml:"github"`
}

// GitHubYAML configures GitHub issue publishing.
type GitHubYAML struct {
	// Repository is the owner/name repository the issues are filed in
	// (required).
	Repository string `yaml:"repository"`
	// APIURL is GitHub's API URL, https://HOST/api/v3 for GitHub Enterprise
	// Server (default https://api.github.com).
	APIURL string `yaml:"api_url"`
	// TokenEnv names the environment variable holding the API token, read
	// when publishing (default GITHUB_TOKEN).
	TokenEnv string `yaml:"token_env"`
	// Labels are the labels every issue gets.
	Labels []string `yaml:"labels"`
}

// ToilGoalYAML is one toil reduction goal.
type ToilGoalYAML struct {
	// Name identifies the goal (required), unique.
	Name string `yaml:"name"`
	// Description is free text about the goal.
	Description string `yaml:"description"`
	// Category counts only toil of this category (lowercased, spaces
	// become dashes).
	Category string `yaml:"category"`
	// Service counts only toil logged on this service.
	Service string `yaml:"service"`
	// Team counts only toil of this team.
	Team string `yaml:"team"`
	// Person counts only toil this person logged.
	Person string `yaml:"person"`
	// BaselineHours is the hours of toil per window before the goal, not
	// negative (default: measured in the window before start).
	BaselineHours float64 `yaml:"baseline_hours"`
	// ReduceBy is the planned cut, a percentage between 0 and 100 such as
	// 80%. Give reduce_by or target_hours (one is required).
	ReduceBy string `yaml:"reduce_by"`
	// TargetHours is the goal as hours of toil per window, in place of
	// reduce_by.
	TargetHours float64 `yaml:"target_hours"`
	// Window is the span toil is measured over, a duration of at least 1d
	// (default 30d).
	Window string `yaml:"window"`
	// Start is a date, YYYY-MM-DD, on which the goal begins (required).
	Start string `yaml:"start"`
	// Deadline is a date, YYYY-MM-DD after start, by which the goal is due
	// (required).
	Deadline string `yaml:"deadline"`
}

// ObjectiveYAML is one objective.
type ObjectiveYAML struct {
	// Name identifies the objective (required), unique.
	Name string `yaml:"name"`
	// Title is how the objective is shown (default: its name).
	Title string `yaml:"title"`
	// Description is free text about the objective.
	Description string `yaml:"description"`
	// Team names the team the objective belongs to; without it the
	// objective is shared across teams.
	Team string `yaml:"team"`
	// Quarter is the objective's quarter, YYYYQn such as 2026Q4 (required).
	Quarter string `yaml:"quarter"`
	// KeyResults are how the objective is measured (required): at least
	// one.
	KeyResults []KeyResultYAML `yaml:"key_results"`
}

// KeyResultYAML is one key result.
type KeyResultYAML struct {
	// Name identifies the key result within its objective (default krN, N
	// its position from 1).
	Name string `yaml:"name"`
	// Title is how the key result is shown (default: its name).
	Title string `yaml:"title"`
	// Kind is the metric (required): slo_attainment, change_failure_rate,
	// recovery_time, time_to_detect, deploy_frequency, safe_launches or
	// toil_hours.
	Kind string `yaml:"kind"`
	// Target is the bound to reach in the kind's unit (required), such as
	// "> 99.95%", "< 30m", ">= 3/day", "< 40h", or "reduce 30%".
	Target string `yaml:"target"`
	// Start is the value the quarter started from, in the target's unit;
	// the score then runs linearly from start to target.
	Start string `yaml:"start"`
	// SLO names the one SLO a slo_attainment or safe_launches key result
	// measures (default: every SLO in scope, the worst counting).
	SLO string `yaml:"slo"`
	// Services are the key result's scope (default: the objective's team's
	// services, or every service for a shared objective).
	Services []string `yaml:"services"`
	// BudgetThreshold is the share of error budget a launch may spend in
	// 24h and count as safe, a percentage (default 5%); safe_launches only.
	BudgetThreshold string `yaml:"budget_threshold"`
	// Label marks the deploys that are launches (default feature);
	// safe_launches only.
	Label string `yaml:"label"`
	// Category counts only toil of this category; toil_hours only.
	Category string `yaml:"category"`
}

// LearningConfig is the validated config for postmortems, action items,
// toil and reliability OKRs.
type LearningConfig struct {
	Postmortem PostmortemConfig
	ToilGoals  []toil.Goal
	Objectives []okr.Objective

	pm         []entry[PostmortemsYAML]
	goals      []entry[ToilGoalYAML]
	objectives []entry[ObjectiveYAML]
}

// PostmortemConfig is the validated postmortems section with its templates.
type PostmortemConfig struct {
	MinSeverity     string
	ServiceSeverity map[string]string
	Lookback        time.Duration
	Fields          map[string]map[string]string // team ("" for all) → name → value
	RemindEvery     time.Duration
	Directory       string
	GitHub          *GitHubYAML
	Templates       postmortem.Templates
	// TemplateFiles maps "default" and team names to their files.
	TemplateFiles map[string]string
}

// collectLearning files the section's items of one document, with their nodes.
func (l *loader) collectLearning(file string, root *yaml.Node, d *document) {
	lc := &l.cfg.Learning
	if d.Postmortems != nil {
		lc.pm = append(lc.pm, entry[PostmortemsYAML]{*d.Postmortems, file, at(root, "postmortems")})
	}
	for i, g := range d.ToilGoals {
		lc.goals = append(lc.goals, entry[ToilGoalYAML]{g, file, item(at(root, "toil_goals"), i)})
	}
	for i, o := range d.Objectives {
		lc.objectives = append(lc.objectives, entry[ObjectiveYAML]{o, file, item(at(root, "objectives"), i)})
	}
}

func validSeverity(s string) bool {
	switch s {
	case "sev1", "sev2", "sev3", "sev4":
		return true
	}
	return false
}

func (l *loader) knownService(file string, node *yaml.Node, field, path, name string) bool {
	cat := l.cfg.Catalog
	if _, ok := cat.Service(name); ok {
		return true
	}
	msg := fmt.Sprintf("service %q does not exist", name)
	if c := catalog.Closest(name, cat.ServiceNames(), 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(c), ", ") + "?"
	}
	l.errAt(file, node, field, path, "%s", msg)
	return false
}

func (l *loader) knownTeam(file string, node *yaml.Node, field, path, name string) bool {
	cat := l.cfg.Catalog
	if _, ok := cat.Team(name); ok {
		return true
	}
	var names []string
	for _, t := range cat.Teams {
		names = append(names, t.Name)
	}
	msg := fmt.Sprintf("team %q does not exist", name)
	if c := catalog.Closest(name, names, 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(c), ", ") + "?"
	}
	l.errAt(file, node, field, path, "%s", msg)
	return false
}

func parsePercent(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if !strings.HasSuffix(s, "%") {
		return 0, fmt.Errorf("want a percentage such as 80%%, got %q", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || f <= 0 || f >= 100 {
		return 0, fmt.Errorf("want a percentage between 0 and 100, got %q", s)
	}
	return f / 100, nil
}

// buildLearning validates the collected items (references into the catalog
// included) and fills l.cfg.Learning.
func (l *loader) buildLearning() {
	lc := &l.cfg.Learning
	pc := PostmortemConfig{MinSeverity: "sev1", ServiceSeverity: map[string]string{}, Lookback: 6 * time.Hour,
		Fields: map[string]map[string]string{}, RemindEvery: time.Hour, TemplateFiles: map[string]string{}}
	for i, e := range lc.pm {
		if i > 0 {
			l.errAt(e.file, e.node, "", "postmortems", "postmortems is defined twice; first at %s:%d", lc.pm[0].file, lc.pm[0].node.Line)
			continue
		}
		y := e.v
		if y.MinSeverity != "" {
			if !validSeverity(y.MinSeverity) {
				l.errAt(e.file, e.node, "min_severity", "postmortems.min_severity", "want sev1, sev2, sev3 or sev4, got %q", y.MinSeverity)
			}
			pc.MinSeverity = y.MinSeverity
		}
		for svc, sev := range y.Services {
			n := at(at(e.node, "services"), svc)
			if l.knownService(e.file, n, "", "postmortems.services."+svc, svc) && !validSeverity(sev) {
				l.errAt(e.file, n, "", "postmortems.services."+svc, "want sev1, sev2, sev3 or sev4, got %q", sev)
			}
			pc.ServiceSeverity[svc] = sev
		}
		if y.Lookback != "" {
			d, err := tandem.ParseDuration(y.Lookback)
			if err != nil || d <= 0 || d > 30*24*time.Hour {
				l.errAt(e.file, e.node, "lookback", "postmortems.lookback", "want a duration up to 30d such as 6h, got %q", y.Lookback)
			}
			pc.Lookback = d
		}
		if y.RemindEvery != "" {
			d, err := tandem.ParseDuration(y.RemindEvery)
			if err != nil || d < time.Minute {
				l.errAt(e.file, e.node, "remind_every", "postmortems.remind_every", "want a duration of at least 1m such as 1h, got %q", y.RemindEvery)
			}
			pc.RemindEvery = d
		}
		for team, fields := range y.Fields {
			key := team
			if team == "*" {
				key = ""
			} else {
				l.knownTeam(e.file, at(at(e.node, "fields"), team), "", "postmortems.fields."+team, team)
			}
			pc.Fields[key] = fields
		}
		if dir := y.Publish.Directory; dir != "" {
			if !filepath.IsAbs(dir) && l.dir != "" {
				dir = filepath.Join(l.dir, dir)
			}
			pc.Directory = dir
		}
		if gh := y.Publish.GitHub; gh != nil {
			pub := at(at(e.node, "publish"), "github")
			g := *gh
			if o, n, ok := strings.Cut(g.Repository, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
				l.errAt(e.file, pub, "repository", "postmortems.publish.github.repository", "want owner/name, got %q", g.Repository)
			}
			if g.APIURL != "" && !strings.HasPrefix(g.APIURL, "https://") && !strings.HasPrefix(g.APIURL, "http://") {
				l.errAt(e.file, pub, "api_url", "postmortems.publish.github.api_url", "want an http(s) URL such as https://github.example.com/api/v3, got %q", g.APIURL)
			}
			if g.TokenEnv == "" {
				g.TokenEnv = "GITHUB_TOKEN"
			}
			pc.GitHub = &g
		}
	}
	l.loadTemplates(&pc)
	lc.Postmortem = pc

	seenGoal := map[string]bool{}
	for _, e := range lc.goals {
		y := e.v
		path := "toil_goals." + y.Name
		if y.Name == "" {
			l.errAt(e.file, e.node, "", "toil_goals.name", "required")
			continue
		}
		if seenGoal[y.Name] {
			l.errAt(e.file, e.node, "name", path, "duplicate goal %q", y.Name)
			continue
		}
		seenGoal[y.Name] = true
		g := toil.Goal{Name: y.Name, Description: y.Description, Category: toil.NormalizeCategory(y.Category), Service: y.Service,
			Team: y.Team, Person: y.Person, BaselineHours: y.BaselineHours, TargetHours: y.TargetHours, Window: 30 * 24 * time.Hour}
		if y.Service != "" {
			l.knownService(e.file, e.node, "service", path+".service", y.Service)
		}
		if y.Team != "" {
			l.knownTeam(e.file, e.node, "team", path+".team", y.Team)
		}
		if y.Person != "" {
			if _, ok := l.cfg.Catalog.Person(y.Person); !ok {
				l.errAt(e.file, e.node, "person", path+".person", "person %q does not exist", y.Person)
			}
		}
		switch {
		case y.ReduceBy != "" && y.TargetHours != 0:
			l.errAt(e.file, e.node, "reduce_by", path+".reduce_by", "give reduce_by or target_hours, not both")
		case y.ReduceBy != "":
			r, err := parsePercent(y.ReduceBy)
			if err != nil {
				l.errAt(e.file, e.node, "reduce_by", path+".reduce_by", "%v", err)
			}
			g.ReduceBy = r
		case y.TargetHours < 0:
			l.errAt(e.file, e.node, "target_hours", path+".target_hours", "must not be negative")
		case y.TargetHours == 0:
			l.errAt(e.file, e.node, "", path+".reduce_by", "required: reduce_by (\"80%%\") or target_hours")
		}
		if y.BaselineHours < 0 {
			l.errAt(e.file, e.node, "baseline_hours", path+".baseline_hours", "must not be negative")
		}
		if y.Window != "" {
			w, err := tandem.ParseDuration(y.Window)
			if err != nil || w < 24*time.Hour {
				l.errAt(e.file, e.node, "window", path+".window", "want a duration of at least 1d such as 30d, got %q", y.Window)
			}
			g.Window = w
		}
		var err error
		if g.Start, err = time.Parse("2006-01-02", y.Start); err != nil {
			l.errAt(e.file, e.node, "start", path+".start", "want a date YYYY-MM-DD, got %q", y.Start)
		}
		if g.Deadline, err = time.Parse("2006-01-02", y.Deadline); err != nil {
			l.errAt(e.file, e.node, "deadline", path+".deadline", "want a date YYYY-MM-DD, got %q", y.Deadline)
		} else if !g.Deadline.After(g.Start) {
			l.errAt(e.file, e.node, "deadline", path+".deadline", "must be after start")
		}
		lc.ToilGoals = append(lc.ToilGoals, g)
	}

	seenObj := map[string]bool{}
	for _, e := range lc.objectives {
		y := e.v
		path := "objectives." + y.Name
		if y.Name == "" {
			l.errAt(e.file, e.node, "", "objectives.name", "required")
			continue
		}
		if seenObj[y.Name] {
			l.errAt(e.file, e.node, "name", path, "duplicate objective %q", y.Name)
			continue
		}
		seenObj[y.Name] = true
		o := okr.Objective{Name: y.Name, Title: y.Title, Description: y.Description, Team: y.Team}
		if o.Title == "" {
			o.Title = y.Name
		}
		if y.Team != "" {
			l.knownTeam(e.file, e.node, "team", path+".team", y.Team)
		}
		q, err := okr.ParseQuarter(y.Quarter)
		if err != nil {
			l.errAt(e.file, e.node, "quarter", path+".quarter", "%v", err)
		}
		o.Quarter = q
		if len(y.KeyResults) == 0 {
			l.errAt(e.file, e.node, "key_results", path+".key_results", "at least one key result is required")
		}
		seenKR := map[string]bool{}
		for i, k := range y.KeyResults {
			n := item(at(e.node, "key_results"), i)
			kpath := path + ".key_results[" + itoa(i) + "]"
			if k.Name == "" {
				k.Name = "kr" + itoa(i+1)
			}
			if seenKR[k.Name] {
				l.errAt(e.file, n, "name", kpath+".name", "duplicate key result %q", k.Name)
			}
			seenKR[k.Name] = true
			kind := okr.Kind(k.Kind)
			if !kind.Valid() {
				var names []string
				for _, x := range okr.Kinds {
					names = append(names, string(x))
				}
				l.errAt(e.file, n, "kind", kpath+".kind", "want one of %s, got %q", strings.Join(names, ", "), k.Kind)
				continue
			}
			kr := okr.KeyResult{Name: k.Name, Title: k.Title, Kind: kind, SLO: k.SLO, Services: k.Services, Label: k.Label, Category: toil.NormalizeCategory(k.Category)}
			if kr.Title == "" {
				kr.Title = k.Name
			}
			t, err := okr.ParseTarget(kind, k.Target)
			if err != nil {
				l.errAt(e.file, n, "target", kpath+".target", "%v", err)
			}
			kr.Target = t
			if k.Start != "" {
				v, err := okr.ParseValue(kind, k.Start)
				if err != nil {
					l.errAt(e.file, n, "start", kpath+".start", "%v", err)
				}
				kr.Start = &v
			}
			for j, svc := range k.Services {
				l.knownService(e.file, item(at(n, "services"), j), "", kpath+".services", svc)
			}
			if k.SLO != "" {
				if kind != okr.SLOAttainment && kind != okr.SafeLaunches {
					l.errAt(e.file, n, "slo", kpath+".slo", "slo applies to slo_attainment and safe_launches only")
				} else if _, ok := l.cfg.SLO.Get(k.SLO); !ok {
					var names []string
					for _, d := range l.cfg.SLO.Definitions {
						names = append(names, d.Name)
					}
					msg := fmt.Sprintf("SLO %q does not exist", k.SLO)
					if c := catalog.Closest(k.SLO, names, 3); len(c) > 0 {
						msg += "; did you mean " + strings.Join(quoteAll(c), ", ") + "?"
					}
					l.errAt(e.file, n, "slo", kpath+".slo", "%s", msg)
				}
			}
			if k.BudgetThreshold != "" {
				v, err := parsePercent(k.BudgetThreshold)
				if err != nil {
					l.errAt(e.file, n, "budget_threshold", kpath+".budget_threshold", "%v", err)
				}
				kr.BudgetThreshold = v
			}
			o.KeyResults = append(o.KeyResults, kr)
		}
		lc.Objectives = append(lc.Objectives, o)
	}
	sort.SliceStable(lc.Objectives, func(i, j int) bool { return lc.Objectives[i].Name < lc.Objectives[j].Name })
}

// templateExts are the file endings read from tandem.d/templates/.
var templateExts = []string{".md.tmpl", ".md", ".tmpl"}

// loadTemplates parses tandem.d/templates/*: default.md replaces the
// built-in template, <team>.md is a team's. A template that does not parse
// is an error at its file and line.
func (l *loader) loadTemplates(pc *PostmortemConfig) {
	pc.Templates.Team = map[string]*template.Template{}
	if l.dir == "" {
		return
	}
	dir := filepath.Join(l.dir, "templates")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return // no templates directory: the built-in template
	}
	for _, de := range ents {
		if de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		stem := ""
		for _, ext := range templateExts {
			if strings.HasSuffix(de.Name(), ext) {
				stem = strings.TrimSuffix(de.Name(), ext)
				break
			}
		}
		if stem == "" {
			continue
		}
		path := filepath.Join(dir, de.Name())
		if stem != "default" {
			if _, ok := l.cfg.Catalog.Team(stem); !ok {
				l.knownTeam(path, nil, "", "templates."+stem, stem)
				continue
			}
		}
		if prev, dup := pc.TemplateFiles[stem]; dup {
			l.errs = append(l.errs, Error{File: path, Message: fmt.Sprintf("a second template for %q; the first is %s", stem, prev)})
			continue
		}
		b, err := readLimited(path)
		if err != nil {
			l.errs = append(l.errs, Error{File: path, Message: err.Error()})
			continue
		}
		t, err := postmortem.ParseTemplate(de.Name(), string(b))
		if err != nil {
			e := Error{File: path, Field: "template", Message: err.Error()}
			if te, ok := err.(*postmortem.TemplateError); ok {
				e.Line, e.Message = te.Line, te.Message
			}
			l.errs = append(l.errs, e)
			continue
		}
		pc.TemplateFiles[stem] = path
		if stem == "default" {
			pc.Templates.Default = t
		} else {
			pc.Templates.Team[stem] = t
		}
	}
}
