// Package config loads and validates tandem.d/, the directory of YAML files
// that holds tandem's config as code: the catalog (teams, people, services,
// tools) and each capability's definitions (SLOs in OpenSLO, schedules,
// escalation policies, templates, goals).
//
// Load reads every *.yaml and *.yml file below the directory, each possibly
// holding several documents. A document with an apiVersion key is an OpenSLO
// document; any other is a tandem document whose top-level keys are the
// sections of the document type. Every problem found is reported at once,
// each with file, line, column and field.
//
// config sits above the capability packages: it decodes YAML into their
// types and checks references between them; they never import it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/catalog"
)

// maxFileSize bounds one config file; config is code, not data.
const maxFileSize = 4 << 20

// Config is a loaded, valid configuration. It is never modified after Load
// returns; a reload builds a new one.
type Config struct {
	Dir      string
	LoadedAt time.Time
	Catalog  *catalog.Catalog

	Change   ChangeConfig
	SLO      SLOConfig
	Oncall   OncallConfig
	Incident IncidentConfig
	Chatops  ChatopsConfig
	Gate     GateConfig
	Learning LearningConfig
	// Dashboard is where the dashboard links out to.
	Dashboard DashboardConfig
}

// document is one tandem YAML document. Each capability adds its section
// here and validates it in its own file of this package.
type document struct {
	// Teams are the groups of people that own services and tools.
	Teams []catalog.Team `yaml:"teams"`
	// People are everyone who owns something or can be paged.
	People []catalog.Person `yaml:"people"`
	// Services are what runs in production, each owned by a team.
	Services []catalog.Service `yaml:"services"`
	// Tools are what teams rely on (CI, Terraform, dashboards), each with a
	// primary owner and perhaps a backup, a team or a person.
	Tools []catalog.Tool `yaml:"tools"`

	ChangeSection    `yaml:",inline"`
	SLOSection       `yaml:",inline"`
	OncallSection    `yaml:",inline"`
	IncidentSection  `yaml:",inline"`
	GateSection      `yaml:",inline"`
	LearningSection  `yaml:",inline"`
	DashboardSection `yaml:",inline"`
}

// entry is a decoded item with where it came from, for error positions.
type entry[T any] struct {
	v    T
	file string
	node *yaml.Node
}

// docRef is a raw document awaiting a section-specific decoder.
type docRef struct {
	file string
	node *yaml.Node // the document's root mapping
}

type loader struct {
	dir  string
	errs Errors

	teams    []entry[catalog.Team]
	people   []entry[catalog.Person]
	services []entry[catalog.Service]
	tools    []entry[catalog.Tool]
	openslo  []docRef
	// src is each file's text, to locate errors inside a multi-line
	// scalar (a PromQL query written as a block).
	src map[string][]byte

	cfg *Config
}

// Load reads and validates the directory. On any problem it returns nil and
// an Errors value listing them all.
func Load(dir string, now time.Time) (*Config, error) {
	l := &loader{dir: dir, cfg: &Config{Dir: dir, LoadedAt: now}}
	files, err := l.files()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := readLimited(f)
		if err != nil {
			l.errs = append(l.errs, Error{File: f, Message: err.Error()})
			continue
		}
		l.parseFile(f, b)
	}
	l.build()
	if len(l.errs) > 0 {
		return nil, l.errs.sorted()
	}
	return l.cfg, nil
}

// Parse validates config given as in-memory files (name → content), for
// tests and fuzzing. Names are used as they are in error positions.
func Parse(files map[string][]byte, now time.Time) (*Config, error) {
	l := &loader{cfg: &Config{LoadedAt: now}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l.parseFile(n, files[n])
	}
	l.build()
	if len(l.errs) > 0 {
		return nil, l.errs.sorted()
	}
	return l.cfg, nil
}

func (l *loader) files() ([]string, error) {
	st, err := os.Stat(l.dir)
	if err != nil {
		return nil, fmt.Errorf("config directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("config directory: %s is not a directory", l.dir)
	}
	var files []string
	err = filepath.WalkDir(l.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != l.dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("config directory: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxFileSize)
	}
	return b, nil
}

var yamlLine = regexp.MustCompile(`line (\d+):?\s*(.*)`)

// parserErrors are yaml.v3's parser (not scanner) messages. For these it
// reports the line (of the enclosing block, or of the problem) counted from
// 0, and no line at all for the first; syntaxError makes it 1-based.
var parserErrors = []string{
	"did not find expected '-' indicator", "did not find expected key", "did not find expected node content",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected <document start>",
	"found incompatible YAML document", "found duplicate %YAML directive", "found duplicate %TAG directive",
	"found undefined tag handle",
}

// syntaxError turns a yaml.v3 syntax error into a 1-based line and message.
func syntaxError(msg string) (int, string) {
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil && strings.HasPrefix(msg, "line ") {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	for _, p := range parserErrors {
		if strings.HasPrefix(msg, p) {
			return line + 1, msg
		}
	}
	return line, msg
}

// parseFile decodes every document of one file and files its items.
func (l *loader) parseFile(file string, b []byte) {
	if l.src == nil {
		l.src = map[string][]byte{}
	}
	l.src[file] = b
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			e := Error{File: file}
			e.Line, e.Message = syntaxError(err.Error())
			l.errs = append(l.errs, e)
			return // the rest of a broken stream cannot be trusted
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue
		}
		if root.Kind != yaml.MappingNode {
			l.errs = append(l.errs, Error{File: file, Line: root.Line, Column: root.Column, Message: "a config document must be a mapping"})
			continue
		}
		if at(root, "apiVersion") != nil {
			l.openslo = append(l.openslo, docRef{file: file, node: root})
			continue
		}
		l.parseDocument(file, root)
	}
}

func (l *loader) parseDocument(file string, root *yaml.Node) {
	checkKnown(file, root, reflect.TypeOf(document{}), "", &l.errs)
	var d document
	if err := root.Decode(&d); err != nil {
		l.typeErrors(file, root, err)
	}
	// Items are collected even when the document has errors (yaml.v3 fills
	// what it could decode), so that one misspelt key does not also make
	// every reference to the document's names dangle. Any error keeps the
	// config from loading, so nothing half-decoded is ever served.
	for i, v := range d.Teams {
		l.teams = append(l.teams, entry[catalog.Team]{v, file, item(at(root, "teams"), i)})
	}
	for i, v := range d.People {
		l.people = append(l.people, entry[catalog.Person]{v, file, item(at(root, "people"), i)})
	}
	for i, v := range d.Services {
		l.services = append(l.services, entry[catalog.Service]{v, file, item(at(root, "services"), i)})
	}
	for i, v := range d.Tools {
		l.tools = append(l.tools, entry[catalog.Tool]{v, file, item(at(root, "tools"), i)})
	}
	l.collectChange(file, root, &d)
	l.collectSLO(file, root, &d)
	l.collectOncall(file, root, &d)
	l.collectIncident(file, root, &d)
	l.collectGate(file, root, &d)
	l.collectLearning(file, root, &d)
	l.collectDashboard(file, root, &d)
}

var (
	backticked      = regexp.MustCompile("`([^`]*)`")
	cannotUnmarshal = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `([^`]*)`)? into (.+)$")
)

// goTypeName says in words what a Go type takes in YAML.
func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "catalog.") || strings.Contains(t, "."):
		return "a mapping"
	}
	return t
}

// yamlTypeName says in words what a YAML node held.
func yamlTypeName(tag, value string) string {
	what := map[string]string{"!!str": "a string", "!!int": "an integer", "!!float": "a number", "!!bool": "a boolean",
		"!!seq": "a list", "!!map": "a mapping", "!!null": "nothing"}[tag]
	if what == "" {
		what = tag
	}
	if value != "" {
		what += " " + strconv.Quote(strings.TrimSuffix(value, "..."))
	}
	return what
}

// typeErrors turns yaml.v3's decoding errors into positioned ones, with the
// column and field of the value at fault.
func (l *loader) typeErrors(file string, root *yaml.Node, err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		e := Error{File: file, Message: strings.TrimPrefix(err.Error(), "yaml: ")}
		if root != nil {
			e.Line, e.Column = root.Line, root.Column
		}
		l.errs = append(l.errs, e)
		return
	}
	for _, msg := range te.Errors {
		e := Error{File: file, Message: msg}
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Message = m[2]
			value := ""
			if v := backticked.FindStringSubmatch(msg); v != nil {
				value = strings.TrimSuffix(v[1], "...")
			}
			e.Column, e.Field = locate(root, e.Line, value)
			if m := cannotUnmarshal.FindStringSubmatch(e.Message); m != nil {
				e.Message = fmt.Sprintf("expected %s, got %s", goTypeName(m[3]), yamlTypeName(m[1], m[2]))
			}
		}
		l.errs = append(l.errs, e)
	}
}

// errAt records an error at the key (or, when absent, the item) of node.
// missing reports that name, a kind ("team", "escalation policy"), is not
// among known, with the closest known names.
func (l *loader) missing(file string, node *yaml.Node, field, path, kind, name string, known []string) {
	msg := fmt.Sprintf("%s %q does not exist", kind, name)
	if c := catalog.Closest(name, known, 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(c), ", ") + "?"
	}
	l.errAt(file, node, field, path, "%s", msg)
}

func (l *loader) errAt(file string, node *yaml.Node, field, path, format string, args ...any) {
	e := Error{File: file, Field: path, Message: fmt.Sprintf(format, args...)}
	target := node
	if field != "" {
		if v := at(node, field); v != nil {
			target = v
		} else if k := keyAt(node, field); k != nil {
			target = k
		}
	}
	if target != nil {
		e.Line, e.Column = target.Line, target.Column
	}
	l.errs = append(l.errs, e)
}

// build validates the collected items and assembles the Config.
func (l *loader) build() {
	teams := checkNames(l, "teams", l.teams, func(t catalog.Team) string { return t.Name }, true)
	people := checkNames(l, "people", l.people, func(p catalog.Person) string { return p.Name }, true)
	services := checkNames(l, "services", l.services, func(s catalog.Service) string { return s.Name }, true)
	checkNames(l, "tools", l.tools, func(t catalog.Tool) string { return t.Name }, false)
	for n := range people {
		if _, clash := teams[n]; clash {
			e := l.people[people[n]]
			l.errAt(e.file, e.node, "name", "people."+n, "%q is also a team's name; owners are looked up by name, so teams and people need distinct names", n)
		}
	}

	names := func(m map[string]int) []string {
		out := make([]string, 0, len(m))
		for n := range m {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	dangling := func(file string, node *yaml.Node, field, path, kind, name string, known map[string]int) {
		l.missing(file, node, field, path, kind, name, names(known))
	}

	for _, e := range l.teams {
		for i, m := range e.v.Members {
			if _, ok := people[m]; !ok {
				dangling(e.file, item(at(e.node, "members"), i), "", "teams."+e.v.Name+".members", "person", m, people)
			}
		}
	}
	for _, e := range l.people {
		p := e.v
		if p.Email != "" && !strings.Contains(p.Email, "@") {
			l.errAt(e.file, e.node, "email", "people."+p.Name+".email", "expected an email address, got %q", p.Email)
		}
		if p.TimeZone != "" {
			if _, err := time.LoadLocation(p.TimeZone); err != nil {
				l.errAt(e.file, e.node, "timezone", "people."+p.Name+".timezone", "unknown time zone %q; expected an IANA name such as Europe/Berlin", p.TimeZone)
			}
		}
		if p.Team != "" {
			if _, ok := teams[p.Team]; !ok {
				dangling(e.file, e.node, "team", "people."+p.Name+".team", "team", p.Team, teams)
			}
		}
	}
	for i := range l.services {
		e := &l.services[i]
		s := e.v
		path := "services." + s.Name
		if s.Team == "" {
			l.errAt(e.file, e.node, "", path+".team", "required: the owning team")
		} else if _, ok := teams[s.Team]; !ok {
			dangling(e.file, e.node, "team", path+".team", "team", s.Team, teams)
		}
		if s.Tier < 0 || s.Tier > 4 {
			l.errAt(e.file, e.node, "tier", path+".tier", "expected a tier from 1 (most critical) to 4, got %d", s.Tier)
		}
		for j, dep := range s.DependsOn {
			n := item(at(e.node, "depends_on"), j)
			if dep == s.Name {
				l.errAt(e.file, n, "", path+".depends_on", "a service cannot depend on itself")
			} else if _, ok := services[dep]; !ok {
				dangling(e.file, n, "", path+".depends_on", "service", dep, services)
			}
		}
		if len(e.v.Environments) == 0 {
			e.v.Environments = []string{catalog.DefaultEnvironment}
		}
		if e.v.RevenuePerMinute < 0 {
			l.errAt(e.file, e.node, "revenue_per_minute", path+".revenue_per_minute", "must not be negative")
		}
	}
	owners := map[string]int{}
	for n := range teams {
		owners[n] = 0
	}
	for n := range people {
		owners[n] = 0
	}
	for _, e := range l.tools {
		t := e.v
		path := "tools." + t.Name
		if t.PrimaryOwner == "" {
			l.errAt(e.file, e.node, "", path+".primary_owner", "required: a team or person")
		} else if _, ok := owners[t.PrimaryOwner]; !ok {
			dangling(e.file, e.node, "primary_owner", path+".primary_owner", "owner (team or person)", t.PrimaryOwner, owners)
		}
		if t.BackupOwner != "" && t.BackupOwner == t.PrimaryOwner {
			l.errAt(e.file, e.node, "backup_owner", path+".backup_owner", "the backup owner must differ from the primary owner %q", t.PrimaryOwner)
		} else if t.BackupOwner != "" {
			if _, ok := owners[t.BackupOwner]; !ok {
				dangling(e.file, e.node, "backup_owner", path+".backup_owner", "owner (team or person)", t.BackupOwner, owners)
			}
		}
	}

	l.cfg.Catalog = catalog.New(values(l.teams), values(l.people), values(l.services), values(l.tools))
	l.loadOpenSLO()
	// Capabilities build in dependency order: later ones may check
	// references into earlier ones (a service's escalation policy, an
	// OKR's SLO).
	l.buildChange()
	l.buildSLO()
	l.buildOncall()
	l.buildIncident()
	l.buildChatops()
	l.buildGate()
	l.buildLearning()
	l.buildDashboard()
}

// namePattern is what a team, person or service may be called: the names
// appear in URL paths, CLI arguments and metric labels.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// checkNames reports empty, malformed (when strict) and duplicate names, and
// returns the index of the valid ones. Tools (strict false) may have any
// name, and two tools whose names differ only in case are duplicates.
func checkNames[T any](l *loader, section string, es []entry[T], name func(T) string, strict bool) map[string]int {
	seen := map[string]int{}
	for i, e := range es {
		n := name(e.v)
		if n == "" {
			l.errAt(e.file, e.node, "", section+"["+itoa(i)+"].name", "required: a name")
			continue
		}
		if strict && !namePattern.MatchString(n) {
			l.errAt(e.file, e.node, "name", section+"."+n, "invalid name %q: expected letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)", n)
			continue
		}
		key := n
		if !strict {
			key = strings.ToLower(n)
		}
		if j, dup := seen[key]; dup {
			first := es[j]
			pos := first.file
			if first.node != nil {
				pos += ":" + itoa(first.node.Line)
				if k := at(first.node, "name"); k != nil {
					pos = first.file + ":" + itoa(k.Line) + ":" + itoa(k.Column)
				}
			}
			l.errAt(e.file, e.node, "name", section+"."+n, "duplicate name %q; first defined at %s", n, pos)
			continue
		}
		seen[key] = i
	}
	return seen
}

func values[T any](es []entry[T]) []T {
	out := make([]T, len(es))
	for i, e := range es {
		out[i] = e.v
	}
	return out
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}

// Holder keeps the live config for a running server and swaps it on reload.
// Readers call Get and keep the pointer for the length of one request.
type Holder struct {
	dir string
	cur atomic.Pointer[Config]
	mu  sync.Mutex // one reload at a time, so an older load never wins
}

// NewHolder returns a Holder serving cfg, reloading from cfg.Dir.
func NewHolder(cfg *Config) *Holder {
	h := &Holder{dir: cfg.Dir}
	h.cur.Store(cfg)
	return h
}

// Get returns the live config.
func (h *Holder) Get() *Config { return h.cur.Load() }

// Reload loads the directory again. When it is invalid, the old config keeps
// serving and the errors are returned.
func (h *Holder) Reload(now time.Time) (*Config, error) {
	if h.dir == "" {
		return nil, fmt.Errorf("reload: config was not loaded from a directory")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	cfg, err := Load(h.dir, now)
	if err != nil {
		return nil, err
	}
	h.cur.Store(cfg)
	return cfg, nil
}
