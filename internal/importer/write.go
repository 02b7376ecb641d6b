package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

// File is one output file, named relative to the output directory.
type File struct {
	Name string
	Data []byte
}

// idsSuffix names the file in which an import records the source ids it
// mapped (pagerduty.ids.json); tandem's loader reads only YAML, so it is
// left alone by tandem serve and config validate.
const idsSuffix = ".ids.json"

// FileNames returns the names of the files a source writes: base.yaml and
// base.ids.json. Callers pass them to LoadExisting so that re-running an
// import with --force does not match the import against its own output.
func FileNames(base string) []string { return []string{base + ".yaml", base + idsSuffix} }

// LoadExisting reads what the output directory already defines: people
// with their emails, teams, services and the names of schedules,
// policies, SLOs and tools, and the ids earlier imports recorded. Files
// named in skip (relative to dir) are left out. A missing directory is
// empty. Documents that do not parse are skipped here; Write validates
// the whole directory afterwards and reports them.
func LoadExisting(dir string, skip []string) (*Existing, error) {
	ex := NewExisting()
	skipSet := map[string]bool{}
	for _, s := range skip {
		skipSet[filepath.ToSlash(s)] = true
	}
	files, err := configFiles(dir)
	if err != nil {
		return nil, err
	}
	for rel, path := range files {
		if skipSet[rel] {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(rel, idsSuffix) {
			var ids map[string]map[string]string
			if json.Unmarshal(b, &ids) == nil {
				for kind, m := range ids {
					if ex.IDs[kind] == nil {
						ex.IDs[kind] = map[string]string{}
					}
					for k, v := range m {
						ex.IDs[kind][k] = v
					}
				}
			}
			continue
		}
		ex.scan(b)
	}
	return ex, nil
}

// configFiles lists the YAML files (and *.ids.json) under dir the way the
// config loader reads it: subdirectories included, dot directories
// skipped. Keys are slash-separated paths relative to dir.
func configFiles(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(p)
		if ext == ".yaml" || ext == ".yml" || strings.HasSuffix(p, idsSuffix) {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = p
		}
		return nil
	})
	return out, err
}

// looseDoc is the part of a tandem or OpenSLO document LoadExisting reads.
type looseDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Teams    []struct{ Name string } `yaml:"teams"`
	People   []struct{ Name, Email string }
	Services []struct{ Name string }
	Tools    []struct{ Name string }
	Sched    []struct{ Name string } `yaml:"schedules"`
	Policies []struct{ Name string } `yaml:"escalation_policies"`
	SLOs     []struct{ Name string } `yaml:"slos"`
	Settings struct {
		PrometheusURL string `yaml:"prometheus_url"`
	} `yaml:"slo_settings"`
}

func (ex *Existing) add(kind, name string) {
	if ex.Names[kind] == nil {
		ex.Names[kind] = map[string]bool{}
	}
	ex.Names[kind][name] = true
}

func (ex *Existing) scan(b []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return // io.EOF or a syntax error: validation reports the latter
		}
		var d looseDoc
		if n.Decode(&d) != nil {
			continue
		}
		if d.APIVersion != "" {
			if d.Kind == "SLO" && d.Metadata.Name != "" {
				ex.add("slo", d.Metadata.Name)
			}
			continue
		}
		for _, t := range d.Teams {
			ex.Teams[t.Name] = true
			ex.add("entity", t.Name)
		}
		for _, p := range d.People {
			ex.add("entity", p.Name)
			if p.Email != "" {
				ex.People[strings.ToLower(p.Email)] = p.Name
			}
		}
		for _, s := range d.Services {
			ex.Services[s.Name] = true
			ex.add("service", s.Name)
		}
		for _, t := range d.Tools {
			ex.add("tool", strings.ToLower(t.Name))
		}
		for _, s := range d.Sched {
			ex.add("schedule", s.Name)
		}
		for _, p := range d.Policies {
			ex.add("policy", strings.ToLower(p.Name))
		}
		for _, s := range d.SLOs {
			ex.add("slo", s.Name)
		}
		if d.Settings.PrometheusURL != "" {
			ex.PrometheusURL = d.Settings.PrometheusURL
		}
	}
}

// tandemDoc is the tandem document an import writes.
type tandemDoc struct {
	Teams              []catalog.Team             `yaml:"teams,omitempty"`
	People             []catalog.Person           `yaml:"people,omitempty"`
	Services           []catalog.Service          `yaml:"services,omitempty"`
	Tools              []catalog.Tool             `yaml:"tools,omitempty"`
	Schedules          []config.ScheduleSpec      `yaml:"schedules,omitempty"`
	EscalationPolicies []oncall.Policy            `yaml:"escalation_policies,omitempty"`
	AckTimeouts        []config.ServiceAckTimeout `yaml:"ack_timeouts,omitempty"`
}

// Render turns a result into the files it is written as: base.yaml (the
// tandem document, then the OpenSLO documents) and base.ids.json when the
// import recorded source ids. header is a comment put at the top.
func Render(r *Result, base, header string) ([]File, error) {
	var buf bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		buf.WriteString("# " + line + "\n")
	}
	var docs []any
	doc := tandemDoc{Teams: r.Teams, People: r.People, Services: r.Services, Tools: r.Tools,
		Schedules: r.Schedules, EscalationPolicies: r.Policies, AckTimeouts: r.AckTimeouts}
	if len(doc.Teams)+len(doc.People)+len(doc.Services)+len(doc.Tools)+len(doc.Schedules)+len(doc.EscalationPolicies)+len(doc.AckTimeouts) > 0 {
		docs = append(docs, doc)
	}
	if r.DataSource != nil {
		docs = append(docs, r.DataSource)
	}
	for _, s := range r.SLOs {
		docs = append(docs, s)
	}
	if len(docs) == 0 {
		buf.WriteString("{}\n") // nothing imported: an empty document, which loads
	} else {
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		for _, d := range docs {
			if err := enc.Encode(d); err != nil {
				return nil, err
			}
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	files := []File{{Name: base + ".yaml", Data: buf.Bytes()}}
	if len(r.IDs) > 0 {
		b, err := json.MarshalIndent(r.IDs, "", "  ")
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: base + idsSuffix, Data: append(b, '\n')})
	}
	return files, nil
}

// WriteOptions says where and how Write writes.
type WriteOptions struct {
	Dir    string
	DryRun bool // print the files instead of writing them
	Force  bool // overwrite files that exist
	// Log receives what was (or would be) written.
	Log io.Writer
}

// ErrExists is returned (wrapped) when an output file exists and Force is
// not set.
var ErrExists = errors.New("output file exists")

// Write validates the files together with the YAML the directory already
// holds and then writes them (or, with DryRun, prints them). Nothing is
// written when a file exists without Force or when the combined config
// does not validate; the error then lists every problem.
func Write(files []File, o WriteOptions) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	var exists []string
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(o.Dir, f.Name)); err == nil {
			exists = append(exists, filepath.Join(o.Dir, f.Name))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if len(exists) > 0 && !o.Force {
		return fmt.Errorf("%w: %s (pass --force to overwrite)", ErrExists, strings.Join(exists, ", "))
	}
	if err := validate(files, o.Dir); err != nil {
		return err
	}
	if o.DryRun {
		for _, f := range files {
			fmt.Fprintf(o.Log, "--- would write %s (%d bytes)\n%s", filepath.Join(o.Dir, f.Name), len(f.Data), f.Data)
		}
		return nil
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(o.Dir, f.Name), f.Data, o.Force); err != nil {
			return err
		}
		fmt.Fprintf(o.Log, "wrote %s\n", filepath.Join(o.Dir, f.Name))
	}
	return nil
}

// validate loads the directory's YAML with the new files in place of any
// of the same name, as tandem config validate would.
func validate(files []File, dir string) error {
	all := map[string][]byte{}
	existing, err := configFiles(dir)
	if err != nil {
		return err
	}
	for rel, p := range existing {
		if strings.HasSuffix(rel, idsSuffix) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		all[rel] = b
	}
	for _, f := range files {
		if strings.HasSuffix(f.Name, idsSuffix) {
			continue
		}
		all[f.Name] = f.Data
	}
	if _, err := config.Parse(all, time.Now()); err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			lines := make([]string, len(errs))
			for i, e := range errs {
				lines[i] = "  " + e.String()
			}
			return fmt.Errorf("the import would leave %s invalid, so nothing was written:\n%s", dir, strings.Join(lines, "\n"))
		}
		return err
	}
	return nil
}

// writeAtomic writes b to path through a temporary file in the same
// directory, so a reader sees the old file or the new one, never half of
// it. Without replace the new file is linked into place, which fails if
// path has come to exist since Write looked: it is never overwritten.
func writeAtomic(path string, b []byte, replace bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a rename or link: already gone, or a second name
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if replace {
		return os.Rename(tmp.Name(), path)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s (pass --force to overwrite)", ErrExists, path)
		}
		return err
	}
	return nil
}
